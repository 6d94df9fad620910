"""What the X12 codec reports: its one exception type, and located issues found while reading."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class X12Error(Exception):
    """The input cannot be read as X12, or a document cannot be written; the only exception the codec raises."""


class Severity(StrEnum):
    WARNING = "warning"  # read on; the data is usable as it stands
    ERROR = "error"  # the enclosing transaction or group should be rejected in its 997


@dataclass(frozen=True)
class Location:
    """Where an issue sits: indexes are 0-based, ``segment`` is the 1-based position the 997 uses.

    ``segment`` counts from ST inside a transaction (as SE01 and AK302 do) and from ISA outside one.
    """

    interchange: int
    group: int | None = None
    transaction: int | None = None
    segment: int | None = None
    element: int | None = None
    segment_id: str = ""

    def __str__(self) -> str:
        parts = [f"interchange {self.interchange + 1}"]
        if self.group is not None:
            parts.append(f"group {self.group + 1}")
        if self.transaction is not None:
            parts.append(f"transaction {self.transaction + 1}")
        if self.segment is not None:
            parts.append(f"segment {self.segment}" + (f" ({self.segment_id})" if self.segment_id else ""))
        if self.element is not None:
            parts.append(f"element {self.element}")
        return ", ".join(parts)


@dataclass(frozen=True)
class Issue:
    """A rule a file breaks: ``code`` is stable for machines, ``message`` says what was found."""

    code: str
    message: str
    location: Location
    severity: Severity = Severity.WARNING

    def __str__(self) -> str:
        return f"{self.severity}: {self.location}: {self.message} [{self.code}]"


# Severity of each issue code when reading leniently and strictly. Codes absent here are warnings in lenient
# mode and errors in strict mode; the ones listed are those whose severity does not follow that rule.
ALWAYS_ERROR = frozenset(
    {
        "isa_unreadable",
        "transaction_unterminated",
        "group_unterminated",
    }
)
ALWAYS_WARNING = frozenset(
    {
        "bom",
        "latin1_decoded",
        "isa_not_fixed_width",
        "trailing_junk",
        "document_unknown",
        "version_mismatch",  # GS08 under a different ISA12 is common and harmless (003060 under 00401)
    }
)


def severity_for(code: str, *, strict: bool) -> Severity:
    """Return how serious issue ``code`` is for a partner read strictly or leniently."""
    if code in ALWAYS_ERROR:
        return Severity.ERROR
    if code in ALWAYS_WARNING or not strict:
        return Severity.WARNING
    return Severity.ERROR
