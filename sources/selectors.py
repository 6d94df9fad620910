"""Reads that are more than a filter."""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from django.db.models import F, Max, OuterRef, Q, QuerySet, Subquery, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from .models import Integration, IntegrationRun, RunRowError


def run_row_errors_csv(*, run_id: int) -> Iterator[str]:
    """Yield the run's row errors as CSV text chunks (header first), streaming from the database."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["row", "sku", "field", "value", "message"])
    rows = RunRowError.objects.filter(run_id=run_id).order_by("row_number", "id")
    for row_number, sku, field, value, message in rows.values_list(
        "row_number", "sku", "field", "value", "message"
    ).iterator(chunk_size=2000):
        writer.writerow([row_number, sku, field, value, message])
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


Status = IntegrationRun.Status
Operation = Integration.Operation
# Operations that bring stock (quantities); images do not.
STOCK_OPERATIONS = (Operation.GET_INVENTORY_PRIMARY, Operation.GET_INVENTORY_SECONDARY)
SYNC_OPERATIONS = (*STOCK_OPERATIONS, Operation.GET_INVENTORY_IMAGES)
LIVE_STATUSES = (Status.QUEUED, Status.RUNNING)


def run_list(*, source_id: int | None = None, operation: str = "", status: str = "") -> QuerySet[IntegrationRun]:
    """Runs newest first, optionally of one source, one operation and one status."""
    runs = IntegrationRun.objects.select_related("integration__source").order_by("-queued_at", "-id")
    if source_id:
        runs = runs.filter(integration__source_id=source_id)
    if operation:
        runs = runs.filter(integration__operation=operation)
    if status:
        runs = runs.filter(status=status)
    return runs


@dataclass(frozen=True)
class RunProgress:
    """How far a run is: rows done of total, percent, rows per second and an estimate of the time left."""

    done: int
    total: int | None
    percent: int | None
    rate: float | None
    seconds_left: int | None
    elapsed_seconds: float
    is_live: bool

    @property
    def time_left(self) -> str:
        return "" if self.seconds_left is None else _duration_text(self.seconds_left)

    @property
    def elapsed(self) -> str:
        return _duration_text(self.elapsed_seconds)


def _duration_text(seconds: float) -> str:
    """Seconds as ``42 s``, ``3 min 5 s`` or ``2 h 10 min``."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def run_progress(*, run: IntegrationRun, now: datetime | None = None) -> RunProgress:
    """Progress of ``run`` at ``now``; the rate is the average since the run started."""
    now = now or timezone.now()
    done, total = run.progress_done, run.progress_total
    percent = min(100, round(100 * done / total)) if total else (100 if run.status in IntegrationRun.FINISHED else None)
    end = run.finished_at or now
    elapsed = (end - run.started_at).total_seconds() if run.started_at else 0
    rate = done / elapsed if elapsed > 0 and done else None
    seconds_left = None
    if rate and total is not None and run.status == Status.RUNNING:
        seconds_left = max(0, round((total - done) / rate))
    return RunProgress(done, total, percent, rate, seconds_left, elapsed, run.status in LIVE_STATUSES)


def run_is_superseded(*, run: IntegrationRun) -> bool:
    """True if a later run of the same integration exists (a held feed was released or replaced)."""
    return IntegrationRun.objects.filter(integration_id=run.integration_id, pk__gt=run.pk).exists()


def runs_failed_since(*, since: datetime) -> QuerySet[IntegrationRun]:
    """Failed runs queued at or after ``since``, newest first."""
    return (
        IntegrationRun.objects.filter(status=Status.FAILED, queued_at__gte=since)
        .select_related("integration__source")
        .order_by("-queued_at", "-id")
    )


def runs_held() -> QuerySet[IntegrationRun]:
    """Held runs still waiting for an operator: the latest run of their integration (none released them)."""
    latest = IntegrationRun.objects.filter(integration_id=OuterRef("integration_id")).order_by("-id").values("pk")[:1]
    return (
        IntegrationRun.objects.filter(status=Status.HELD, pk=Subquery(latest))
        .select_related("integration__source")
        .order_by("-queued_at", "-id")
    )


def source_last_stock_runs() -> dict[int, datetime | None]:
    """Per source with a Get Inventory (primary or secondary) integration: when its last successful run finished.

    Sources whose stock integrations never succeeded map to None.
    """
    rows = (
        Integration.objects.filter(operation__in=STOCK_OPERATIONS)
        .values("source_id")
        .annotate(last=Max("runs__finished_at", filter=Q(runs__status__in=[Status.SUCCEEDED, Status.PARTIAL])))
    )
    return {row["source_id"]: row["last"] for row in rows}


@dataclass(frozen=True)
class SyncPoint:
    run_id: int
    finished_at: datetime
    rows_changed: int
    duration_seconds: float
    status: str


def source_sync_history(*, per_source: int = 20) -> dict[int, list[SyncPoint]]:
    """The last ``per_source`` finished inventory sync runs of each source, oldest first (one query).

    Rows changed are created + updated + archived; the duration is from start to finish.
    """
    ranked = (
        IntegrationRun.objects.filter(
            integration__operation__in=SYNC_OPERATIONS, started_at__isnull=False, finished_at__isnull=False
        )
        .exclude(status=Status.SKIPPED)
        .annotate(
            source_id=F("integration__source_id"),
            rank=Window(RowNumber(), partition_by=F("integration__source_id"), order_by=F("finished_at").desc()),
        )
        .filter(rank__lte=per_source)
        .order_by("source_id", "finished_at")
        .values_list(
            "pk", "source_id", "finished_at", "started_at", "created_count", "updated_count", "archived_count", "status"
        )
    )
    history: dict[int, list[SyncPoint]] = {}
    for pk, source_id, finished, started, created, updated, archived, status in ranked:
        history.setdefault(source_id, []).append(
            SyncPoint(pk, finished, created + updated + archived, (finished - started).total_seconds(), status)
        )
    return history
