"""Read X12 bytes into interchanges, with every issue found on the way and where it was found."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from .envelope import FunctionalGroup, Interchange, RawReport, Transaction, build_interchange
from .errors import Issue, Location, Severity, X12Error, severity_for
from .tokenizer import Report, decode, split_interchanges


@dataclass
class ReadResult:
    """Everything read from one file: its interchanges and the issues of the file as a whole."""

    interchanges: list[Interchange]
    file_issues: list[Issue] = field(default_factory=list)

    @property
    def groups(self) -> list[FunctionalGroup]:
        return [group for interchange in self.interchanges for group in interchange.groups]

    @property
    def transactions(self) -> list[Transaction]:
        return [transaction for group in self.groups for transaction in group.transactions]

    @property
    def issues(self) -> list[Issue]:
        """All issues, file-level first, then in interchange order."""
        return self.file_issues + [issue for interchange in self.interchanges for issue in interchange.all_issues]

    @property
    def errors(self) -> list[Issue]:
        return [issue for issue in self.issues if issue.severity is Severity.ERROR]

    def documents(self) -> Iterator[tuple[Transaction, object]]:
        """Yield (transaction, typed document) for every transaction whose set flxhub reads."""
        for transaction in self.transactions:
            document = transaction.document
            if document is not None:
                yield transaction, document


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many small acyclic objects.

    A large file makes millions of segment lists; the collector's repeated passes over them would cost more
    than the reading itself, and none of them can form a cycle.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def read(data: bytes, *, strict: bool = False) -> ReadResult:
    """Read every interchange in ``data`` and its typed documents; faults become issues, errors when ``strict``.

    Raises X12Error only when ``data`` holds no readable interchange at all.
    """
    reports: dict[int, list[RawReport]] = {}

    def report_for(index: int) -> Report:
        def report(code: str, message: str, position: int | None, element: int | None) -> None:
            reports.setdefault(index, []).append((code, message, position, element))

        return report

    text = decode(data, report_for(-1))
    interchanges: list[Interchange] = []
    with collector_paused():
        for raw in split_interchanges(text, report_for):
            index = len(interchanges)
            interchanges.append(build_interchange(index, raw, reports.pop(index, []), strict=strict))
            del raw
        del text  # the segments hold what is needed; the decoded copy of the file can go before documents are read
        # Typed documents are read now, so every issue is known when ``read`` returns.
        for interchange in interchanges:
            for transaction in interchange.transactions:
                transaction.document  # noqa: B018 - parses and caches
    # What is left was found outside any readable interchange: the encoding, junk, an ISA that cannot be read.
    file_issues = [
        Issue(
            code, message, Location(max(index, 0), segment=position, element=element), severity_for(code, strict=strict)
        )
        for index, raw_reports in sorted(reports.items())
        for code, message, position, element in raw_reports
    ]
    if not interchanges:
        detail = "; ".join(issue.message for issue in file_issues) or "no ISA segment found"
        raise X12Error(f"no X12 interchange could be read: {detail}")
    return ReadResult(interchanges, file_issues)
