"""850 Purchase Order, 855 PO Acknowledgment and 810 Invoice: item lines (PO1, IT1) under three headers."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import ClassVar, TypeVar

from ..tokenizer import Segment
from .common import (
    Carrier,
    Charge,
    DateTime,
    Elements,
    Note,
    Party,
    Reference,
    description,
    identifiers,
    implied_cents,
    integer,
    number,
    trim,
    write_cents,
    write_description,
    write_identifiers,
    write_number,
)

# ACK01 line item status codes grouped by what they mean for the FR line.
BACKORDERED = frozenset({"IB", "BP"})
REJECTED = frozenset({"IR", "ID", "R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8"})
ON_HOLD = frozenset({"IF", "IH", "IW"})
# BAK02 acknowledgment types that refuse the whole order.
ORDER_REJECTED = frozenset({"RJ", "RD", "RF", "RO"})
ACK_IDENTIFIERS = 7  # ACK07/ACK08 start ten qualifier/value pairs, ACK27–ACK29 follow them


@dataclass
class LineStatus:
    """An ACK: the supplier's answer for (part of) a line. ``state`` sums the status code up."""

    code: str
    quantity: Decimal | None = None
    unit: str = ""
    date_qualifier: str = ""
    date: str = ""
    reference: str = ""
    identifiers: dict[str, str] = field(default_factory=dict)
    agency: str = ""
    source: str = ""
    industry_code: str = ""

    @property
    def state(self) -> str:
        """Return "accepted", "backordered", "rejected" or "on_hold"."""
        if self.code in BACKORDERED:
            return "backordered"
        if self.code in REJECTED:
            return "rejected"
        if self.code in ON_HOLD:
            return "on_hold"
        return "accepted"

    @property
    def reason(self) -> str:
        """The supplier's words or code for this status: ACK06 text, else the ACK29 industry code."""
        return self.reference or self.industry_code

    @classmethod
    def read(cls, segment: Segment, note: Note) -> LineStatus:
        get = segment.get
        ids = identifiers(segment, ACK_IDENTIFIERS, ACK_IDENTIFIERS + 20)
        return cls(get(1), number(segment, 2, note), get(3), get(4), get(5), get(6), ids, get(27), get(28), get(29))

    def write(self) -> Elements:
        pairs = write_identifiers(self.identifiers)
        head = [
            "ACK",
            self.code,
            write_number(self.quantity),
            self.unit,
            self.date_qualifier,
            self.date,
            self.reference,
        ]
        return trim(head + pairs + [""] * (20 - len(pairs)) + [self.agency, self.source, self.industry_code])


@dataclass
class OrderLine:
    """A PO1 or IT1 loop: quantity, unit price, item identifiers by qualifier, and for an 855 the ACK statuses."""

    identifiers: dict[str, str]
    line_number: str = ""
    quantity: Decimal | None = None
    unit: str = "EA"
    unit_price: Decimal | None = None
    price_basis: str = ""
    description: str = ""
    references: list[Reference] = field(default_factory=list)
    dates: list[DateTime] = field(default_factory=list)
    charges: list[Charge] = field(default_factory=list)
    statuses: list[LineStatus] = field(default_factory=list)
    parties: list[Party] = field(default_factory=list)

    @property
    def state(self) -> str:
        """Return the state of the first ACK ("accepted", "backordered", …), or "" when there is none."""
        return self.statuses[0].state if self.statuses else ""


@dataclass
class _Order:
    """What 850, 855 and 810 share after their header: parties, carriers, charges and item lines."""

    currency: str = ""
    references: list[Reference] = field(default_factory=list)
    notes: list[Reference] = field(default_factory=list)
    dates: list[DateTime] = field(default_factory=list)
    carriers: list[Carrier] = field(default_factory=list)
    charges: list[Charge] = field(default_factory=list)
    parties: list[Party] = field(default_factory=list)
    lines: list[OrderLine] = field(default_factory=list)
    line_count: int | None = field(default=None, compare=False)  # CTT01 as read; the writer counts the lines

    def party(self, code: str) -> Party | None:
        """Return the first header party with entity code ``code`` (ST ship-to, BT bill-to, …)."""
        return next((party for party in self.parties if party.code == code), None)


OrderT = TypeVar("OrderT", bound=_Order)


@dataclass
class PurchaseOrder(_Order):
    """An 850. ``order_type`` (BEG02) is DS for a dropship order; ``number`` (BEG03) is the PO number."""

    SET_ID: ClassVar[str] = "850"

    purpose: str = "00"
    order_type: str = "DS"
    number: str = ""
    release: str = ""
    date: str = ""
    contract: str = ""
    acknowledgment_type: str = ""


@dataclass
class PurchaseOrderAck(_Order):
    """An 855. ``acknowledgment_type`` (BAK02) is AD/AE/AC/… for acceptance, RJ/RD/… for a rejected order."""

    SET_ID: ClassVar[str] = "855"

    purpose: str = "00"
    acknowledgment_type: str = "AD"
    po_number: str = ""
    po_date: str = ""
    release: str = ""
    seller_order_number: str = ""
    date: str = ""

    @property
    def rejected(self) -> bool:
        return self.acknowledgment_type in ORDER_REJECTED

    @property
    def rejection_reason(self) -> str:
        """The first N9 note's text (N903), else its reference (N902); "" when there is none."""
        return next((note.description or note.value for note in self.notes), "")


@dataclass
class Invoice(_Order):
    """An 810. ``total`` is TDS01 with its 2 implied decimals applied; ``charges`` are the summary SACs."""

    SET_ID: ClassVar[str] = "810"

    date: str = ""
    number: str = ""
    po_date: str = ""
    po_number: str = ""
    release: str = ""
    transaction_type: str = ""
    purpose: str = ""
    total: Decimal | None = None


def _read_beg(document: PurchaseOrder, segment: Segment, note: Note) -> None:
    get = segment.get
    document.purpose, document.order_type, document.number, document.release = get(1), get(2), get(3), get(4)
    document.date, document.contract, document.acknowledgment_type = get(5), get(6), get(7)


def _read_bak(document: PurchaseOrderAck, segment: Segment, note: Note) -> None:
    get = segment.get
    document.purpose, document.acknowledgment_type, document.po_number, document.po_date = (
        get(1),
        get(2),
        get(3),
        get(4),
    )
    document.release, document.seller_order_number, document.date = get(5), get(8), get(9)


def _read_big(document: Invoice, segment: Segment, note: Note) -> None:
    get = segment.get
    document.date, document.number, document.po_date, document.po_number = get(1), get(2), get(3), get(4)
    document.release, document.transaction_type, document.purpose = get(5), get(7), get(8)


def _read_tds(document: Invoice, segment: Segment, note: Note) -> None:
    document.total = implied_cents(segment, 1, note)


def read_purchase_order(body: list[Segment], note: Note) -> PurchaseOrder:
    """Read the segments between ST and SE of an 850."""
    return _read_order(PurchaseOrder(), body, note, "PO1", {"BEG": _read_beg})


def read_purchase_order_ack(body: list[Segment], note: Note) -> PurchaseOrderAck:
    """Read the segments between ST and SE of an 855."""
    return _read_order(PurchaseOrderAck(), body, note, "PO1", {"BAK": _read_bak})


def read_invoice(body: list[Segment], note: Note) -> Invoice:
    """Read the segments between ST and SE of an 810."""
    return _read_order(Invoice(), body, note, "IT1", {"BIG": _read_big, "TDS": _read_tds})


def _read_order(document: OrderT, body: list[Segment], note: Note, line_tag: str, headers: dict) -> OrderT:
    """Read an order-shaped body: header segments by ``headers``, then ``line_tag`` loops, then the summary."""
    line: OrderLine | None = None
    party: Party | None = None
    for segment in body:
        tag = segment.tag
        if tag == line_tag:
            line = OrderLine(identifiers(segment, 6), segment.get(1), number(segment, 2, note), segment.get(3))
            line.unit_price, line.price_basis = number(segment, 4, note), segment.get(5)
            document.lines.append(line)
            party = None
        elif party is not None and party.read_detail(segment):
            continue
        elif tag == "N1":
            party = Party.read(segment)
            (line.parties if line else document.parties).append(party)
        elif tag == "PID" and line is not None:
            line.description = line.description or description(segment)
        elif tag == "ACK" and line is not None:
            line.statuses.append(LineStatus.read(segment, note))
        elif tag == "SAC":
            (line.charges if line else document.charges).append(Charge.read(segment, note))
        elif tag == "DTM":
            (line.dates if line else document.dates).append(DateTime.read(segment))
        elif tag in ("REF", "N9"):
            reference = Reference.read(segment)
            if line is not None:
                line.references.append(reference)
            else:
                (document.references if tag == "REF" else document.notes).append(reference)
        elif tag == "TD5" and line is None:
            document.carriers.append(Carrier.read(segment))
        elif tag == "CUR" and line is None:
            document.currency = segment.get(2)
        elif tag in headers:
            headers[tag](document, segment, note)
            line = party = None  # a summary segment (TDS) closes the last line
        elif tag == "CTT":
            line = party = None
            document.line_count = integer(segment, 1, note)
            if document.line_count is not None and document.line_count != len(document.lines):
                note("ctt_count_mismatch", f"CTT01 says {document.line_count} lines, found {len(document.lines)}",
                     segment, 1)  # fmt: skip
    return document


def write_purchase_order(document: PurchaseOrder) -> list[Elements]:
    """Return the segments between ST and SE of an 850."""
    d = document
    beg = trim(["BEG", d.purpose, d.order_type, d.number, d.release, d.date, d.contract, d.acknowledgment_type])
    return _write_order(d, beg)


def write_purchase_order_ack(document: PurchaseOrderAck) -> list[Elements]:
    """Return the segments between ST and SE of an 855."""
    d = document
    bak = ["BAK", d.purpose, d.acknowledgment_type, d.po_number, d.po_date, d.release, "", ""]
    return _write_order(d, trim(bak + [d.seller_order_number, d.date]))


def write_invoice(document: Invoice) -> list[Elements]:
    """Return the segments between ST and SE of an 810; summary charges follow TDS, which is always written."""
    d = document
    big = trim(["BIG", d.date, d.number, d.po_date, d.po_number, d.release, "", d.transaction_type, d.purpose])
    return _write_order(d, big, line_tag="IT1", summary=[trim(["TDS", write_cents(d.total)])])


def _write_order(
    document: _Order, header: Elements, line_tag: str = "PO1", summary: list[Elements] | None = None
) -> list[Elements]:
    """Write an order-shaped body; with ``summary`` (an 810's TDS) the charges follow the lines, not the header."""
    segments = [header]
    if document.currency:
        segments.append(["CUR", "BY", document.currency])
    segments += [reference.write() for reference in document.references]
    segments += [note.write("N9") for note in document.notes]
    header_charges = [] if summary is not None else document.charges
    segments += [charge.write() for charge in header_charges]
    segments += [date.write() for date in document.dates]
    segments += [carrier.write() for carrier in document.carriers]
    for party in document.parties:
        segments += party.write()
    for line in document.lines:
        price = [write_number(line.unit_price), line.price_basis]
        po1 = [line_tag, line.line_number, write_number(line.quantity), line.unit, *price]
        segments.append(trim(po1 + write_identifiers(line.identifiers)))
        segments += write_description(line.description)
        segments += [reference.write() for reference in line.references]
        segments += [charge.write() for charge in line.charges]
        segments += [date.write() for date in line.dates]
        segments += [status.write() for status in line.statuses]
        for party in line.parties:
            segments += party.write()
    if summary is not None:
        segments += summary + [charge.write() for charge in document.charges]
    segments.append(["CTT", str(len(document.lines))])
    return segments
