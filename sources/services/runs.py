"""Integration runs: trigger, claim (one run per integration at a time), execute a runner, finish.

A run is claimed by writing its id on the integration row with an expiry; a crashed worker's claim
expires, and the claim is refreshed while the run reports progress. A runner that raises
``TransientError`` is retried with backoff by the task; anything else fails the run with its message.
"""

import logging
from dataclasses import dataclass, field, replace
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from flxhub.exceptions import ApplicationError, TransientError

from ..models import Integration, IntegrationRun, RunRowError
from ..runners import RunHeld, get_runner
from ..transports import get_transport
from ..transports.base import join_folder
from .connections import connection_settings

logger = logging.getLogger(__name__)
Status = IntegrationRun.Status
CLAIM_TTL = timedelta(minutes=10)  # the default; settings.FLXHUB_RUN_CLAIM_TTL_SECONDS overrides it
MAX_ROW_ERRORS = 10_000  # per run; beyond it errors are counted, not stored
COUNT_FIELDS = ("read", "created", "updated", "unchanged", "archived", "skipped", "error")

FOLDER_KINDS = frozenset({"ftp", "ftps", "sftp", "upload"})


def claim_ttl() -> timedelta:
    """How long a run's claim outlives its last progress report (a crashed worker's claim then expires)."""
    seconds = getattr(settings, "FLXHUB_RUN_CLAIM_TTL_SECONDS", None)
    return CLAIM_TTL if seconds is None else timedelta(seconds=float(seconds))


def integration_trigger(
    *, integration_id: int, trigger: str = IntegrationRun.Trigger.MANUAL, force: bool = False, enqueue: bool = True
) -> IntegrationRun:
    """Queue a run of the integration and (unless ``enqueue`` is False) enqueue its task after commit."""
    with transaction.atomic():
        integration = Integration.objects.get(pk=integration_id)
        run = IntegrationRun.objects.create(integration=integration, trigger=trigger, force=force)
        if enqueue:
            transaction.on_commit(lambda: _enqueue(run.pk))
    return run


def _enqueue(run_id: int) -> None:
    from ..tasks import integration_run_task

    integration_run_task.delay(run_id)


def run_claim(*, run: IntegrationRun) -> bool:
    """Claim the run's integration for this run; False if another live run holds it.

    A claim that expired belonged to a run whose worker died: that run is marked failed as it is taken over.
    """
    now = timezone.now()
    with transaction.atomic():
        integration = Integration.objects.select_for_update().get(pk=run.integration_id)
        holder, expires = integration.claimed_by_run_id, integration.claim_expires_at
        if holder not in (None, run.pk) and expires is not None and expires >= now:
            return False
        if holder not in (None, run.pk):
            IntegrationRun.objects.filter(pk=holder, status=Status.RUNNING).update(
                status=Status.FAILED,
                finished_at=now,
                message=f"Abandoned: its worker stopped reporting (claim expired at {expires:%Y-%m-%d %H:%M:%S}); "
                f"run {run.pk} took over.",
            )
        Integration.objects.filter(pk=integration.pk).update(claimed_by_run=run.pk, claim_expires_at=now + claim_ttl())
    return True


def run_release(*, run: IntegrationRun) -> None:
    Integration.objects.filter(pk=run.integration_id, claimed_by_run=run.pk).update(
        claimed_by_run=None, claim_expires_at=None
    )


@dataclass
class RunContext:
    """What a runner sees: its run and integration, the transport, and ways to report."""

    run: IntegrationRun
    integration: Integration
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNT_FIELDS, 0))
    log_lines: list[str] = field(default_factory=list)
    _transport: object = None

    def transport(self):
        """The integration's transport, opened once per run (the caller's runner need not close it).

        An integration's own ``path`` is a folder under the connection's folder (an absolute one replaces it),
        or for an IMAP connection the mailbox folder to read.
        """
        if self._transport is None:
            connection = connection_settings(self.integration.connection)
            folder = self.integration.path.strip()
            if folder and connection.kind in FOLDER_KINDS:
                connection = replace(connection, path=join_folder(connection.path, folder))
            elif folder and connection.kind == "imap":
                connection = replace(connection, path=folder)
            self._transport = get_transport(connection)
        return self._transport

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def log(self, message: str) -> None:
        stamp = timezone.now().strftime("%H:%M:%S")
        self.log_lines.append(f"{stamp} {message}")
        logger.info("run %s: %s", self.run.pk, message)

    def progress(self, done: int, total: int | None = None) -> None:
        """Store progress and refresh the claim; cheap enough to call every few thousand rows."""
        now = timezone.now()
        IntegrationRun.objects.filter(pk=self.run.pk).update(progress_done=done, progress_total=total)
        Integration.objects.filter(pk=self.integration.pk, claimed_by_run=self.run.pk).update(
            claim_expires_at=now + claim_ttl()
        )

    def row_errors(self, errors) -> None:
        """Store row errors (objects with row, sku, field, value, message) and count them."""
        errors = list(errors)
        self.counts["error"] += len(errors)
        stored = RunRowError.objects.filter(run=self.run).count()
        room = max(0, MAX_ROW_ERRORS - stored)
        RunRowError.objects.bulk_create(
            RunRowError(
                run=self.run,
                row_number=e.row,
                sku=(e.sku or "")[:255],
                field=(e.field or "")[:120],
                value="" if e.value is None else str(e.value)[:1000],
                message=e.message,
            )
            for e in errors[:room]
        )

    def set_input(self, *, name: str, size: int | None, digest: str) -> None:
        self.run.input_name, self.run.input_size, self.run.input_hash = name[:500], size, digest
        IntegrationRun.objects.filter(pk=self.run.pk).update(input_name=name[:500], input_size=size, input_hash=digest)

    def already_applied(self, digest: str) -> bool:
        """True if an earlier successful run of this integration applied the same input (unless forced)."""
        if self.run.force:
            return False
        return (
            IntegrationRun.objects.filter(integration=self.integration, input_hash=digest)
            .filter(status__in=[Status.SUCCEEDED, Status.PARTIAL])
            .exclude(pk=self.run.pk)
            .exists()
        )


def run_execute(*, run_id: int) -> IntegrationRun:
    """Run the integration's runner for ``run_id``; TransientError propagates for the task to retry."""
    run = IntegrationRun.objects.select_related("integration__connection", "integration__source").get(pk=run_id)
    if run.status in IntegrationRun.FINISHED or run.status == Status.HELD:
        return run
    if not run_claim(run=run):
        return _finish(run, Status.SKIPPED, "Another run of this integration is in progress.", {}, [])
    IntegrationRun.objects.filter(pk=run.pk).update(status=Status.RUNNING, started_at=timezone.now())
    run.status = Status.RUNNING
    ctx = RunContext(run=run, integration=run.integration)
    try:
        get_runner(run.integration.operation)(ctx)
    except TransientError as exc:
        ctx.log(f"Transient error (attempt {run.attempt}): {exc.message}")
        _save_log(run, ctx)
        IntegrationRun.objects.filter(pk=run.pk).update(status=Status.QUEUED, attempt=F("attempt") + 1)
        run_release(run=run)
        raise
    except RunHeld as exc:
        return _finish(run, Status.HELD, exc.message, ctx.counts, ctx.log_lines, release=True)
    except ApplicationError as exc:
        return _finish(run, Status.FAILED, exc.message, ctx.counts, ctx.log_lines)
    except Exception as exc:
        logger.exception("run %s crashed", run.pk)
        return _finish(run, Status.FAILED, f"Unexpected error: {type(exc).__name__}: {exc}", ctx.counts, ctx.log_lines)
    finally:
        ctx.close()
    status = Status.PARTIAL if ctx.counts["error"] else Status.SUCCEEDED
    message = ctx.log_lines[-1].split(" ", 1)[1] if ctx.log_lines else ""
    return _finish(run, status, message, ctx.counts, ctx.log_lines)


def run_fail_after_retries(*, run_id: int, message: str) -> None:
    run = IntegrationRun.objects.get(pk=run_id)
    _finish(run, Status.FAILED, f"Gave up after {run.attempt - 1} attempts: {message}", {}, [])


def _save_log(run: IntegrationRun, ctx: RunContext) -> None:
    if ctx.log_lines:
        IntegrationRun.objects.filter(pk=run.pk).update(log=(run.log + "\n".join(ctx.log_lines) + "\n"))
        run.log += "\n".join(ctx.log_lines) + "\n"
        ctx.log_lines.clear()


def _finish(run, status, message, counts, log_lines, release=True) -> IntegrationRun:
    update = {f"{name}_count": value for name, value in counts.items()}
    log = run.log + ("\n".join(log_lines) + "\n" if log_lines else "")
    IntegrationRun.objects.filter(pk=run.pk).update(
        status=status, message=message, finished_at=timezone.now(), log=log, **update
    )
    if release and status != Status.SKIPPED:
        run_release(run=run)
    run.refresh_from_db()
    return run


def run_release_held(*, run_id: int) -> IntegrationRun:
    """An operator releases a held run: it is queued again, forced past feed safety."""
    with transaction.atomic():
        run = IntegrationRun.objects.select_for_update().get(pk=run_id)
        if run.status != Status.HELD:
            raise ApplicationError(f"Run {run.pk} is {run.status}, not held.", code="not_held", http_status=409)
        release_note = f"Release of held run {run.pk}"
        earlier = IntegrationRun.objects.filter(
            integration=run.integration, pk__gt=run.pk, message=release_note
        ).first()
        if earlier:
            raise ApplicationError(
                f"Run {run.pk} was already released as run {earlier.pk}.", code="already_released", http_status=409
            )
        new = IntegrationRun.objects.create(
            integration=run.integration,
            trigger=IntegrationRun.Trigger.MANUAL,
            force=True,
            message=release_note,
        )
        IntegrationRun.objects.filter(pk=run.pk).update(message=f"{run.message} — released as run {new.pk}")
        transaction.on_commit(lambda: _enqueue(new.pk))
    return new
