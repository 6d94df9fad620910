"""Write typed documents as one X12 interchange, with envelopes, counts and the caller's control numbers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from .documents import Document, document_segments
from .envelope import FUNCTIONAL_ID
from .errors import X12Error
from .tokenizer import Delimiters

CONTROL_KINDS = ("interchange", "group", "transaction")
VERSIONS = ("004010", "004010VICS", "005010")


class ControlNumbers(Protocol):
    """Hands out control numbers that never repeat for a partner; ``kind`` is "interchange", "group" or
    "transaction". A persisted implementation must be safe under concurrent writers."""

    def next(self, kind: str) -> int: ...


class InMemoryControlNumbers:
    """Control numbers counted in memory, from ``start``; for tests and the supplier simulator."""

    def __init__(self, start: int = 1):
        self._next = dict.fromkeys(CONTROL_KINDS, start)

    def next(self, kind: str) -> int:
        if kind not in self._next:
            raise X12Error(f"unknown control number kind {kind!r}")
        number = self._next[kind]
        self._next[kind] = number + 1
        return number


@dataclass(frozen=True)
class Envelope:
    """How one trading partner wants its interchanges: IDs and qualifiers, delimiters, version, usage T/P.

    ``group_sender``/``group_receiver`` (GS02/GS03) default to the interchange IDs.
    """

    sender_id: str
    receiver_id: str
    sender_qualifier: str = "ZZ"
    receiver_qualifier: str = "ZZ"
    group_sender: str = ""
    group_receiver: str = ""
    version: str = "004010"
    usage: str = "P"
    acknowledgment_requested: bool = False
    delimiters: Delimiters = field(default_factory=Delimiters)

    def check(self) -> None:
        """Raise X12Error unless this envelope can be written."""
        self.delimiters.check_writable()
        if self.usage not in ("P", "T"):
            raise X12Error(f"usage indicator must be P or T, not {self.usage!r}")
        if not (len(self.version) >= 6 and self.version[:6].isdigit()):
            raise X12Error(f"version {self.version!r} is not an X12 version such as {', '.join(VERSIONS)}")
        for name in ("sender_id", "receiver_id"):
            if not 1 <= len(getattr(self, name)) <= 15:
                raise X12Error(f"{name} must be 1 to 15 characters")
        for name in ("sender_qualifier", "receiver_qualifier"):
            if len(getattr(self, name)) != 2:
                raise X12Error(f"{name} must be 2 characters")


def write(
    documents: Sequence[Document],
    *,
    envelope: Envelope,
    control_numbers: ControlNumbers,
    at: datetime | None = None,
) -> bytes:
    """Write ``documents`` in their order as one interchange; consecutive documents of a kind share a group.

    Raises X12Error when a value holds a delimiter or a line break, or the envelope cannot be written.
    """
    envelope.check()
    if not documents:
        raise X12Error("an interchange needs at least one document")
    at = at or datetime.now(UTC)
    d = envelope.delimiters
    interchange_number = control_numbers.next("interchange")
    segments = [_isa(envelope, interchange_number, at)]
    groups: list[tuple[str, list[Document]]] = []
    for document in documents:
        functional_id = FUNCTIONAL_ID[document.SET_ID]
        if groups and groups[-1][0] == functional_id:
            groups[-1][1].append(document)
        else:
            groups.append((functional_id, [document]))
    for functional_id, members in groups:
        group_number = control_numbers.next("group")
        segments.append(
            ["GS", functional_id, envelope.group_sender or envelope.sender_id]
            + [envelope.group_receiver or envelope.receiver_id, at.strftime("%Y%m%d"), at.strftime("%H%M")]
            + [str(group_number), "X", envelope.version]
        )
        for document in members:
            control = f"{control_numbers.next('transaction'):04d}"
            body = document_segments(document)
            segments.append(["ST", document.SET_ID, control])
            segments.extend(body)
            segments.append(["SE", str(len(body) + 2), control])
        segments.append(["GE", str(len(members)), str(group_number)])
    segments.append(["IEA", str(len(groups)), f"{interchange_number:09d}"])
    forbidden = {d.element, d.component, d.segment, segments[0][11], "\r", "\n"} - {"", "U"}
    ending = d.segment + d.suffix
    out = []
    for elements in segments:
        if elements[0] != "ISA":
            _check_values(elements, forbidden)
        out.append(d.element.join(elements) + ending)
    return "".join(out).encode("utf-8")


def _isa(envelope: Envelope, control: int, at: datetime) -> list[str]:
    d = envelope.delimiters
    edition = envelope.version[:5]
    # From 00402 on ISA11 is the repetition separator; before, it is the standards identifier U.
    unused = [char for char in "^!`" if char not in (d.element, d.component, d.segment)]
    repetition = (d.repetition or unused[0]) if edition >= "00402" else "U"
    if control > 999_999_999:
        raise X12Error(f"interchange control number {control} has more than 9 digits")
    return [
        "ISA", "00", " " * 10, "00", " " * 10,
        envelope.sender_qualifier, envelope.sender_id.ljust(15),
        envelope.receiver_qualifier, envelope.receiver_id.ljust(15),
        at.strftime("%y%m%d"), at.strftime("%H%M"), repetition, edition, f"{control:09d}",
        "1" if envelope.acknowledgment_requested else "0", envelope.usage, d.component,
    ]  # fmt: skip


def _check_values(elements: list[str], forbidden: set[str]) -> None:
    for index, value in enumerate(elements):
        if not isinstance(value, str):
            raise X12Error(f"{elements[0]}{index:02d} is {type(value).__name__}, not text")
        bad = [char for char in forbidden if char in value]
        if bad:
            raise X12Error(f"{elements[0]}{index:02d} {value!r} contains the delimiter {bad[0]!r}")
