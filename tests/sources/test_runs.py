"""The integration run machinery: claim, skip, retryable and permanent failures, holds, row errors, schedules."""

from dataclasses import dataclass
from datetime import time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from flxhub.exceptions import ApplicationError, TransientError
from sources import runners
from sources.models import Integration, IntegrationRun
from sources.runners import RunHeld
from sources.services.runs import integration_trigger, run_execute, run_release_held
from sources.services.schedules import integration_save
from tests.factories import ConnectionFactory, IntegrationFactory

Status = IntegrationRun.Status
OPERATION = Integration.Operation.GET_INVENTORY_IMAGES


@dataclass
class Err:
    row: int
    sku: str
    field: str
    value: str
    message: str


@pytest.fixture
def runner(monkeypatch, tmp_path):
    """Register a runner for OPERATION whose behaviour the test sets; restore the registry afterwards."""
    monkeypatch.setattr(runners, "_RUNNERS", dict(runners._RUNNERS))
    behaviour = {}

    def run(ctx):
        return behaviour["fn"](ctx)

    runners.register_runner(OPERATION, run)
    return behaviour


@pytest.fixture
def integration(tmp_path):
    connection = ConnectionFactory(kind="upload", path=str(tmp_path))
    (tmp_path / "feed.csv").write_text("sku,qty\nA,1\n")
    return IntegrationFactory(source=connection.source, connection=connection, operation=OPERATION)


@pytest.mark.django_db
def test_a_run_reads_through_its_transport_and_stores_counts_and_log(runner, integration):
    def fn(ctx):
        data = ctx.transport().fetch("feed.csv")
        ctx.counts["read"] = data.count(b"\n") - 1
        ctx.progress(1, 1)
        ctx.log(f"read {len(data)} bytes")

    runner["fn"] = fn
    run = run_execute(run_id=integration_trigger(integration_id=integration.pk, enqueue=False).pk)
    assert run.status == Status.SUCCEEDED
    assert (run.read_count, run.progress_done, run.progress_total) == (1, 1, 1)
    assert "read 12 bytes" in run.log and run.message == "read 12 bytes"
    integration.refresh_from_db()
    assert integration.claimed_by_run is None


@pytest.mark.django_db
def test_overlapping_trigger_is_skipped_while_a_live_claim_is_held(runner, integration):
    runner["fn"] = lambda ctx: None
    first = integration_trigger(integration_id=integration.pk, enqueue=False)
    Integration.objects.filter(pk=integration.pk).update(
        claimed_by_run=first, claim_expires_at=timezone.now() + timedelta(minutes=5)
    )
    second = run_execute(run_id=integration_trigger(integration_id=integration.pk, enqueue=False).pk)
    assert second.status == Status.SKIPPED
    assert "in progress" in second.message


@pytest.mark.django_db
def test_a_crashed_runs_claim_expires_and_a_later_run_proceeds(runner, integration):
    runner["fn"] = lambda ctx: None
    crashed = integration_trigger(integration_id=integration.pk, enqueue=False)
    IntegrationRun.objects.filter(pk=crashed.pk).update(status=Status.RUNNING)
    Integration.objects.filter(pk=integration.pk).update(
        claimed_by_run=crashed, claim_expires_at=timezone.now() - timedelta(seconds=1)
    )
    later = run_execute(run_id=integration_trigger(integration_id=integration.pk, enqueue=False).pk)
    assert later.status == Status.SUCCEEDED
    crashed.refresh_from_db()
    assert crashed.status == Status.FAILED and f"run {later.pk} took over" in crashed.message


@pytest.mark.django_db
def test_transient_error_requeues_the_run_for_a_retry(runner, integration):
    def fn(ctx):
        raise TransientError("server busy")

    runner["fn"] = fn
    run = integration_trigger(integration_id=integration.pk, enqueue=False)
    with pytest.raises(TransientError):
        run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert (run.status, run.attempt) == (Status.QUEUED, 2)
    assert "server busy" in run.log
    runner["fn"] = lambda ctx: ctx.log("ok now")
    assert run_execute(run_id=run.pk).status == Status.SUCCEEDED


@pytest.mark.django_db
def test_permanent_error_fails_the_run_with_its_message(runner, integration):
    def fn(ctx):
        raise ApplicationError("Feed URL not found (404)")

    runner["fn"] = fn
    run = run_execute(run_id=integration_trigger(integration_id=integration.pk, enqueue=False).pk)
    assert (run.status, run.message) == (Status.FAILED, "Feed URL not found (404)")


@pytest.mark.django_db
def test_row_errors_make_a_partial_run_and_download_as_csv(runner, integration, admin_client):
    def fn(ctx):
        ctx.counts["read"] = 3
        ctx.row_errors([Err(2, "A-1", "upc", "3.65275E+11", "UPC in scientific notation")])

    runner["fn"] = fn
    run = run_execute(run_id=integration_trigger(integration_id=integration.pk, enqueue=False).pk)
    assert (run.status, run.error_count) == (Status.PARTIAL, 1)
    response = admin_client.get(reverse("admin:run_row_errors", args=[run.pk]))
    body = b"".join(response.streaming_content).decode()
    assert body.splitlines() == ["row,sku,field,value,message", "2,A-1,upc,3.65275E+11,UPC in scientific notation"]


@pytest.mark.django_db
def test_held_run_is_released_as_a_forced_run(runner, integration):
    def fn(ctx):
        if not ctx.run.force:
            raise RunHeld("Feed would archive 80% of active variants (threshold 50%).")
        ctx.log("applied")

    runner["fn"] = fn
    held = run_execute(run_id=integration_trigger(integration_id=integration.pk, enqueue=False).pk)
    assert held.status == Status.HELD
    released = run_release_held(run_id=held.pk)
    assert released.force
    assert run_execute(run_id=released.pk).status == Status.SUCCEEDED


@pytest.mark.django_db
def test_saving_an_integration_creates_updates_and_disables_its_periodic_task(integration):
    integration.schedule, integration.every_minutes = Integration.Schedule.INTERVAL, 15
    integration = integration_save(integration=integration)
    task = PeriodicTask.objects.get(pk=integration.periodic_task_id)
    assert (task.enabled, task.interval.every, task.interval.period, task.task) == (
        True,
        15,
        "minutes",
        "sources.integration_scheduled",
    )
    integration.schedule, integration.daily_at = Integration.Schedule.DAILY, time(6, 30)
    integration = integration_save(integration=integration)
    task.refresh_from_db()
    assert (task.crontab.hour, task.crontab.minute, task.interval) == ("6", "30", None)
    integration.schedule, integration.cron = Integration.Schedule.CRON, "*/5 8-18 * * 1-5"
    integration = integration_save(integration=integration)
    task.refresh_from_db()
    assert (task.crontab.minute, task.crontab.hour, task.crontab.day_of_week) == ("*/5", "8-18", "1-5")
    integration.schedule = Integration.Schedule.NONE
    integration_save(integration=integration)
    task.refresh_from_db()
    assert task.enabled is False


@pytest.mark.django_db
def test_a_held_run_is_released_only_once(runner, integration):
    def fn(ctx):
        raise RunHeld("Feed is empty.")

    runner["fn"] = fn
    held = run_execute(run_id=integration_trigger(integration_id=integration.pk, enqueue=False).pk)
    released = run_release_held(run_id=held.pk)
    with pytest.raises(ApplicationError, match=f"already released as run {released.pk}"):
        run_release_held(run_id=held.pk)
