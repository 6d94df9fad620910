"""Pieces every typed document shares: parties, references, dates, carriers, charges, numbers, identifiers.

Each piece comes with its reader (segment → value) and its writer (value → element lists), so the two stay
in step and a written document reads back equal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from ..errors import X12Error
from ..tokenizer import Segment

# note(code, message, segment, element): how a document parser reports what it finds odd.
Note = Callable[[str, str, Segment, int | None], None]
Elements = list[str]
CENT = Decimal("0.01")


def number(segment: Segment, index: int, note: Note) -> Decimal | None:
    """Read element ``index`` as a decimal number; None when empty, noted when it is not a finite number."""
    elements = segment.elements
    value = elements[index] if index < len(elements) else ""
    if not value:
        return None
    try:
        result = Decimal(value)
    except InvalidOperation:
        note("number_invalid", f"{segment.tag}{index:02d} {value!r} is not a number", segment, index)
        return None
    # Only text ending in a letter can be NaN or Infinity; checking the last character spares the call.
    if value[-1].isalpha() and not result.is_finite():
        note("number_invalid", f"{segment.tag}{index:02d} {value!r} is not a finite number", segment, index)
        return None
    return result


def implied_cents(segment: Segment, index: int, note: Note) -> Decimal | None:
    """Read an amount written with 2 implied decimals (``5887`` is 58.87); one with a point is taken as written."""
    value = number(segment, index, note)
    if value is None or "." in segment.get(index):
        return value
    return value.scaleb(-2)


def integer(segment: Segment, index: int, note: Note) -> int | None:
    value = number(segment, index, note)
    if value is not None and value != value.to_integral_value():
        note("number_invalid", f"{segment.tag}{index:02d} {segment.get(index)!r} is not a whole number", segment, index)
        return None
    return None if value is None else int(value)


def write_number(value: Decimal | int | None) -> str:
    """Write a decimal without exponent; None is an empty element."""
    if value is None:
        return ""
    return str(value) if isinstance(value, int) else format(value, "f")


def write_cents(value: Decimal | None) -> str:
    """Write an amount with 2 implied decimals; it must have no more than 2 decimal places."""
    if value is None:
        return ""
    if value != value.quantize(CENT):
        raise X12Error(f"amount {value} has more than 2 decimal places and cannot be written with implied decimals")
    return str(int(value.scaleb(2)))


def identifiers(segment: Segment, start: int, end: int | None = None) -> dict[str, str]:
    """Pair qualifier/value elements from ``start`` up to ``end`` (PO106/PO107, LIN02/LIN03, …), in any order.

    A qualifier that appears twice keeps its first value.
    """
    elements = segment.elements
    stop = len(elements) - 1 if end is None else min(end, len(elements) - 1)
    result: dict[str, str] = {}
    for index in range(start, stop, 2):
        qualifier = elements[index]
        if qualifier and qualifier not in result:
            result[qualifier] = elements[index + 1]
    return result


def write_identifiers(ids: dict[str, str]) -> Elements:
    return [item for pair in ids.items() for item in pair]


def trim(elements: Elements) -> Elements:
    """Drop trailing empty elements, which X12 forbids writing."""
    end = len(elements)
    while end > 1 and elements[end - 1] == "":
        end -= 1
    return elements[:end]


@dataclass(slots=True)
class Reference:
    """A REF or N9: a qualifier, its value and an optional description (REF03 / N903)."""

    qualifier: str
    value: str
    description: str = ""

    @classmethod
    def read(cls, segment: Segment) -> Reference:
        return cls(segment.get(1), segment.get(2), segment.get(3))

    def write(self, tag: str = "REF") -> Elements:
        return trim([tag, self.qualifier, self.value, self.description])


@dataclass(slots=True)
class DateTime:
    """A DTM: qualifier (002 requested, 011 shipped, 097 created, …), date CCYYMMDD, optional time and zone."""

    qualifier: str
    date: str
    time: str = ""
    time_code: str = ""

    @classmethod
    def read(cls, segment: Segment) -> DateTime:
        return cls(segment.get(1), segment.get(2), segment.get(3), segment.get(4))

    def write(self) -> Elements:
        return trim(["DTM", self.qualifier, self.date, self.time, self.time_code])


@dataclass
class Carrier:
    """A TD5: carrier (SCAC in ``carrier_id``), transport method, routing text and service level (TD512)."""

    routing_sequence: str = ""
    id_qualifier: str = ""
    carrier_id: str = ""
    transport_method: str = ""
    routing: str = ""
    service_level: str = ""

    @classmethod
    def read(cls, segment: Segment) -> Carrier:
        get = segment.get
        return cls(get(1), get(2), get(3), get(4), get(5), get(12))

    def write(self) -> Elements:
        return trim(
            ["TD5", self.routing_sequence, self.id_qualifier, self.carrier_id, self.transport_method, self.routing]
            + [""] * 6
            + [self.service_level]
        )


@dataclass
class Charge:
    """A SAC: allowance (A), charge (C) or information (N); ``amount`` has the 2 implied decimals applied."""

    indicator: str
    code: str = ""
    agency_qualifier: str = ""
    agency_code: str = ""
    amount: Decimal | None = None
    percent_qualifier: str = ""
    percent: Decimal | None = None
    description: str = ""

    @classmethod
    def read(cls, segment: Segment, note: Note) -> Charge:
        get = segment.get
        return cls(
            get(1), get(2), get(3), get(4), implied_cents(segment, 5, note), get(6), number(segment, 7, note), get(15)
        )

    def write(self) -> Elements:
        head = ["SAC", self.indicator, self.code, self.agency_qualifier, self.agency_code, write_cents(self.amount)]
        return trim(head + [self.percent_qualifier, write_number(self.percent)] + [""] * 7 + [self.description])


@dataclass
class Party:
    """An N1 loop: entity code (ST ship-to, SF ship-from, BT bill-to, …), name, ID, extra names and address."""

    code: str
    name: str = ""
    id_qualifier: str = ""
    id: str = ""
    extra_names: list[str] = field(default_factory=list)
    address: list[str] = field(default_factory=list)
    city: str = ""
    state: str = ""
    postal_code: str = ""
    country: str = ""
    references: list[Reference] = field(default_factory=list)

    @classmethod
    def read(cls, segment: Segment) -> Party:
        get = segment.get
        return cls(get(1), get(2), get(3), get(4))

    def read_detail(self, segment: Segment) -> bool:
        """Take an N2/N3/N4/REF that follows the N1; return False when the segment is not part of the loop."""
        tag, elements = segment.tag, segment.elements
        if tag == "N2":
            self.extra_names.extend(value for value in elements[1:3] if value)
        elif tag == "N3":
            self.address.extend(value for value in elements[1:3] if value)
        elif tag == "N4":
            get = segment.get
            self.city, self.state, self.postal_code, self.country = get(1), get(2), get(3), get(4)
        elif tag == "REF":
            self.references.append(Reference.read(segment))
        else:
            return False
        return True

    def write(self) -> list[Elements]:
        result = [trim(["N1", self.code, self.name, self.id_qualifier, self.id])]
        result += [["N2", *self.extra_names[i : i + 2]] for i in range(0, len(self.extra_names), 2)]
        result += [["N3", *self.address[i : i + 2]] for i in range(0, len(self.address), 2)]
        if self.city or self.state or self.postal_code or self.country:
            result.append(trim(["N4", self.city, self.state, self.postal_code, self.country]))
        result += [reference.write() for reference in self.references]
        return result


def description(segment: Segment) -> str:
    """Return the free-form text of a PID (PID05)."""
    return segment.get(5)


def write_description(text: str) -> list[Elements]:
    return [["PID", "F", "", "", "", text]] if text else []


def find(items: Iterable[Reference], qualifier: str) -> str:
    """Return the value of the first reference with ``qualifier``, or ""."""
    return next((item.value for item in items if item.qualifier == qualifier), "")
