"""The demo from scratch: US Direct on the simulator, and order 54008 shipped and its invoice matched in bounded time.

The scheduled runs are driven here with run_execute, in the order Beat would eventually run them, instead of
waiting for Beat's one-minute interval and a worker: the same runners, services and simulator, minus the clock.
"""

import time

import pytest
from django_celery_beat.models import PeriodicTask

from orders import demo
from orders.models import FulfillmentRequest, Order, SourceInvoice
from sources.models import Integration, IntegrationRun, Source
from sources.services.runs import integration_trigger, run_execute

pytestmark = pytest.mark.django_db
Op = Integration.Operation
LOOP = [
    Op.GET_INVENTORY_PRIMARY,
    Op.GET_INVENTORY_SECONDARY,
    Op.SEND_FULFILLMENT_REQUESTS,
    Op.GET_SHIPMENTS,
    Op.GET_SOURCE_INVOICES,
]


@pytest.fixture
def demo_on_simulator(simulator, monkeypatch):
    monkeypatch.setattr(demo, "US_DIRECT_SIMULATOR_URL", simulator.base_url)
    return demo.demo_load()


def test_the_demo_connects_us_direct_with_every_integration_scheduled_each_minute(demo_on_simulator, simulator):
    again = demo.demo_load()

    source = Source.objects.get(name="US Direct")
    integrations = source.integrations.select_related("periodic_task", "connection")
    assert again == demo_on_simulator
    assert source.directory_entry.slug == "us-direct"
    assert {i.operation for i in integrations} == set(LOOP)
    assert {(i.schedule, i.every_minutes) for i in integrations} == {("interval", 1)}
    assert all(i.periodic_task.enabled and i.periodic_task.interval.every == 1 for i in integrations)
    assert PeriodicTask.objects.filter(name__startswith="integration").count() == 5
    assert source.connections.get(name="api").url == simulator.base_url
    fr = FulfillmentRequest.objects.get(order__channel_order_number="54008")
    assert (fr.source, fr.status, fr.source_shipping_code) == (source, "processing", "UPS-GND")


def test_the_demo_order_reaches_shipped_and_its_invoice_matches_within_a_bounded_time(demo_on_simulator, simulator):
    source = Source.objects.get(name="US Direct")
    integrations = {i.operation: i for i in source.integrations.all()}
    order = Order.objects.get(channel_order_number="54008")
    deadline = time.monotonic() + 60
    runs = []
    while time.monotonic() < deadline:
        for operation in LOOP:
            queued = integration_trigger(integration_id=integrations[operation].pk, enqueue=False)
            runs.append(run_execute(run_id=queued.pk))
        fr = FulfillmentRequest.objects.get(order=order)
        if fr.invoice_status != FulfillmentRequest.InvoiceStatus.NONE:
            break

    failed = [(r.integration.operation, r.message) for r in runs if r.status == IntegrationRun.Status.FAILED]
    assert failed == []
    assert fr.shipping_status == FulfillmentRequest.ShippingStatus.SHIPPED
    assert fr.shipments.get().tracking_number.startswith("1ZUSD")
    invoice = SourceInvoice.objects.get(fulfillment_request=fr)
    assert invoice.match_status == SourceInvoice.MatchStatus.MATCHED, invoice.mismatches
    assert any(o["po_number"] == fr.number for o in simulator.state.snapshot()["orders"])
