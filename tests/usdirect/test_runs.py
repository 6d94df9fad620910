"""US Direct end to end through the run machinery (run_execute) against the simulator: inventory, FRs, shipments,
invoices, and every misbehaviour of the simulator ending in a clear run error with nothing lost or doubled."""

from decimal import Decimal

import pytest

from flxhub.exceptions import TransientError
from inventory.models import InventoryVariant
from orders.integrations import usdirect  # noqa: F401  (registers the protocol, as the orders app does)
from orders.integrations.usdirect_setup import usdirect_source_setup
from orders.models import FulfillmentRequest, Shipment, SourceInvoice
from orders.services.fr_actions import fr_process
from sources.models import Integration, IntegrationRun
from sources.services.runs import integration_trigger, run_execute
from tests.factories import OrderFactory

from .conftest import API_TOKEN, RESELLER_TOKEN

pytestmark = pytest.mark.django_db
Op = Integration.Operation
Status = IntegrationRun.Status


@pytest.fixture
def source(simulator):
    return usdirect_source_setup(
        name="US Direct",
        base_url=simulator.base_url,
        api_token=API_TOKEN,
        reseller_token=RESELLER_TOKEN,
        schedules=False,
    )


def run(source, operation) -> IntegrationRun:
    integration = source.integrations.get(operation=operation)
    return run_execute(run_id=integration_trigger(integration_id=integration.pk, enqueue=False).pk)


def sim_orders(simulator):
    return simulator.state.snapshot()["orders"]


@pytest.fixture
def launched_fr(source, make_fr):
    """An FR for two US Direct SKUs (from the feed), launched to processing."""
    assert run(source, Op.GET_INVENTORY_PRIMARY).status == Status.SUCCEEDED
    bottle = InventoryVariant.objects.get(source=source, sku="IWB-750")
    lamp = InventoryVariant.objects.get(source=source, sku="HL-400")
    order = OrderFactory(channel_order_number="54007", requested_shipping_method="express")
    fr = make_fr((bottle, 1), (lamp, 2), order=order)
    fr_process(fr_id=fr.pk, actor_label="test")
    return FulfillmentRequest.objects.get(pk=fr.pk)


def test_primary_inventory_run_creates_usd_prefixed_variants_from_the_feed(source, simulator):
    result = run(source, Op.GET_INVENTORY_PRIMARY)

    variants = InventoryVariant.objects.filter(source=source)
    assert result.status == Status.SUCCEEDED, result.message
    assert result.created_count == len(simulator.state.catalogue) == variants.count()
    bottle = variants.get(sku="IWB-750")
    assert (bottle.master_sku, bottle.title, bottle.cost, bottle.quantity) == (
        "USD-IWB-750",
        "Insulated Water Bottle 750ml",
        Decimal("9.20"),
        40,
    )


def test_secondary_inventory_run_updates_quantity_and_price_only(source, simulator):
    run(source, Op.GET_INVENTORY_PRIMARY)
    simulator.state.catalogue[0].update(price="38.00", quantity="3", name="Renamed")

    result = run(source, Op.GET_INVENTORY_SECONDARY)

    shoe = InventoryVariant.objects.get(source=source, sku="TRS-8")
    assert result.status == Status.SUCCEEDED, result.message
    assert result.updated_count == 1
    assert (shoe.cost, shoe.quantity, shoe.title) == (Decimal("38.00"), 3, "Trail Running Shoe 8")


def test_feed_rows_missing_required_fields_are_row_errors_of_a_partial_run(source, simulator):
    simulator.state.catalogue[1]["name"] = ""
    simulator.state.catalogue[2]["price"] = ""

    result = run(source, Op.GET_INVENTORY_PRIMARY)

    errors = {(e.row_number, e.sku, e.field) for e in result.row_errors.all()}
    assert result.status == Status.PARTIAL
    assert errors == {(2, "TRS-9", "title"), (3, "TRS-10", "cost")}
    assert not InventoryVariant.objects.filter(source=source, sku__in=["TRS-9", "TRS-10"]).exists()


def test_a_feed_with_rotated_credentials_fails_the_run_clearly(source, simulator):
    simulator.state.configure(bad_credentials=True)

    result = run(source, Op.GET_INVENTORY_PRIMARY)

    assert result.status == Status.FAILED
    assert result.message.startswith("Wrong credentials: the feed server answered HTTP 401")
    assert not InventoryVariant.objects.filter(source=source).exists()


def test_the_whole_order_loop_and_nothing_doubles_when_every_run_repeats(source, simulator, launched_fr):
    sent = run(source, Op.SEND_FULFILLMENT_REQUESTS)
    fr = FulfillmentRequest.objects.get(pk=launched_fr.pk)
    assert sent.status == Status.SUCCEEDED, sent.message
    assert fr.status == FulfillmentRequest.Status.ACKNOWLEDGED
    [order] = sim_orders(simulator)
    assert (order["po_number"], order["shipping_code"]) == (fr.number, "FEDEX-EXP")
    assert fr.source_reference == order["order_id"]

    shipments = run(source, Op.GET_SHIPMENTS)
    fr.refresh_from_db()
    [shipment] = Shipment.objects.filter(fulfillment_request=fr)
    assert shipments.status == Status.SUCCEEDED, shipments.message
    assert fr.shipping_status == FulfillmentRequest.ShippingStatus.SHIPPED
    assert shipment.carrier == "FedEx" and len(shipment.tracking_number) == 12 and shipment.shipped_at

    invoices = run(source, Op.GET_SOURCE_INVOICES)
    [invoice] = SourceInvoice.objects.filter(fulfillment_request=fr)
    assert invoices.status == Status.SUCCEEDED, invoices.message
    assert (invoice.invoice_number, invoice.total) == ("USD-INV-000001", Decimal("9.20") + 2 * Decimal("16.90"))
    assert invoice.match_status == SourceInvoice.MatchStatus.MATCHED, invoice.mismatches

    for operation in (Op.SEND_FULFILLMENT_REQUESTS, Op.GET_SHIPMENTS, Op.GET_SOURCE_INVOICES):
        assert run(source, operation).status in (Status.SUCCEEDED, Status.SKIPPED)
    assert len(sim_orders(simulator)) == 1
    assert Shipment.objects.filter(fulfillment_request=fr).count() == 1
    assert SourceInvoice.objects.filter(fulfillment_request=fr).count() == 1


def test_a_missing_required_field_fails_the_fr_with_the_guide_s_message_and_sends_nothing(
    source, simulator, launched_fr
):
    launched_fr.order.__class__.objects.filter(pk=launched_fr.order_id).update(ship_postal_code="")

    result = run(source, Op.SEND_FULFILLMENT_REQUESTS)

    fr = FulfillmentRequest.objects.get(pk=launched_fr.pk)
    assert fr.status == FulfillmentRequest.Status.FAILED
    assert f"FR {fr.number} was not sent to US Direct" in fr.status_reason
    assert "Ship To Zip (the order's shipping postal code)" in fr.status_reason
    assert "Ship To Zip" in result.log
    assert sim_orders(simulator) == []
    assert not [r for r in simulator.state.snapshot()["requests"] if r["method"] == "POST"]


def test_send_with_rotated_credentials_fails_the_run_and_keeps_the_fr_for_later(source, simulator, launched_fr):
    simulator.state.configure(bad_credentials=True)

    result = run(source, Op.SEND_FULFILLMENT_REQUESTS)

    assert result.status == Status.FAILED
    assert "US Direct refused the API token (HTTP 401): it is wrong or was rotated" in result.message
    assert sim_orders(simulator) == []
    simulator.state.configure(bad_credentials=False)
    assert run(source, Op.SEND_FULFILLMENT_REQUESTS).status == Status.SUCCEEDED
    assert len(sim_orders(simulator)) == 1


def test_a_server_error_retries_and_the_fr_is_sent_once(source, simulator, launched_fr):
    simulator.state.configure(fail_status=500, fail_times=1)
    integration = source.integrations.get(operation=Op.SEND_FULFILLMENT_REQUESTS)
    queued = integration_trigger(integration_id=integration.pk, enqueue=False)

    with pytest.raises(TransientError):
        run_execute(run_id=queued.pk)
    retried = run_execute(run_id=queued.pk)

    assert "US Direct answered HTTP 500 to POST /v1/orders" in retried.log
    assert retried.status == Status.SUCCEEDED, retried.message
    assert len(sim_orders(simulator)) == 1
    assert FulfillmentRequest.objects.get(pk=launched_fr.pk).status == FulfillmentRequest.Status.ACKNOWLEDGED


def test_a_shipment_missing_tracking_is_a_row_error_the_others_apply_and_it_arrives_once_fixed(
    source, simulator, launched_fr, make_fr
):
    lamp = InventoryVariant.objects.get(source=source, sku="HL-400")
    second = make_fr((lamp, 1), order=OrderFactory(channel_order_number="54008", requested_shipping_method="ground"))
    fr_process(fr_id=second.pk, actor_label="test")
    assert run(source, Op.SEND_FULFILLMENT_REQUESTS).status == Status.SUCCEEDED
    simulator.state.configure(omit_shipment_fields=["tracking_number"], omit_for_po_numbers=[launched_fr.number])

    partial = run(source, Op.GET_SHIPMENTS)
    simulator.state.configure(omit_shipment_fields=[], omit_for_po_numbers=[])
    fixed = run(source, Op.GET_SHIPMENTS)

    assert partial.status == Status.PARTIAL
    assert f"PO {launched_fr.number} lacks tracking number" in partial.log
    error = partial.row_errors.get()
    assert (error.sku, error.field, error.message) == (launched_fr.number, "shipment", "lacks tracking number")
    assert Shipment.objects.filter(fulfillment_request=second).count() == 1
    assert fixed.status == Status.SUCCEEDED
    assert Shipment.objects.filter(fulfillment_request=launched_fr).count() == 1
    assert Shipment.objects.filter(fulfillment_request=second).count() == 1


def test_get_invoices_without_the_reseller_token_fails_asking_for_it(source, simulator, launched_fr):
    run(source, Op.SEND_FULFILLMENT_REQUESTS)
    run(source, Op.GET_SHIPMENTS)
    api = source.connections.get(name="api")
    api.secrets = {"api_token": API_TOKEN}
    api.save()

    result = run(source, Op.GET_SOURCE_INVOICES)

    assert result.status == Status.FAILED
    assert result.message.startswith("Get Invoice needs the US Direct reseller token")
    assert not SourceInvoice.objects.exists()


def test_an_invoice_for_another_po_number_is_a_row_error_naming_it_and_nothing_is_recorded(
    source, simulator, launched_fr
):
    run(source, Op.SEND_FULFILLMENT_REQUESTS)
    run(source, Op.GET_SHIPMENTS)
    simulator.state.configure(invoice_po_mismatch=True)

    result = run(source, Op.GET_SOURCE_INVOICES)

    assert result.status == Status.PARTIAL
    assert "invoice USD-INV-000001 for PO 54007" in result.log
    error = result.row_errors.get()
    assert (error.sku, error.value) == ("54007", "USD-INV-000001")
    assert error.message == "invoice USD-INV-000001 names a PO flxhub did not ask for"
    assert not SourceInvoice.objects.exists()
