"""Interchanges, functional groups and transactions, built from segments with their envelope checks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import Issue, Location, Severity, severity_for
from .tokenizer import Delimiters, Segment

if TYPE_CHECKING:
    from .documents import Document

# The functional identifier (GS01) each transaction set (ST01) belongs in.
FUNCTIONAL_ID = {
    "810": "IN", "820": "RA", "824": "AG", "832": "SC", "846": "IB", "850": "PO", "852": "PD", "855": "PR",
    "856": "SH", "860": "PC", "865": "CA", "870": "RS", "940": "OW", "945": "SW", "997": "FA", "999": "FA",
}  # fmt: skip

RawReport = tuple[str, str, int | None, int | None]


@dataclass
class Transaction:
    """One ST…SE transaction set; ``segments`` runs from ST to SE inclusive (SE absent when missing)."""

    set_id: str
    control_number: str
    segments: list[Segment]
    interchange_index: int
    group_index: int
    index: int
    issues: list[Issue] = field(default_factory=list)
    strict: bool = False
    _document: Any = field(default=None, repr=False, compare=False)

    @property
    def body(self) -> list[Segment]:
        """The segments between ST and SE."""
        end = -1 if self.segments[-1].tag == "SE" else len(self.segments)
        return self.segments[1:end]

    def location(self, segment: int | None = None, element: int | None = None, segment_id: str = "") -> Location:
        return Location(self.interchange_index, self.group_index, self.index, segment, element, segment_id)

    @property
    def document(self) -> Document | None:
        """The typed document (846, 850, 855, 856, 810, 997), parsed on first use; None for other sets."""
        if self._document is None:
            from .documents import parse_document

            self._document = parse_document(self)
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
    """Walk one interchange's segments, opening and closing groups and transactions as the envelope says."""

    def __init__(self, index: int, delimiters: Delimiters, segments: list[Segment], *, strict: bool):
        isa = segments[0].elements
        self.strict = strict
        self.interchange = Interchange(
            delimiters=delimiters,
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
        self.segments = segments
        self.group: FunctionalGroup | None = None
        self.transaction: Transaction | None = None
        self.owner: dict[int, Transaction | FunctionalGroup] = {}
        self.closed = False

    def issue(self, code: str, message: str, segment: Segment | None, element: int | None = None) -> None:
        """Record an issue on the innermost open envelope at ``segment``."""
        owner: Transaction | FunctionalGroup | Interchange = self.transaction or self.group or self.interchange
        self._attach(owner, code, message, segment, element)

    def _attach(self, owner: Any, code: str, message: str, segment: Segment | None, element: int | None) -> None:
        interchange = self.interchange.index
        tag = segment.tag if segment is not None else ""
        if isinstance(owner, Transaction):
            relative = None if segment is None else segment.position - owner.segments[0].position + 1
            location = owner.location(relative, element, tag)
        elif isinstance(owner, FunctionalGroup):
            location = Location(interchange, owner.index, None, segment and segment.position, element, tag)
        else:
            location = Location(interchange, None, None, segment and segment.position, element, tag)
        owner.issues.append(Issue(code, message, location, severity_for(code, strict=self.strict)))

    def build(self, raw_reports: list[RawReport]) -> Interchange:
        handlers = {"GS": self._on_GS, "ST": self._on_ST, "SE": self._on_SE, "GE": self._on_GE, "IEA": self._on_IEA}
        for segment in self.segments[1:]:
            handler = handlers.get(segment.elements[0])
            if handler is None and self.transaction is not None and not self.closed:
                self.transaction.segments.append(segment)
            elif self.closed:
                self.issue("segment_after_iea", f"{segment.tag} after IEA", segment)
            elif handler is not None:
                handler(segment)
            else:
                self.issue("segment_outside_transaction", f"{segment.tag} outside any transaction", segment)
        if not self.closed:
            self._close_group(None)
            self.issue("interchange_unterminated", "IEA is missing: the interchange is truncated", None)
        self._attach_raw_reports(raw_reports)
        return self.interchange

    def _attach_raw_reports(self, raw_reports: list[RawReport]) -> None:
        """Give each tokenizer report to the transaction or group that holds its segment position."""
        for code, message, position, element in raw_reports:
            owner = self.owner.get(position) if position is not None else None
            # Positions are consecutive from the ISA's 1, so a position is an index into the segment list.
            segment = self.segments[position - 1] if position and position <= len(self.segments) else None
            self._attach(owner or self.interchange, code, message, segment, element)

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
        self.owner[segment.position] = self.group
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
        self.transaction = Transaction(
            set_id=segment.get(1),
            control_number=segment.get(2),
            segments=[segment],
            interchange_index=self.interchange.index,
            group_index=group.index,
            index=len(group.transactions),
            strict=self.strict,
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

    def _on_SE(self, segment: Segment) -> None:
        transaction = self.transaction
        if transaction is None:
            self.issue("segment_outside_transaction", "SE without ST", segment)
            return
        transaction.segments.append(segment)
        self.owner.update((s.position, transaction) for s in transaction.segments)
        count, control = segment.get(1), segment.get(2)
        actual = len(transaction.segments)
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
        transaction = self.transaction
        assert transaction is not None
        self.owner.update((s.position, transaction) for s in transaction.segments)
        self.issue(
            "transaction_unterminated",
            f"SE is missing for ST {transaction.control_number!r}" + (f" before {at.tag}" if at else ""),
            transaction.segments[-1],
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


def build_interchange(
    index: int, delimiters: Delimiters, segments: list[Segment], raw_reports: list[RawReport], *, strict: bool
) -> Interchange:
    """Group ``segments`` (ISA first) into an interchange, checking counts and control numbers as it goes."""
    return _Builder(index, delimiters, segments, strict=strict).build(raw_reports)
