"""Interchanges, functional groups and transactions, built from segments with their envelope checks."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import count
from typing import TYPE_CHECKING, Any

from .errors import Issue, Location, Severity, severity_for
from .tokenizer import ROW_LIMITS, UNLIMITED, Delimiters, RawInterchange, Segment, SegmentChecks

if TYPE_CHECKING:
    from .documents import Document

# The functional identifier (GS01) each transaction set (ST01) belongs in.
FUNCTIONAL_ID = {
    "810": "IN", "820": "RA", "824": "AG", "832": "SC", "846": "IB", "850": "PO", "852": "PD", "855": "PR",
    "856": "SH", "860": "PC", "865": "CA", "870": "RS", "940": "OW", "945": "SW", "997": "FA", "999": "FA",
}  # fmt: skip

RawReport = tuple[str, str, int | None, int | None]
ENVELOPE_TAGS = frozenset({"GS", "ST", "SE", "GE", "IEA"})
ROWS_PER_BLOCK = 4096  # segments split at a time when a transaction is read


@dataclass
class Transaction:
    """One ST…SE transaction set; ``segments`` runs from ST to SE inclusive (SE absent when missing).

    The segments are kept as text (``pieces``, ST at ``first_position`` in the interchange) and split into
    elements when walked, so a large transaction holds one string per segment rather than a list of elements.
    """

    set_id: str
    control_number: str
    pieces: list[str] = field(repr=False)
    element: str
    first_position: int
    interchange_index: int
    group_index: int
    index: int
    issues: list[Issue] = field(default_factory=list)
    strict: bool = False
    checks: SegmentChecks = field(default_factory=SegmentChecks, repr=False, compare=False)
    _document: Any = field(default=None, repr=False, compare=False)
    _parsed: bool = field(default=False, repr=False, compare=False)

    @property
    def segments(self) -> list[Segment]:
        """The segments from ST to SE, split into elements (a new list on each call)."""
        element = self.element
        return [
            Segment(piece.split(element), position) for position, piece in enumerate(self.pieces, self.first_position)
        ]

    @property
    def body(self) -> list[Segment]:
        """The segments between ST and SE."""
        segments = self.segments
        end = -1 if segments[-1].tag == "SE" else len(segments)
        return segments[1:end]

    def checked_body(self) -> Iterator[Segment]:
        """Yield the segments between ST and SE, recording on the way what the segment checks find in any
        segment of the transaction (ST and SE included)."""
        return map(Segment, self.checked_rows(), count(self.first_position + 1))

    def checked_rows(self) -> Iterator[list[str]]:
        """Like ``checked_body``, but yield each segment's elements: the segments are split a block at a time."""
        element, pieces = self.element, self.pieces
        last = len(pieces) - 1
        end = last if last > 0 and pieces[last].partition(element)[0] == "SE" else last + 1
        self._check_rows([pieces[0].split(element)], 0)
        for start in range(1, end, ROWS_PER_BLOCK):
            rows = [piece.split(element) for piece in pieces[start : min(start + ROWS_PER_BLOCK, end)]]
            self._check_rows(rows, start)
            yield from rows
        if end == last:
            self._check_rows([pieces[last].split(element)], last)

    def _check_rows(self, rows: list[list[str]], start: int) -> None:
        """Record the segment checks' findings on ``rows``, the segments from ``pieces[start]`` on."""
        checks = self.checks
        if checks.glued or checks.invalid:
            suspects = [index for index, elements in enumerate(rows) if checks.suspect(elements)]
        else:
            limit = ROW_LIMITS.get
            suspects = [index for index, elements in enumerate(rows) if len(elements) > limit(elements[0], UNLIMITED)]
        for index in suspects:
            elements = rows[index]
            for code, message, at in checks.findings(elements):
                self.add_issue(code, message, self.first_position + start + index, elements[0], at)

    def add_issue(self, code: str, message: str, position: int | None, segment_id: str, element: int | None) -> None:
        """Record an issue at interchange ``position`` (None: the transaction as a whole)."""
        relative = None if position is None else position - self.first_position + 1
        self.issues.append(
            Issue(code, message, self.location(relative, element, segment_id), severity_for(code, strict=self.strict))
        )

    def location(self, segment: int | None = None, element: int | None = None, segment_id: str = "") -> Location:
        return Location(self.interchange_index, self.group_index, self.index, segment, element, segment_id)

    @property
    def document(self) -> Document | None:
        """The typed document (846, 850, 855, 856, 810, 997), parsed on first use; None for other sets."""
        if not self._parsed:
            from .documents import parse_document

            self._document = parse_document(self)
            self._parsed = True
        return self._document

    @property
    def has_errors(self) -> bool:
        return any(issue.severity is Severity.ERROR for issue in self.issues)


@dataclass
class FunctionalGroup:
    """One GS…GE functional group."""

    functional_id: str
    sender: str
    receiver: str
    date: str
    time: str
    control_number: str
    agency: str
    version: str
    interchange_index: int
    index: int
    transactions: list[Transaction] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    trailer: Segment | None = None

    @property
    def all_issues(self) -> list[Issue]:
        return self.issues + [issue for transaction in self.transactions for issue in transaction.issues]


@dataclass
class Interchange:
    """One ISA…IEA interchange; IDs are right-trimmed of their fixed-width padding."""

    delimiters: Delimiters
    sender_qualifier: str
    sender_id: str
    receiver_qualifier: str
    receiver_id: str
    date: str
    time: str
    version: str
    control_number: str
    usage: str
    index: int
    groups: list[FunctionalGroup] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    isa: list[str] = field(default_factory=list, repr=False)

    @property
    def all_issues(self) -> list[Issue]:
        return self.issues + [issue for group in self.groups for issue in group.all_issues]

    @property
    def transactions(self) -> list[Transaction]:
        return [transaction for group in self.groups for transaction in group.transactions]


class _Builder:
    """Walk one interchange's segments, opening and closing groups and transactions as the envelope says.

    Only the envelope segments (GS, ST, SE, GE, IEA) are visited one by one; the runs of segments between them
    are taken as a whole, so a transaction of a million segments costs one slice.
    """

    def __init__(self, index: int, raw: RawInterchange, *, strict: bool):
        isa = raw.isa
        self.strict = strict
        self.interchange = Interchange(
            delimiters=raw.delimiters,
            sender_qualifier=isa[5],
            sender_id=isa[6].rstrip(),
            receiver_qualifier=isa[7],
            receiver_id=isa[8].rstrip(),
            date=isa[9],
            time=isa[10],
            version=isa[12],
            control_number=isa[13],
            usage=isa[15],
            index=index,
            isa=isa,
        )
        self.pieces, self.tags, self.checks = raw.pieces, raw.tags, raw.checks
        self.element = raw.delimiters.element
        self.group: FunctionalGroup | None = None
        self.transaction: Transaction | None = None
        self.start = 0  # index in ``pieces`` of the open transaction's ST
        self.spans: list[tuple[int, Transaction]] = []  # (first position, transaction), in order
        self.group_at: dict[int, FunctionalGroup] = {}  # position of each GS
        self.closed = False

    def segment(self, index: int) -> Segment:
        """The segment at ``pieces[index]`` (position ``index + 2``), split into elements."""
        return Segment(self.pieces[index].split(self.element), index + 2)

    def issue(self, code: str, message: str, segment: Segment | None, element: int | None = None) -> None:
        """Record an issue on the innermost open envelope at ``segment``."""
        owner: Transaction | FunctionalGroup | Interchange = self.transaction or self.group or self.interchange
        position, tag = (None, "") if segment is None else (segment.position, segment.tag)
        self._attach(owner, code, message, position, tag, element)

    def _attach(self, owner: Any, code: str, message: str, position: int | None, tag: str, element: int | None) -> None:
        if isinstance(owner, Transaction):
            owner.add_issue(code, message, position, tag, element)
            return
        interchange = self.interchange.index
        group = owner.index if isinstance(owner, FunctionalGroup) else None
        location = Location(interchange, group, None, position, element, tag)
        owner.issues.append(Issue(code, message, location, severity_for(code, strict=self.strict)))

    def build(self, raw_reports: list[RawReport]) -> Interchange:
        handlers = {"GS": self._on_GS, "ST": self._on_ST, "SE": self._on_SE, "GE": self._on_GE, "IEA": self._on_IEA}
        tags = self.tags
        marks = [index for index, tag in enumerate(tags) if tag in ENVELOPE_TAGS]
        previous = -1
        for index in [*marks, len(tags)]:
            if index > previous + 1:
                self._between(previous + 1, index)
            if index < len(tags):
                if self.closed:
                    self.issue("segment_after_iea", f"{tags[index]} after IEA", self.segment(index))
                else:
                    handlers[tags[index]](self.segment(index))
            previous = index
        if not self.closed:
            self._close_group(None)
            self.issue("interchange_unterminated", "IEA is missing: the interchange is truncated", None)
        self._attach_raw_reports(raw_reports)
        self._check_loose_segments()
        return self.interchange

    def _between(self, start: int, end: int) -> None:
        """Take the segments ``pieces[start:end]``, none of them an envelope segment."""
        if self.transaction is not None and not self.closed:
            return  # they belong to the open transaction, which ends where it is closed
        for index in range(start, end):
            if self.closed:
                self.issue("segment_after_iea", f"{self.tags[index]} after IEA", self.segment(index))
            else:
                self.issue(
                    "segment_outside_transaction", f"{self.tags[index]} outside any transaction", self.segment(index)
                )

    def _owner(self, position: int | None) -> Transaction | FunctionalGroup | Interchange:
        """The transaction or group that holds the segment at ``position``, else the interchange."""
        if position is None:
            return self.interchange
        found = bisect_right(self.spans, position, key=lambda span: span[0]) - 1
        if found >= 0:
            first, transaction = self.spans[found]
            if position < first + len(transaction.pieces):
                return transaction
        return self.group_at.get(position) or self.interchange

    def _attach_raw_reports(self, raw_reports: list[RawReport]) -> None:
        """Give each tokenizer report to the transaction or group that holds its segment position."""
        count = len(self.pieces) + 1
        for code, message, position, element in raw_reports:
            # Positions are consecutive from the ISA's 1, so a position is an index into the segments.
            known = bool(position) and position <= count
            tag = ("ISA" if position == 1 else self.tags[position - 2]) if known else ""
            self._attach(self._owner(position), code, message, position if known else None, tag, element)

    def _check_loose_segments(self) -> None:
        """Run the segment checks on the segments outside transactions (those inside are checked when read)."""
        checks, element = self.checks, self.element
        covered = [(first - 2, first - 2 + len(transaction.pieces)) for first, transaction in self.spans]
        start = 0
        for end, next_start in [*covered, (len(self.pieces), len(self.pieces))]:
            for index in range(start, end):
                elements = self.pieces[index].split(element)
                if checks.suspect(elements):
                    position = index + 2
                    for code, message, at in checks.findings(elements):
                        self._attach(self._owner(position), code, message, position, elements[0], at)
            start = next_start

    def _on_GS(self, segment: Segment) -> None:
        if self.group is not None:
            self._close_group(segment)
        get = segment.get
        self.group = FunctionalGroup(
            functional_id=get(1),
            sender=get(2),
            receiver=get(3),
            date=get(4),
            time=get(5),
            control_number=get(6),
            agency=get(7),
            version=get(8),
            interchange_index=self.interchange.index,
            index=len(self.interchange.groups),
        )
        self.interchange.groups.append(self.group)
        self.group_at[segment.position] = self.group
        if any(group.control_number == get(6) for group in self.interchange.groups[:-1]):
            self.issue("group_control_duplicate", f"GS06 {get(6)!r} repeats in this interchange", segment, 6)
        # GS08 "004010…" goes with ISA12 "00401"/"00400": compare the release family, not the exact edition.
        if get(8) and get(8)[:4] != self.interchange.version[:4]:
            self.issue(
                "version_mismatch", f"GS08 {get(8)!r} differs from ISA12 {self.interchange.version!r}", segment, 8
            )

    def _on_ST(self, segment: Segment) -> None:
        if self.transaction is not None:
            self._close_transaction(segment)
        if self.group is None:
            self.issue("transaction_outside_group", "ST outside any functional group (GS missing)", segment)
            self._on_GS(Segment(["GS"], segment.position))
        group = self.group
        assert group is not None
        self.start = segment.position - 2
        self.transaction = Transaction(
            set_id=segment.get(1),
            control_number=segment.get(2),
            pieces=[],
            element=self.element,
            first_position=segment.position,
            interchange_index=self.interchange.index,
            group_index=group.index,
            index=len(group.transactions),
            strict=self.strict,
            checks=self.checks,
        )
        if any(t.control_number == segment.get(2) for t in group.transactions):
            self.issue("transaction_control_duplicate", f"ST02 {segment.get(2)!r} repeats in this group", segment, 2)
        expected = FUNCTIONAL_ID.get(segment.get(1))
        if expected and group.functional_id and expected != group.functional_id:
            self.issue(
                "functional_id_mismatch",
                f"ST01 {segment.get(1)} belongs in a {expected} group, but GS01 is {group.functional_id!r}",
                segment,
                1,
            )
        group.transactions.append(self.transaction)

    def _end_transaction(self, end: int) -> Transaction:
        """Give the open transaction its segments, ``pieces[start:end]``, and remember where it lies."""
        transaction = self.transaction
        assert transaction is not None
        transaction.pieces = self.pieces[self.start : end]
        self.spans.append((transaction.first_position, transaction))
        return transaction

    def _on_SE(self, segment: Segment) -> None:
        if self.transaction is None:
            self.issue("segment_outside_transaction", "SE without ST", segment)
            return
        transaction = self._end_transaction(segment.position - 1)
        count, control = segment.get(1), segment.get(2)
        actual = len(transaction.pieces)
        if not count.isdigit() or int(count) != actual:
            self.issue("se_count_mismatch", f"SE01 says {count!r} segments, the transaction has {actual}", segment, 1)
        if control != transaction.control_number:
            self.issue(
                "se_control_mismatch", f"SE02 {control!r} differs from ST02 {transaction.control_number!r}", segment, 2
            )
        self.transaction = None

    def _on_GE(self, segment: Segment) -> None:
        if self.group is None:
            self.issue("segment_outside_group", "GE without GS", segment)
            return
        if self.transaction is not None:
            self._close_transaction(segment)
        group = self.group
        group.trailer = segment
        count, control = segment.get(1), segment.get(2)
        if not count.isdigit() or int(count) != len(group.transactions):
            self.issue(
                "ge_count_mismatch", f"GE01 says {count!r} transactions, the group has {len(group.transactions)}",
                segment, 1,
            )  # fmt: skip
        if control.lstrip("0") != group.control_number.lstrip("0"):
            self.issue(
                "ge_control_mismatch", f"GE02 {control!r} differs from GS06 {group.control_number!r}", segment, 2
            )
        self.group = None

    def _on_IEA(self, segment: Segment) -> None:
        self._close_group(segment)
        interchange = self.interchange
        count, control = segment.get(1), segment.get(2)
        if not count.isdigit() or int(count) != len(interchange.groups):
            self.issue(
                "iea_count_mismatch", f"IEA01 says {count!r} groups, the interchange has {len(interchange.groups)}",
                segment, 1,
            )  # fmt: skip
        if control != interchange.control_number:
            self.issue(
                "iea_control_mismatch", f"IEA02 {control!r} differs from ISA13 {interchange.control_number!r}",
                segment, 2,
            )  # fmt: skip
        self.closed = True

    def _close_transaction(self, at: Segment | None) -> None:
        transaction = self._end_transaction(len(self.pieces) if at is None else at.position - 2)
        self.issue(
            "transaction_unterminated",
            f"SE is missing for ST {transaction.control_number!r}" + (f" before {at.tag}" if at else ""),
            self.segment(transaction.first_position - 2 + len(transaction.pieces) - 1),
        )
        self.transaction = None

    def _close_group(self, at: Segment | None) -> None:
        if self.transaction is not None:
            self._close_transaction(at)
        if self.group is not None:
            self.issue(
                "group_unterminated",
                f"GE is missing for GS {self.group.control_number!r}" + (f" before {at.tag}" if at else ""),
                at,
            )
            self.group = None


def build_interchange(index: int, raw: RawInterchange, raw_reports: list[RawReport], *, strict: bool) -> Interchange:
    """Group the segments of ``raw`` into an interchange, checking counts and control numbers as it goes."""
    return _Builder(index, raw, strict=strict).build(raw_reports)
