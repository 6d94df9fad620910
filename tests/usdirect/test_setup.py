"""The supplier directory entry and the US Direct source set-up: what they create, idempotently, and that it works."""

import io

import pytest
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from orders.integrations.rest import get_rest_protocol
from orders.integrations.usdirect_setup import usdirect_source_setup
from sources.formats import read_records
from sources.mapping import map_records
from sources.models import Connection, Integration, MappingTemplate, Source, SupplierDirectoryEntry
from sources.services.connections import connection_settings
from sources.services.directory import directory_ensure_builtin
from sources.services.schedules import TASK_NAME as INTEGRATION_TASK
from sources.transports import get_transport

from .conftest import API_TOKEN, RESELLER_TOKEN

pytestmark = pytest.mark.django_db
Op = Integration.Operation


def setup(server, **kwargs):
    return usdirect_source_setup(
        name="US Direct", base_url=server.base_url, api_token=API_TOKEN, reseller_token=RESELLER_TOKEN, **kwargs
    )


def test_the_directory_entry_pre_fills_us_direct_and_loading_twice_changes_nothing():
    directory_ensure_builtin()
    call_command("directory_load", stdout=io.StringIO())

    entry = SupplierDirectoryEntry.objects.get(slug="us-direct")
    assert SupplierDirectoryEntry.objects.filter(slug="us-direct").count() == 1
    assert (entry.name, entry.connection_kind, entry.sku_prefix) == ("US Direct", "rest", "USD-")
    assert [c["label"] for c in entry.defaults["credentials"]] == ["API token", "Feed URL", "Reseller token"]
    assert entry.defaults["connections"]["api"]["options"] == {"protocol": "usdirect"}
    assert entry.defaults["source"]["shipping_method_map"] == {
        "ground": "UPS-GND",
        "express": "FEDEX-EXP",
        "priority": "USPS-PRIORITY",
    }
    assert [i["operation"] for i in entry.defaults["integrations"]] == [
        Op.GET_INVENTORY_PRIMARY,
        Op.GET_INVENTORY_SECONDARY,
        Op.SEND_FULFILLMENT_REQUESTS,
        Op.GET_SHIPMENTS,
        Op.GET_SOURCE_INVOICES,
    ]
    template = MappingTemplate.objects.get(name="US Direct inventory", is_builtin=True)
    assert MappingTemplate.objects.filter(name="US Direct inventory").count() == 1
    rules = {(r.target, r.source, r.required) for r in template.field_rules.all()}
    assert {("sku", "Product SKU", True), ("title", "Product Name", True), ("cost", "Pricing", True)} <= rules
    assert ("quantity", "Quantity", True) in rules


def test_setup_creates_the_source_its_connections_and_scheduled_integrations(simulator):
    source = setup(simulator)

    feed = source.connections.get(name="feed")
    api = source.connections.get(name="api")
    assert (source.sku_prefix, source.directory_entry.slug) == ("USD-", "us-direct")
    assert source.shipping_method_map["express"] == "FEDEX-EXP"
    assert not source.auto_process_frs  # verify first: the guide sends a single order by hand before automating
    assert (feed.kind, feed.url, feed.secrets) == ("http", simulator.feed_url, {"token": API_TOKEN})
    assert (api.kind, api.url, api.options["protocol"]) == ("rest", simulator.base_url, "usdirect")
    assert api.secrets == {"api_token": API_TOKEN, "reseller_token": RESELLER_TOKEN}
    integrations = {i.operation: i for i in source.integrations.select_related("connection", "periodic_task")}
    assert set(integrations) == {
        Op.GET_INVENTORY_PRIMARY,
        Op.GET_INVENTORY_SECONDARY,
        Op.SEND_FULFILLMENT_REQUESTS,
        Op.GET_SHIPMENTS,
        Op.GET_SOURCE_INVOICES,
    }
    assert integrations[Op.GET_INVENTORY_PRIMARY].connection == feed
    assert integrations[Op.GET_INVENTORY_SECONDARY].mapping_template.name == "US Direct inventory"
    assert integrations[Op.GET_SHIPMENTS].connection == api
    assert integrations[Op.GET_INVENTORY_PRIMARY].schedule == "daily"
    assert integrations[Op.GET_SHIPMENTS].every_minutes == 60
    assert all(i.periodic_task and i.periodic_task.enabled for i in integrations.values())


def test_secrets_are_encrypted_at_rest(simulator):
    from django.db import connection as db

    setup(simulator)

    with db.cursor() as cursor:
        cursor.execute("SELECT secrets::text FROM sources_connection")
        stored = " ".join(row[0] for row in cursor.fetchall())
    assert API_TOKEN not in stored and RESELLER_TOKEN not in stored


def test_setup_again_refreshes_without_duplicating(simulator):
    setup(simulator)

    source = usdirect_source_setup(
        name="US Direct", base_url=simulator.base_url, api_token="new-token", reseller_token="", every_minutes=1
    )

    assert Source.objects.count() == 1 and Connection.objects.count() == 2
    assert (
        Integration.objects.count() == 5
        and PeriodicTask.objects.filter(enabled=True, task=INTEGRATION_TASK).count() == 5
    )
    assert source.connections.get(name="api").secrets == {"api_token": "new-token"}
    assert set(source.integrations.values_list("schedule", "every_minutes")) == {("interval", 1)}


def test_setup_without_schedules_leaves_every_integration_manual(simulator):
    source = setup(simulator, schedules=False)

    assert set(source.integrations.values_list("schedule", flat=True)) == {"none"}
    assert not PeriodicTask.objects.filter(enabled=True, task=INTEGRATION_TASK).exists()


def test_setup_adopts_an_existing_source_of_that_name(simulator):
    Source.objects.create(name="US Direct", sku_prefix="", shipping_method_map={"ground": "UPS-GND"})

    source = setup(simulator)

    assert source.sku_prefix == "USD-"
    assert source.shipping_method_map == {"ground": "UPS-GND"}  # an operator's map is kept


def test_the_set_up_connections_reach_the_simulator(simulator):
    source = setup(simulator)
    feed = source.integrations.get(operation=Op.GET_INVENTORY_PRIMARY)
    api = source.connections.get(name="api")

    with get_transport(connection_settings(feed.connection)) as transport:
        [remote] = transport.list_files(feed.file_pattern or "*")
        rows = list(map_records(feed.mapping_template.to_spec(), read_records("csv", transport.fetch(remote.name))))
    settings = connection_settings(api)
    ok, message = get_rest_protocol(settings.options["protocol"]).test(settings)

    assert rows[0].data["master_sku"] == "USD-TRS-8"
    assert ok, message
