"""What both apply paths share: the request, the result, row errors, safety and limit settings."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any, Literal

from django.db.models import Q

from inventory.models import ExclusionRule, InventoryVariant
from sources.models import GlobalSettings, Source
from sources.runners import RunHeld

Kind = Literal["primary", "secondary"]
Progress = Callable[[int, int | None], None]

MAX_STORED_ROW_ERRORS = 10_000
PROGRESS_EVERY = 20_000
DEFAULT_SAFETY_THRESHOLD = Decimal("0.5")

# Targets a secondary (price/quantity/status) feed may change; everything else belongs to the primary feed.
PQS_TARGETS = ("cost", "msrp", "map_price", "quantity", "status")
# Parent-level values a variant row may leave blank (Shopify variant rows): taken from the parent.
INHERITED_TARGETS = ("title", "brand", "category")
PARENT_TARGETS = ("title", "description", "brand", "category")


@dataclass(frozen=True, slots=True)
class RowNote:
    """A row error or note, shaped like ``sources.mapping.RowError`` (row, sku, field, value, message)."""

    row: int | None
    sku: str | None
    field: str
    value: Any
    message: str


@dataclass
class FeedRequest:
    """One feed to apply: where it comes from, how to read and map it, and how to apply it.

    ``file`` is a binary stream (seekable: the fast path reads a CSV twice to diff it before mapping).
    ``full`` means the feed lists every variant of the source, so the missing ones are archived (primary
    only). ``force`` skips feed safety (an operator released the run).
    """

    source_id: int
    kind: Kind
    file: IO[bytes]
    file_format: str
    format_options: dict[str, Any]
    spec: dict[str, Any]
    full: bool = True
    force: bool = False
    progress: Progress | None = None


@dataclass
class FeedResult:
    """Counts of one apply, the row errors/notes to store (capped), and log lines for the run."""

    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            ("read", "created", "updated", "unchanged", "archived", "skipped", "error"), 0
        )
    )
    row_errors: list[RowNote] = field(default_factory=list)
    row_notes: list[RowNote] = field(default_factory=list)
    log: list[str] = field(default_factory=list)

    def error(self, note: RowNote) -> None:
        """Count a row error; keep it while there is room."""
        self.counts["error"] += 1
        if len(self.row_errors) < MAX_STORED_ROW_ERRORS:
            self.row_errors.append(note)

    def note(self, note: RowNote) -> None:
        """Keep a row note (a skipped row) without counting it as an error."""
        if len(self.row_notes) < MAX_STORED_ROW_ERRORS:
            self.row_notes.append(note)


def safety_threshold(source: Source) -> Decimal:
    """The share of active variants a feed may archive or zero before it is held."""
    if source.feed_safety_threshold is not None:
        return source.feed_safety_threshold
    threshold = GlobalSettings.load().feed_safety_threshold
    return DEFAULT_SAFETY_THRESHOLD if threshold is None else threshold


def check_feed_safety(*, request: FeedRequest, source: Source, active: int, affected: int, rows: int) -> None:
    """Raise RunHeld for an empty feed, or one archiving/zeroing more than the threshold of active variants.

    The caller runs this inside its apply transaction, after computing the effect, so raising rolls it back.
    """
    if request.force:
        return
    if rows == 0:
        raise RunHeld(
            "Held: the feed has no usable rows; nothing was applied. Release the run to apply it anyway.",
            details={"rows": 0, "active": active},
        )
    threshold = safety_threshold(source)
    if active and Decimal(affected) / Decimal(active) > threshold:
        share = affected * 100 // active
        raise RunHeld(
            f"Held: the feed would archive or zero {affected} of {active} active variants ({share} %), more than "
            f"the feed-safety threshold of {threshold * 100:.0f} %; nothing was applied. Release the run to apply it.",
            details={"affected": affected, "active": active, "threshold": str(threshold)},
        )


def sku_room() -> tuple[int, int]:
    """Return (limit, room left) of the plan's SKU limit over every source's variants.

    The caller must hold the GlobalSettings row lock (``lock_global_settings``) inside its transaction,
    so two applies never both take the last room.
    """
    limit = GlobalSettings.load().sku_limit
    used = InventoryVariant.objects.count()
    return limit, max(0, limit - used)


def lock_global_settings() -> None:
    GlobalSettings.load()
    GlobalSettings.objects.select_for_update().filter(pk=1).exists()


def exclusion_values(source_id: int) -> dict[str, list[str]]:
    """The operator's exclusion rules for the source (and global ones): field → lower-cased values."""
    values: dict[str, list[str]] = {name: [] for name in ExclusionRule.Field.values}
    rules = ExclusionRule.objects.filter(Q(source_id=source_id) | Q(source__isnull=True)).order_by("pk")
    for rule_field, value in rules.values_list("field", "value"):
        values[rule_field].append(value.strip().lower())
    return values


def feed_salt(*, request: FeedRequest, source: Source, exclusions: dict[str, list[str]], extra: bytes = b"") -> bytes:
    """Everything besides the row that decides what a row becomes: a row hash covers it, so changing any of it
    (template, prefix, exclusion rules, header) makes every row count as changed."""
    state = json.dumps(
        [request.kind, request.spec, request.format_options, source.sku_prefix, exclusions],
        sort_keys=True,
        default=str,
    )
    return hashlib.md5(state.encode() + b"\x00" + extra, usedforsecurity=False).digest()


def is_excluded(exclusions: dict[str, list[str]], data: dict[str, Any]) -> bool:
    for rule_field, values in exclusions.items():
        if values:
            value = data.get(rule_field)
            if value and value.strip().lower() in values:
                return True
    return False
