"""A real Celery worker process runs tasks: on Redis with PostgreSQL, and embedded (SQLite + filesystem broker)."""

import os
import subprocess
import sys

import pytest
from django.db import connection

from flxhub.tasks import ping
from orders.models import Order
from orders.services.fr_status import fr_transition
from orders.services.shipments import ShipmentLineRequest, shipment_record
from orders.tasks import order_refresh_status_task
from tests.factories import VariantFactory
from tests.workers import REPO_ROOT, celery_worker_process, database_url_of

pytestmark = pytest.mark.slow


@pytest.mark.django_db(transaction=True)
def test_worker_on_redis_runs_a_task_against_postgresql(make_fr, tmp_path):
    fr = make_fr((VariantFactory(quantity=5), 2))
    fr_transition(fr_id=fr.pk, to="processing")
    fr_transition(fr_id=fr.pk, to="processed")
    shipment_record(
        fr_id=fr.pk, tracking_number="1ZREAL", lines=[ShipmentLineRequest(quantity=2, sku=fr.lines.get().sku)]
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "flxhub.settings.test", "DATABASE_URL": database_url_of(connection)}
    with celery_worker_process(env, log_path=tmp_path / "worker.log") as queue:
        answer = ping.apply_async(queue=queue).get(timeout=60)
        assert answer == {"pong": True, "database": "postgresql"}
        order_refresh_status_task.apply_async(args=[fr.order_id], queue=queue)
        # The worker closes the order; wait for it through a second task on the same solo worker.
        ping.apply_async(queue=queue).get(timeout=60)
    assert Order.objects.get(pk=fr.order_id).status == Order.Status.CLOSED


def test_embedded_mode_runs_a_task_with_sqlite_and_the_filesystem_broker(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "CELERY_BROKER_URL")
    }
    env.update({"DJANGO_SETTINGS_MODULE": "flxhub.settings.base", "FLXHUB_DATA_DIR": str(tmp_path / "data")})
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], cwd=REPO_ROOT, env=env, check=True, timeout=300)
    assert (tmp_path / "data" / "flxhub.sqlite3").exists()
    assert (tmp_path / "data" / "secret_key").exists() and (tmp_path / "data" / "field_encryption_key").exists()
    with celery_worker_process(env, log_path=tmp_path / "worker.log") as queue:
        probe = f"from flxhub.tasks import ping; print(ping.apply_async(queue={queue!r}).get(timeout=60))"
        out = subprocess.run(
            [*manage, "shell", "-c", probe], cwd=REPO_ROOT, env=env, timeout=120, capture_output=True, text=True
        )
    assert out.returncode == 0, out.stderr + (tmp_path / "worker.log").read_text()
    assert "'pong': True" in out.stdout and "'database': 'sqlite'" in out.stdout, out.stdout + out.stderr
    assert list((tmp_path / "data" / "broker" / "queue").iterdir()) == []  # the message was consumed
