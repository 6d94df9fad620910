"""856 Ship Notice/Manifest: a hierarchy of shipment, orders, packs and items, with tracking numbers."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import ClassVar

from ..tokenizer import Segment
from .common import (
    Carrier,
    DateTime,
    Elements,
    Note,
    Party,
    Reference,
    description,
    identifiers,
    integer,
    number,
    trim,
    write_description,
    write_identifiers,
    write_number,
)

# Level codes from the top of the hierarchy down; a level without HL02 hangs under the nearest one above it.
LEVEL_RANK = {"S": 0, "O": 1, "T": 2, "P": 3, "I": 4}
TRACKING_MARKS = frozenset({"2I", "CP", "AA", "CA"})  # MAN qualifiers that carry a carrier's tracking number
TRACKING_REFERENCES = frozenset({"CN", "BM"})  # REF: carrier's reference (PRO) and bill of lading


@dataclass
class Mark:
    """A MAN: qualifier (GM SSCC-18 label, 2I/CP carrier tracking, …) and the number."""

    qualifier: str
    number: str


@dataclass
class ShipLevel:
    """One HL level (S shipment, O order, P pack, I item) and what its segments say.

    ``parent_id`` is HL02, or when HL02 is missing the level inferred from the codes and their order.
    """

    id: str
    parent_id: str
    code: str
    purchase_order: str = ""
    purchase_order_date: str = ""
    line_number: str = ""
    identifiers: dict[str, str] = field(default_factory=dict)
    shipped_quantity: Decimal | None = None
    unit: str = ""
    ordered_quantity: Decimal | None = None
    description: str = ""
    references: list[Reference] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)
    carriers: list[Carrier] = field(default_factory=list)
    dates: list[DateTime] = field(default_factory=list)
    parties: list[Party] = field(default_factory=list)
    parent_inferred: bool = field(default=False, compare=False)

    def tracking_numbers(self) -> list[str]:
        """Tracking numbers carried at this level: MAN 2I/CP/AA/CA, then REF CN/BM."""
        marks = [mark.number for mark in self.marks if mark.qualifier in TRACKING_MARKS]
        return marks + [ref.value for ref in self.references if ref.qualifier in TRACKING_REFERENCES]


@dataclass
class ShipNotice:
    """An 856: BSN header and the HL levels in file order."""

    SET_ID: ClassVar[str] = "856"

    purpose: str = "00"
    shipment_id: str = ""
    date: str = ""
    time: str = ""
    structure: str = ""
    dates: list[DateTime] = field(default_factory=list)
    levels: list[ShipLevel] = field(default_factory=list)
    level_count: int | None = field(default=None, compare=False)  # CTT01 as read

    def children(self, level: ShipLevel) -> list[ShipLevel]:
        return [child for child in self.levels if child.parent_id == level.id]

    def levels_of(self, code: str) -> list[ShipLevel]:
        """Return the levels with code ``code`` ("S", "O", "P", "I")."""
        return [level for level in self.levels if level.code == code]

    def ancestor(self, level: ShipLevel, code: str) -> ShipLevel | None:
        """Return the nearest level above ``level`` with ``code`` (the order an item ships for, …)."""
        by_id = {candidate.id: candidate for candidate in self.levels}
        seen: set[str] = set()
        current = by_id.get(level.parent_id)
        while current is not None and current.id not in seen:
            if current.code == code:
                return current
            seen.add(current.id)
            current = by_id.get(current.parent_id)
        return None

    def tracking_numbers(self) -> list[str]:
        """All tracking numbers in the notice, each once, in file order."""
        return list(dict.fromkeys(number for level in self.levels for number in level.tracking_numbers()))

    def purchase_orders(self) -> list[str]:
        return [level.purchase_order for level in self.levels if level.purchase_order]


def read_ship_notice(body: list[Segment], note: Note) -> ShipNotice:
    """Read the segments between ST and SE of an 856, building the hierarchy from HL01/HL02 or, without HL02, from
    the level codes and their order."""
    document = ShipNotice()
    level: ShipLevel | None = None
    party: Party | None = None
    open_levels: list[ShipLevel] = []  # the current path from the top, for levels without HL02
    for segment in body:
        tag, get = segment.tag, segment.get
        if tag == "HL":
            level = ShipLevel(get(1), get(2), get(3))
            party = None
            _place(level, open_levels, document, segment, note)
            document.levels.append(level)
        elif party is not None and party.read_detail(segment):
            continue
        elif tag == "DTM":
            (level.dates if level else document.dates).append(DateTime.read(segment))
        elif level is None:
            if tag == "BSN":
                document.purpose, document.shipment_id, document.date = get(1), get(2), get(3)
                document.time, document.structure = get(4), get(5)
        elif tag == "N1":
            party = Party.read(segment)
            level.parties.append(party)
        elif tag == "REF":
            level.references.append(Reference.read(segment))
        elif tag == "MAN":
            level.marks.append(Mark(get(1), get(2)))
        elif tag == "TD5":
            level.carriers.append(Carrier.read(segment))
        elif tag == "PRF":
            level.purchase_order, level.purchase_order_date = get(1), get(4)
        elif tag == "LIN":
            level.line_number, level.identifiers = get(1), identifiers(segment, 2)
        elif tag == "SN1":
            level.shipped_quantity, level.unit = number(segment, 2, note), get(3)
            level.ordered_quantity = number(segment, 5, note)
        elif tag == "PID":
            level.description = level.description or description(segment)
        elif tag == "CTT":
            document.level_count = integer(segment, 1, note)
            level = party = None
    return document


def _place(level: ShipLevel, open_levels: list[ShipLevel], document: ShipNotice, segment: Segment, note: Note) -> None:
    """Set the parent of a new level and keep ``open_levels`` as the path down to it."""
    rank = LEVEL_RANK.get(level.code, len(LEVEL_RANK))
    if level.parent_id:
        if not any(known.id == level.parent_id for known in document.levels):
            note("hl_parent_unknown", f"HL02 {level.parent_id!r} names no earlier HL", segment, 2)
        while open_levels and open_levels[-1].id != level.parent_id:
            open_levels.pop()
    else:
        while open_levels and LEVEL_RANK.get(open_levels[-1].code, len(LEVEL_RANK)) >= rank:
            open_levels.pop()
        if open_levels:
            level.parent_id, level.parent_inferred = open_levels[-1].id, True
    open_levels.append(level)


def write_ship_notice(document: ShipNotice) -> list[Elements]:
    """Return the segments between ST and SE of an 856."""
    d = document
    segments = [trim(["BSN", d.purpose, d.shipment_id, d.date, d.time, d.structure])]
    segments += [date.write() for date in d.dates]
    for level in d.levels:
        segments.append(trim(["HL", level.id, level.parent_id, level.code]))
        if level.line_number or level.identifiers:
            segments.append(trim(["LIN", level.line_number, *write_identifiers(level.identifiers)]))
        if level.shipped_quantity is not None or level.unit or level.ordered_quantity is not None:
            ordered = [write_number(level.ordered_quantity), level.unit if level.ordered_quantity is not None else ""]
            shipped = ["", write_number(level.shipped_quantity), level.unit, ""]
            segments.append(trim(["SN1", *shipped, *ordered]))
        if level.purchase_order or level.purchase_order_date:
            segments.append(trim(["PRF", level.purchase_order, "", "", level.purchase_order_date]))
        segments += write_description(level.description)
        segments += [carrier.write() for carrier in level.carriers]
        segments += [reference.write() for reference in level.references]
        segments += [trim(["MAN", mark.qualifier, mark.number]) for mark in level.marks]
        segments += [date.write() for date in level.dates]
        for party in level.parties:
            segments += party.write()
    segments.append(["CTT", str(len(d.levels))])
    return segments
