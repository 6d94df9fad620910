"""997 Functional Acknowledgment: which transactions of one received group were accepted, and why not."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import ClassVar

from ..tokenizer import Segment
from .common import Elements, Note, integer, trim

ACCEPTED = "A"
ACCEPTED_WITH_ERRORS = "E"
PARTIALLY_ACCEPTED = "P"
REJECTED = "R"


@dataclass
class ElementError:
    """An AK4: position (``"8"`` or ``"8:2"`` for a component), element reference, error code (AK403), bad value."""

    position: str
    code: str
    reference: str = ""
    bad_value: str = ""


@dataclass
class SegmentError:
    """An AK3: segment ID, its position in the transaction (ST is 1), loop ID, error code (AK304)."""

    segment_id: str
    position: int | None
    code: str = ""
    loop_id: str = ""
    elements: list[ElementError] = field(default_factory=list)


@dataclass
class TransactionAck:
    """An AK2…AK5: the answer for one transaction; ``codes`` are AK502–AK506."""

    set_id: str
    control_number: str
    status: str = ACCEPTED
    codes: list[str] = field(default_factory=list)
    segment_errors: list[SegmentError] = field(default_factory=list)


@dataclass
class FunctionalAck:
    """A 997 for one functional group (AK1), its transactions (AK2) and the group verdict (AK9)."""

    SET_ID: ClassVar[str] = "997"

    functional_id: str
    group_control_number: str
    version: str = ""
    transactions: list[TransactionAck] = field(default_factory=list)
    status: str = ACCEPTED
    included: int | None = None
    received: int | None = None
    accepted: int | None = None
    codes: list[str] = field(default_factory=list)

    @property
    def accepted_control_numbers(self) -> list[str]:
        return [t.control_number for t in self.transactions if t.status in (ACCEPTED, ACCEPTED_WITH_ERRORS)]


def read_functional_ack(body: Iterable[Segment], note: Note) -> FunctionalAck:
    """Read the segments between ST and SE of a 997; a missing AK5 or AK9 is noted, not guessed."""
    document = FunctionalAck("", "")
    transaction: TransactionAck | None = None
    saw_ak9 = False
    last: Segment | None = None
    for segment in body:
        last = segment
        tag, get = segment.tag, segment.get
        if tag == "AK1":
            document.functional_id, document.group_control_number, document.version = get(1), get(2), get(3)
        elif tag == "AK2":
            _check_closed(transaction, segment, note)
            transaction = TransactionAck(get(1), get(2), status="")
            document.transactions.append(transaction)
        elif tag == "AK3" and transaction is not None:
            position = integer(segment, 2, note)
            transaction.segment_errors.append(SegmentError(get(1), position, get(4), get(3)))
        elif tag == "AK4" and transaction is not None and transaction.segment_errors:
            error = ElementError(get(1), get(3), get(2), get(4))
            transaction.segment_errors[-1].elements.append(error)
        elif tag == "AK5" and transaction is not None:
            transaction.status, transaction.codes = get(1), [code for code in segment.elements[2:7] if code]
        elif tag == "AK9":
            _check_closed(transaction, segment, note)
            transaction, saw_ak9 = None, True
            document.status = get(1)
            document.included, document.received, document.accepted = (integer(segment, n, note) for n in (2, 3, 4))
            document.codes = [code for code in segment.elements[5:10] if code]
    _check_closed(transaction, last, note)
    if not saw_ak9:
        document.status = ""
        note("ak9_missing", "AK9 is missing: the group verdict is unknown", last, None)
    return document


def _check_closed(transaction: TransactionAck | None, segment: Segment | None, note: Note) -> None:
    if transaction is not None and not transaction.status:
        note("ak5_missing", f"AK2 {transaction.control_number!r} has no AK5", segment, None)


def write_functional_ack(document: FunctionalAck) -> list[Elements]:
    """Return the segments between ST and SE of a 997; AK9 counts default to the AK2s written."""
    d = document
    segments = [trim(["AK1", d.functional_id, d.group_control_number, d.version])]
    for transaction in d.transactions:
        segments.append(["AK2", transaction.set_id, transaction.control_number])
        for error in transaction.segment_errors:
            position = "" if error.position is None else str(error.position)
            segments.append(trim(["AK3", error.segment_id, position, error.loop_id, error.code]))
            segments += [trim(["AK4", e.position, e.reference, e.code, e.bad_value]) for e in error.elements]
        segments.append(trim(["AK5", transaction.status, *transaction.codes[:5]]))
    count = len(d.transactions)
    accepted = len(d.accepted_control_numbers)
    numbers = [d.included, d.received, d.accepted]
    written = [str(count if n is None else n) for n in numbers[:2]] + [
        str(accepted if d.accepted is None else d.accepted)
    ]
    segments.append(trim(["AK9", d.status, *written, *d.codes[:5]]))
    return segments
