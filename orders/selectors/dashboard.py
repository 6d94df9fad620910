"""What needs an operator's attention today: failed runs, held feeds, FRs in trouble, mismatches, stale stock."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Max, Q
from django.utils import timezone

from inventory.models import InventoryVariant
from sources.models import IntegrationRun, Source
from sources.selectors import runs_failed_since, runs_held, source_last_stock_runs

from ..models import FulfillmentRequest, SourceInvoice
from .overdue import fr_overdue_counts

Status = FulfillmentRequest.Status
DEFAULT_MAX_STOCK_AGE_HOURS = 24
FAILED_RUNS_WINDOW = timedelta(hours=24)
ATTENTION_FR_STATUSES = (Status.UNPROCESSED, Status.FAILED, Status.ON_HOLD)


@dataclass(frozen=True)
class StaleSource:
    """A source whose stock routing should not trust: never synced, or not updated within its age limit."""

    source: Source
    reason: str
    last_quantity_update: datetime | None
    last_stock_run: datetime | None
    max_age_hours: int


@dataclass(frozen=True)
class Attention:
    failed_runs: list[IntegrationRun]
    held_runs: list[IntegrationRun]
    fr_counts: dict[str, int]  # unprocessed, failed, on_hold
    overdue: dict[str, int]  # ack_overdue, ship_overdue, total
    invoice_mismatches: int
    stale_sources: list[StaleSource]

    @property
    def total(self) -> int:
        """How many things are waiting; zero means nothing needs attention."""
        return (
            len(self.failed_runs)
            + len(self.held_runs)
            + sum(self.fr_counts.values())
            + self.overdue["total"]
            + self.invoice_mismatches
            + len(self.stale_sources)
        )


def fr_attention_counts() -> dict[str, int]:
    """How many FRs are unprocessed, failed and on hold (one query)."""
    return FulfillmentRequest.objects.aggregate(
        **{status.value: Count("pk", filter=Q(status=status)) for status in ATTENTION_FR_STATUSES}
    )


def sources_with_stale_stock(*, now: datetime | None = None) -> list[StaleSource]:
    """Active sources with stock integrations or inventory whose stock is stale.

    Stale: a Get Inventory integration that never succeeded, or an active variant quantity last updated longer
    ago than the source's ``max_stock_age_hours`` (24 h when unset), or never.
    """
    now = now or timezone.now()
    last_runs = source_last_stock_runs()
    last_updates = dict(
        InventoryVariant.objects.filter(status=InventoryVariant.Status.ACTIVE)
        .values("source_id")
        .annotate(last=Max("quantity_updated_at"))
        .values_list("source_id", "last")
    )
    stale = []
    for source in Source.objects.filter(is_active=True, pk__in={*last_runs, *last_updates}).order_by("name"):
        max_age = source.max_stock_age_hours or DEFAULT_MAX_STOCK_AGE_HOURS
        updated, last_run = last_updates.get(source.pk), last_runs.get(source.pk)
        if source.pk in last_runs and last_run is None:
            reason = "no successful Get Inventory run yet"
        elif updated is None:
            reason = "no quantity received yet"
        elif updated < now - timedelta(hours=max_age):
            hours = int((now - updated).total_seconds() // 3600)
            reason = f"last quantity update {hours} h ago (limit {max_age} h)"
        else:
            continue
        stale.append(StaleSource(source, reason, updated, last_run, max_age))
    return stale


def dashboard_attention(*, now: datetime | None = None) -> Attention:
    """Everything the dashboard lists as needing attention at ``now``."""
    now = now or timezone.now()
    return Attention(
        failed_runs=list(runs_failed_since(since=now - FAILED_RUNS_WINDOW)),
        held_runs=list(runs_held()),
        fr_counts=fr_attention_counts(),
        overdue=fr_overdue_counts(now=now),
        invoice_mismatches=SourceInvoice.objects.filter(match_status=SourceInvoice.MatchStatus.MISMATCH).count(),
        stale_sources=sources_with_stale_stock(now=now),
    )
