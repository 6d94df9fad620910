"""Get Inventory with real processes: Beat schedules it, Celery workers run it, overlaps skip, a killed worker's
run leaves inventory as it was.

To stop a run deterministically inside its apply transaction, the test holds a row lock (from its own database
connection) on the one variant the new feed archives: the worker's merge has then written its updates and inserts
and waits on that lock, uncommitted.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta

import psycopg
import pytest
from django.db import connection
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from inventory.models import InventoryVariant
from sources.models import Integration, IntegrationRun
from sources.services.runs import integration_trigger, run_execute
from sources.services.schedules import integration_save
from sources.tasks import integration_run_task
from tests.workers import REPO_ROOT, celery_worker_process, database_url_of

from .conftest import csv_feed
from .helpers import template_from_builtin, upload_integration

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
Status = IntegrationRun.Status
COLUMNS = ("sku", "title", "quantity")
FIRST = [(f"S-{n}", f"Item {n}", 5) for n in range(20)]
# The next feed: S-0 gets a new quantity, S-19 is missing (archived), N-1 is new.
SECOND = [("S-0", "Item 0", 9), *FIRST[1:19], ("N-1", "New", 1)]


def wait_for(check, timeout=60.0, interval=0.2, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def worker_env(queue: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.inventory.worker_settings",
        "DATABASE_URL": database_url_of(connection),
        "FLXHUB_TEST_QUEUE": queue,
        **extra,
    }


@pytest.fixture
def feed_integration(tmp_path):
    """A primary integration over an upload folder, with FIRST applied; SECOND is waiting in the folder."""
    integration = upload_integration(
        tmp_path, template=template_from_builtin("generic_csv_inventory"), file_pattern="inv_*.csv"
    )
    (tmp_path / "inv_1.csv").write_bytes(csv_feed(FIRST, COLUMNS))
    assert run_execute(run_id=integration_trigger(integration_id=integration.pk, enqueue=False).pk).created_count == 20
    (tmp_path / "inv_2.csv").write_bytes(csv_feed(SECOND, COLUMNS))
    os.utime(tmp_path / "inv_2.csv", (time.time() + 5, time.time() + 5))  # newest
    return integration


def inventory_of(integration):
    return sorted(InventoryVariant.objects.filter(source=integration.source).values_list("sku", "quantity", "status"))


@contextlib.contextmanager
def variant_locked(sku: str):
    """Hold a row lock on one variant from a separate connection; yield that connection."""
    with psycopg.connect(database_url_of(connection).replace("postgres://", "postgresql://")) as holder:
        holder.execute("SELECT id FROM inventory_inventoryvariant WHERE sku = %s FOR UPDATE", [sku])
        try:
            yield holder
        finally:
            holder.rollback()


def blocked_backend() -> int | None:
    """The database session waiting on a lock (asked from the test's own connection, outside the holder's snapshot)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database() LIMIT 1"
        )
        row = cursor.fetchone()
    return row[0] if row else None


def session_alive(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone() is not None


def worker_pid(queue: str) -> int:
    """The pid of the worker process this test started for ``queue`` (a child of this process)."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                args = cmdline.read().split(b"\0")
            with open(f"/proc/{entry}/stat") as stat:
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
        if parent == os.getpid() and queue.encode() in args:
            return int(entry)
    raise AssertionError(f"no worker process for queue {queue}")


def test_a_scheduled_integration_runs_from_beat_on_a_real_worker(tmp_path):
    integration = upload_integration(
        tmp_path, template=template_from_builtin("generic_csv_inventory"), file_pattern="inv*.csv"
    )
    (tmp_path / "inv.csv").write_bytes(csv_feed(FIRST, COLUMNS))
    integration.schedule, integration.every_minutes = Integration.Schedule.INTERVAL, 1
    integration = integration_save(integration=integration)
    # The last scheduled run was two minutes ago, so the every-minute schedule is due as Beat starts.
    PeriodicTask.objects.filter(pk=integration.periodic_task_id).update(
        last_run_at=timezone.now() - timedelta(minutes=2)
    )
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = worker_env(queue)
    with celery_worker_process(env, queue=queue, log_path=tmp_path / "worker.log"):
        beat = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "flxhub",
                "beat",
                "-S",
                "django_celery_beat.schedulers:DatabaseScheduler",
                "--max-interval",
                "1",
                "--pidfile=",
                "-l",
                "info",
            ],
            cwd=REPO_ROOT,
            env=env,
            stdout=open(tmp_path / "beat.log", "w"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
        )
        try:
            run = wait_for(
                lambda: IntegrationRun.objects.filter(
                    integration=integration, trigger="schedule", status__in=IntegrationRun.FINISHED
                ).first(),
                what="a scheduled run",
            )
        finally:
            beat.terminate()
            beat.wait(timeout=20)
    assert run.status == Status.SUCCEEDED, run.message + (tmp_path / "worker.log").read_text()[-2000:]
    assert run.created_count == 20
    task = PeriodicTask.objects.get(pk=integration.periodic_task_id)
    assert task.total_run_count >= 1 and task.last_run_at > timezone.now() - timedelta(minutes=1)


def test_two_overlapping_triggers_give_one_applied_run_and_one_skipped(feed_integration, tmp_path):
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = worker_env(queue)
    with (
        celery_worker_process(env, queue=queue, log_path=tmp_path / "worker1.log"),
        celery_worker_process(env, queue=queue, log_path=tmp_path / "worker2.log"),
        variant_locked("S-19") as holder,
    ):
        first = integration_trigger(integration_id=feed_integration.pk, enqueue=False)
        integration_run_task.apply_async(args=[first.pk], queue=queue)
        wait_for(lambda: blocked_backend(), what="the first run to reach its merge")
        second = integration_trigger(integration_id=feed_integration.pk, enqueue=False)
        integration_run_task.apply_async(args=[second.pk], queue=queue)
        wait_for(lambda: IntegrationRun.objects.get(pk=second.pk).status == Status.SKIPPED, what="a skipped run")
        holder.rollback()
        wait_for(lambda: IntegrationRun.objects.get(pk=first.pk).status in IntegrationRun.FINISHED, what="the run")
    first.refresh_from_db()
    assert (first.status, first.updated_count, first.created_count, first.archived_count) == (
        Status.SUCCEEDED,
        1,
        1,
        1,
    )
    assert "in progress" in IntegrationRun.objects.get(pk=second.pk).message


def test_a_worker_killed_mid_apply_leaves_inventory_unchanged_and_a_later_run_succeeds(feed_integration, tmp_path):
    before = inventory_of(feed_integration)
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = worker_env(queue, FLXHUB_RUN_CLAIM_TTL_SECONDS="3")
    with (
        celery_worker_process(env, queue=queue, log_path=tmp_path / "killed.log"),
        variant_locked("S-19") as holder,
    ):
        doomed = integration_trigger(integration_id=feed_integration.pk, enqueue=False)
        integration_run_task.apply_async(args=[doomed.pk], queue=queue)
        backend = wait_for(lambda: blocked_backend(), what="the run to block inside its merge")
        os.kill(worker_pid(queue), signal.SIGKILL)
        assert inventory_of(feed_integration) == before
        holder.rollback()  # the orphaned backend finishes its statement, finds its client gone, and rolls back
        wait_for(
            lambda: not session_alive(backend),
            what="the killed worker's database session to end",
        )
    assert inventory_of(feed_integration) == before
    assert IntegrationRun.objects.get(pk=doomed.pk).status == Status.RUNNING
    wait_for(
        lambda: Integration.objects.get(pk=feed_integration.pk).claim_expires_at < timezone.now(),
        what="the claim to expire",
    )
    with celery_worker_process(env, queue=queue, log_path=tmp_path / "later.log"):
        later = integration_trigger(integration_id=feed_integration.pk, enqueue=False)
        integration_run_task.apply_async(args=[later.pk], queue=queue)
        wait_for(lambda: IntegrationRun.objects.get(pk=later.pk).status in IntegrationRun.FINISHED, what="the run")
    later.refresh_from_db()
    assert later.status == Status.SUCCEEDED, later.message
    after = dict((sku, (quantity, status)) for sku, quantity, status in inventory_of(feed_integration))
    assert after["S-0"] == (9, "active") and after["S-19"] == (0, "archived") and after["N-1"] == (1, "active")
