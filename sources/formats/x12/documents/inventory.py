"""846 Inventory Inquiry/Advice: a supplier's stock, item by item, optionally per warehouse."""

from __future__ import annotations

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
    description,
    identifiers,
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


def read_inventory_advice(body: list[Segment], note: Note) -> InventoryAdvice:
    """Read the segments between ST and SE of an 846.

    The item segments come first in the chain because a feed holds hundreds of thousands of them.
    """
    document = InventoryAdvice()
    item: InventoryItem | None = None
    party: Party | None = None
    for segment in body:
        elements = segment.elements
        tag = elements[0]
        if tag == "LIN":
            item = InventoryItem(identifiers(segment, 2), elements[1] if len(elements) > 1 else "")
            document.items.append(item)
            party = None
        elif item is not None and tag == "QTY":
            unit = elements[3] if len(elements) > 3 else ""
            item.quantities.append(Quantity(segment.get(1), number(segment, 2, note), unit))
        elif item is not None and tag == "CTP":
            item.prices.append(Price(segment.get(2), number(segment, 3, note), segment.get(1)))
        elif item is not None and tag == "SCH":
            get = segment.get
            item.warehouses.append(WarehouseQuantity(number(segment, 1, note), get(2), get(3), get(4), get(5), get(6)))
        elif item is not None and tag == "PID":
            item.description = item.description or description(segment)
        elif item is not None and tag == "UIT" and item.quantities and not item.quantities[-1].unit:
            item.quantities[-1].unit = segment.get(1)
        elif party is not None and party.read_detail(segment):
            continue
        elif tag == "REF":
            (item.references if item else document.references).append(Reference.read(segment))
        elif tag == "DTM":
            (item.dates if item else document.dates).append(DateTime.read(segment))
        elif tag == "N1" and item is None:
            party = Party.read(segment)
            document.parties.append(party)
        elif tag == "BIA":
            get = segment.get
            document.purpose, document.report_type, document.reference = get(1), get(2), get(3)
            document.date, document.time = get(4), get(5)
        elif tag == "CTT":
            count = number(segment, 1, note)
            if count is not None and count != len(document.items):
                note("ctt_count_mismatch", f"CTT01 says {count} items, the 846 has {len(document.items)}", segment, 1)
    return document


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
