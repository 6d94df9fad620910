"""Fixtures for the order-side integration tests: real FTP/SFTP servers, the JSON supplier, a Celery worker."""

from __future__ import annotations

import os
import time
import uuid
from decimal import Decimal

import pytest

from orders.integrations.simulators.generic_json import GenericJsonSupplier
from orders.models import FulfillmentRequest
from orders.services.fr_actions import fr_process
from orders.services.routing import order_generate_frs
from sources.models import Integration, IntegrationRun
from tests.factories import ConnectionFactory, IntegrationFactory
from tests.orders import factories_routing as build
from tests.sources.transports import servers
from tests.workers import celery_worker_process, database_url_of

Operation = Integration.Operation
FOLDERS = ("in", "out", "archive")


def make_root(path):
    for name in FOLDERS:
        (path / name).mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def sftp_host_key():
    import asyncssh

    return asyncssh.generate_private_key("ssh-ed25519")


@pytest.fixture
def ftp_server(tmp_path):
    with servers.FTPServerThread(make_root(tmp_path / "ftp"), "supplier", "s3cret-ftp") as info:
        yield info


@pytest.fixture
def sftp_server(tmp_path, sftp_host_key):
    with servers.SFTPServerThread(make_root(tmp_path / "sftp"), "supplier", "s3cret-sftp", sftp_host_key) as info:
        yield info


class DroppingSFTPServerThread(servers.SFTPServerThread):
    """The SFTP test server, except that the first upload larger than ``drop_after`` bytes loses its connection."""

    def __init__(self, *args, drop_after: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.drop_after = drop_after
        self.dropped = 0

    async def _listen(self):
        import asyncssh

        thread, username, password = self, self._username, self._password

        class PasswordServer(asyncssh.SSHServer):
            def begin_auth(self, user: str) -> bool:
                return True

            def password_auth_supported(self) -> bool:
                return True

            def validate_password(self, user: str, offered: str) -> bool:
                return user == username and offered == password

        class DroppingSFTPServer(asyncssh.SFTPServer):
            written = 0

            def write(self, file_obj, offset, data):
                self.written += len(data)
                if not thread.dropped and offset + len(data) >= thread.drop_after:
                    thread.dropped += 1
                    self.channel.get_connection().abort()
                    raise asyncssh.SFTPConnectionLost("dropped by the test")
                return super().write(file_obj, offset, data)

        return await asyncssh.listen(
            servers.LOOPBACK,
            0,
            server_host_keys=[self._host_key],
            server_factory=PasswordServer,
            sftp_factory=lambda channel: DroppingSFTPServer(channel, chroot=str(self._root)),
            allow_scp=False,
        )


@pytest.fixture
def dropping_sftp_server(tmp_path, sftp_host_key):
    thread = DroppingSFTPServerThread(
        make_root(tmp_path / "sftp-drop"), "supplier", "s3cret-sftp", sftp_host_key, drop_after=200
    )
    with thread as info:
        info.thread = thread
        yield info


@pytest.fixture
def json_supplier():
    with GenericJsonSupplier(token="supplier-t0ken") as supplier:
        yield supplier


# --- sources, integrations and orders -----------------------------------------------------------------------


def file_connection(source, kind: str, server, **extra):
    return ConnectionFactory(
        source=source,
        kind=kind,
        host=server.host,
        port=server.port,
        username=server.username,
        path="/",
        secrets={"password": server.password},
        pinned_host_key=getattr(server, "host_key", "") if kind == "sftp" else "",
        **extra,
    )


def integrations(source, connection, *, file_format: str, patterns: dict | None = None, **options) -> dict:
    """The four order-side integrations of ``source``: FRs to ``in/``, everything back from ``out/``."""
    patterns = patterns or {}
    made = {}
    for operation in (
        Operation.SEND_FULFILLMENT_REQUESTS,
        Operation.GET_FR_ACKNOWLEDGEMENTS,
        Operation.GET_SHIPMENTS,
        Operation.GET_SOURCE_INVOICES,
    ):
        sending = operation == Operation.SEND_FULFILLMENT_REQUESTS
        made[operation] = IntegrationFactory(
            source=source,
            connection=connection,
            operation=operation,
            file_format=file_format,
            path="" if connection.kind == "rest" else ("in" if sending else "out"),
            file_pattern=patterns.get(operation, ""),
            archive_folder="" if sending or connection.kind == "rest" else "archive",
            options=options,
        )
    return made


def paid_order_fr(source, lines: list[tuple], *, process: bool = True, number: str = "") -> FulfillmentRequest:
    """Stock (master SKU, quantity, cost[, UPC]) at ``source``, order them, generate the FR and process it.

    ``number`` renames the FR (to match the PO number of a real partner's file).
    """
    ordered = []
    for master_sku, quantity, cost, *upc in lines:
        product = build.product(master_sku)
        build.stock(source, product, quantity=max(10, quantity), cost=cost, upc=upc[0] if upc else "")
        ordered.append((product, quantity))
    order = build.order(*ordered)
    result = order_generate_frs(order_id=order.pk, actor_label="test")
    assert len(result.frs) == 1, result.roadblocks
    fr = result.frs[0]
    if number:
        FulfillmentRequest.objects.filter(pk=fr.pk).update(number=number)
    if process:
        fr_process(fr_id=fr.pk, actor_label="test")
    fr.refresh_from_db()
    return fr


def supplier_source(name: str, **kwargs):
    return build.source(name, shipping_method_map={"ground": "UPS-GND", "express": "FEDEX-EXP"}, **kwargs)


COST = Decimal("12.50")


# --- a real worker ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def worker_queue(django_db_setup, django_db_blocker, tmp_path_factory):
    """A Celery worker process on Redis against this test process's database, with its own default queue."""
    from django.db import connection

    queue = f"test-integrations-{uuid.uuid4().hex[:8]}"
    with django_db_blocker.unblock():
        url = database_url_of(connection)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.integrations.worker_settings",
        "DATABASE_URL": url,
        "FLXHUB_TEST_QUEUE": queue,
    }
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    with celery_worker_process(env, queue=queue, log_path=log):
        yield queue


def run_scheduled(queue: str, integration, timeout: float = 60) -> IntegrationRun:
    """Send the task Beat sends for ``integration`` to the worker; wait for the run it queues to finish."""
    from sources.tasks import integration_scheduled_task

    before = IntegrationRun.objects.filter(integration=integration).order_by("-pk").values_list("pk", flat=True).first()
    integration_scheduled_task.apply_async(args=[integration.pk], queue=queue)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = IntegrationRun.objects.filter(integration=integration, pk__gt=before or 0).order_by("pk").first()
        if run is not None and run.status in IntegrationRun.FINISHED:
            return run
        time.sleep(0.1)
    raise AssertionError(f"the scheduled run of {integration} did not finish within {timeout} s")


def wait_for(predicate, timeout: float = 30, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what} did not hold within {timeout} s")


def run_now(integration) -> IntegrationRun:
    """Run the integration in this process (fault tests drive retries by hand)."""
    from sources.services.runs import integration_trigger, run_execute

    return run_execute(run_id=integration_trigger(integration_id=integration.pk, enqueue=False).pk)
