"""846 Inventory Inquiry/Advice: a supplier's stock, item by item, optionally per warehouse."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import ClassVar

from ..tokenizer import Segment
from .common import (
    DateTime,
    Elements,
    Note,
    Party,
    Reference,
    number,
    trim,
    write_description,
    write_identifiers,
    write_number,
)

ON_HAND = ("33", "17")  # quantity available for sale, then quantity on hand


@dataclass(slots=True)
class Quantity:
    """A QTY: qualifier (33 available, 17 on hand, 63 on order, …), amount and unit (QTY03 or a following UIT)."""

    qualifier: str
    quantity: Decimal | None
    unit: str = ""


@dataclass(slots=True)
class Price:
    """A CTP: class of trade, price qualifier (CON cost, MSR suggested retail, ACT, …) and unit price."""

    qualifier: str
    amount: Decimal | None
    class_of_trade: str = ""


@dataclass(slots=True)
class WarehouseQuantity:
    """An SCH line of the stock breakdown: quantity at one warehouse (SCH04 name, SCH03 entity code)."""

    quantity: Decimal | None
    unit: str = ""
    entity_code: str = ""
    warehouse: str = ""
    date_qualifier: str = ""
    date: str = ""


@dataclass(slots=True)
class InventoryItem:
    """One LIN loop: identifiers by qualifier (UP, VN, VP, BP, SK, EN, …), quantities, prices, warehouses."""

    identifiers: dict[str, str]
    line_number: str = ""
    description: str = ""
    quantities: list[Quantity] = field(default_factory=list)
    prices: list[Price] = field(default_factory=list)
    warehouses: list[WarehouseQuantity] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    dates: list[DateTime] = field(default_factory=list)

    def quantity(self, *qualifiers: str) -> Decimal | None:
        """Return the first quantity with one of ``qualifiers`` (default: available, then on hand)."""
        for qualifier in qualifiers or ON_HAND:
            for quantity in self.quantities:
                if quantity.qualifier == qualifier:
                    return quantity.quantity
        return None

    def price(self, qualifier: str) -> Decimal | None:
        return next((price.amount for price in self.prices if price.qualifier == qualifier), None)


@dataclass
class InventoryAdvice:
    """An 846. ``report_type`` (BIA02) tells a full snapshot (DD) from a change report (CM/DM)."""

    SET_ID: ClassVar[str] = "846"

    purpose: str = "00"
    report_type: str = "DD"
    reference: str = ""
    date: str = ""
    time: str = ""
    parties: list[Party] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    dates: list[DateTime] = field(default_factory=list)
    items: list[InventoryItem] = field(default_factory=list)


def read_inventory_advice(body: Iterable[Segment], note: Note) -> InventoryAdvice:
    """Read the segments between ST and SE of an 846."""
    segments = list(body)
    first = segments[0].position if segments else 1
    return read_inventory_rows((segment.elements for segment in segments), first, note)


def read_inventory_rows(rows: Iterable[list[str]], first_position: int, note: Note) -> InventoryAdvice:
    """Read the segments between ST and SE of an 846, given as element lists from ``first_position`` on.

    A feed holds hundreds of thousands of items, so the item segments come first in the chain and are read
    without building a Segment; numbers and short codes that repeat are shared rather than parsed again
    (one Decimal for every "9.99", one "EA"). A Segment is built only to note what is wrong.
    """
    document = InventoryAdvice()
    items = document.items
    item: InventoryItem | None = None
    party: Party | None = None
    decimals: dict[str, Decimal] = {}
    codes: dict[str, str] = {}
    code = codes.setdefault

    def decimal(elements: list[str], index: int, row: int) -> Decimal | None:
        text = elements[index] if index < len(elements) else ""
        if not text:
            return None
        value = decimals.get(text)
        if value is None:
            value = number(Segment(elements, first_position + row), index, note)
            if value is not None and len(decimals) < SHARED_NUMBERS:
                decimals[text] = value
        return value

    for row, elements in enumerate(rows):
        tag = elements[0]
        size = len(elements)
        if tag == "LIN":
            ids: dict[str, str] = {}
            for index in range(2, size - 1, 2):
                qualifier = elements[index]
                if qualifier and qualifier not in ids:
                    ids[code(qualifier, qualifier)] = elements[index + 1]
            item = InventoryItem(ids, elements[1] if size > 1 else "")
            items.append(item)
            party = None
        elif item is not None and tag == "QTY":
            qualifier = code(elements[1], elements[1]) if size > 1 else ""
            unit = code(elements[3], elements[3]) if size > 3 else ""
            item.quantities.append(Quantity(qualifier, decimal(elements, 2, row), unit))
        elif item is not None and tag == "CTP":
            qualifier = code(elements[2], elements[2]) if size > 2 else ""
            trade = code(elements[1], elements[1]) if size > 1 else ""
            item.prices.append(Price(qualifier, decimal(elements, 3, row), trade))
        elif item is not None and tag == "PID":
            item.description = item.description or (elements[5] if size > 5 else "")
        else:
            segment = Segment(elements, first_position + row)
            party = _read_other(document, item, party, segment, note, decimal, row)
    return document


SHARED_NUMBERS = 4096  # how many distinct numbers one 846 shares; past that each is parsed on its own


def _read_other(
    document: InventoryAdvice,
    item: InventoryItem | None,
    party: Party | None,
    segment: Segment,
    note: Note,
    decimal: Callable[[list[str], int, int], Decimal | None],
    row: int,
) -> Party | None:
    """Read a segment other than LIN/QTY/CTP/PID of an item; return the N1 loop open after it."""
    elements, tag, get = segment.elements, segment.tag, segment.get
    if item is not None and tag == "SCH":
        item.warehouses.append(WarehouseQuantity(decimal(elements, 1, row), get(2), get(3), get(4), get(5), get(6)))
    elif item is not None and tag == "UIT" and item.quantities and not item.quantities[-1].unit:
        item.quantities[-1].unit = get(1)
    elif party is not None and party.read_detail(segment):
        pass
    elif tag == "REF":
        (item.references if item else document.references).append(Reference.read(segment))
    elif tag == "DTM":
        (item.dates if item else document.dates).append(DateTime.read(segment))
    elif tag == "N1" and item is None:
        party = Party.read(segment)
        document.parties.append(party)
    elif tag == "BIA":
        document.purpose, document.report_type, document.reference = get(1), get(2), get(3)
        document.date, document.time = get(4), get(5)
    elif tag == "CTT":
        count = number(segment, 1, note)
        if count is not None and count != len(document.items):
            note("ctt_count_mismatch", f"CTT01 says {count} items, the 846 has {len(document.items)}", segment, 1)
    return party


def write_inventory_advice(document: InventoryAdvice) -> list[Elements]:
    """Return the segments between ST and SE of an 846."""
    segments = [trim(["BIA", document.purpose, document.report_type, document.reference, document.date, document.time])]
    segments += [date.write() for date in document.dates]
    segments += [reference.write() for reference in document.references]
    for party in document.parties:
        segments += party.write()
    for item in document.items:
        segments.append(trim(["LIN", item.line_number, *write_identifiers(item.identifiers)]))
        segments += write_description(item.description)
        segments += [reference.write() for reference in item.references]
        segments += [date.write() for date in item.dates]
        segments += [trim(["CTP", p.class_of_trade, p.qualifier, write_number(p.amount)]) for p in item.prices]
        segments += [trim(["QTY", q.qualifier, write_number(q.quantity), q.unit]) for q in item.quantities]
        for w in item.warehouses:
            segments.append(
                trim(["SCH", write_number(w.quantity), w.unit, w.entity_code, w.warehouse, w.date_qualifier, w.date])
            )
    segments.append(["CTT", str(len(document.items))])
    return segments
