"""Shipments release committed stock and close orders; database constraints reject impossible rows."""

import pytest
from django.db import IntegrityError, transaction

from flxhub.exceptions import Conflict, ValidationFailed
from orders.models import FRLine, FulfillmentRequest, Order, Shipment
from orders.services.fr_status import fr_transition
from orders.services.order_status import order_refresh_status
from orders.services.shipments import ShipmentLineRequest, shipment_record
from tests.factories import OrderFactory, SourceFactory, VariantFactory

Status = FulfillmentRequest.Status


@pytest.fixture
def processed_fr(make_fr):
    variant = VariantFactory(quantity=10)
    fr = make_fr((variant, 3))
    fr_transition(fr_id=fr.pk, to=Status.PROCESSING)
    fr_transition(fr_id=fr.pk, to=Status.PROCESSED)
    return fr


@pytest.mark.django_db
def test_shipment_releases_stock_and_sets_shipping_status(processed_fr):
    line = processed_fr.lines.get()
    shipment_record(
        fr_id=processed_fr.pk, tracking_number="1Z999", lines=[ShipmentLineRequest(quantity=1, sku=line.sku)]
    )
    line.variant.refresh_from_db()
    processed_fr.refresh_from_db()
    assert line.variant.committed_quantity == 2
    assert processed_fr.shipping_status == FulfillmentRequest.ShippingStatus.PARTIALLY_SHIPPED
    shipment_record(
        fr_id=processed_fr.pk, tracking_number="1Z998", lines=[ShipmentLineRequest(quantity=2, sku=line.sku)]
    )
    processed_fr.refresh_from_db()
    line.variant.refresh_from_db()
    assert processed_fr.shipping_status == FulfillmentRequest.ShippingStatus.SHIPPED
    assert line.variant.committed_quantity == 0


@pytest.mark.django_db
def test_order_closes_when_every_line_shipped(processed_fr):
    line = processed_fr.lines.get()
    shipment_record(fr_id=processed_fr.pk, tracking_number="T1", lines=[ShipmentLineRequest(quantity=3, sku=line.sku)])
    order = order_refresh_status(order_id=processed_fr.order_id)
    assert order.status == Order.Status.CLOSED


@pytest.mark.django_db
def test_same_tracking_number_twice_is_not_recorded_twice(processed_fr):
    line = processed_fr.lines.get()
    first, created = shipment_record(
        fr_id=processed_fr.pk, tracking_number="1Z1", lines=[ShipmentLineRequest(quantity=1, sku=line.sku)]
    )
    again, created_again = shipment_record(
        fr_id=processed_fr.pk, tracking_number="1Z1", lines=[ShipmentLineRequest(quantity=1, sku=line.sku)]
    )
    assert created and not created_again and first == again
    line.refresh_from_db()
    assert line.shipped_quantity == 1


@pytest.mark.django_db
def test_shipping_more_than_open_is_refused(processed_fr):
    line = processed_fr.lines.get()
    with pytest.raises(ValidationFailed, match="cannot ship 4; 3 open"):
        shipment_record(
            fr_id=processed_fr.pk, tracking_number="X", lines=[ShipmentLineRequest(quantity=4, sku=line.sku)]
        )
    assert not Shipment.objects.exists()


@pytest.mark.django_db
def test_unprocessed_fr_cannot_receive_a_shipment(make_fr):
    fr = make_fr((VariantFactory(), 1))
    with pytest.raises(Conflict, match="only processed or acknowledged"):
        shipment_record(fr_id=fr.pk, tracking_number="X", lines=[ShipmentLineRequest(quantity=1, fr_line_id=1)])


@pytest.mark.django_db
def test_database_rejects_duplicate_source_sku():
    variant = VariantFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        VariantFactory(source=variant.source, sku=variant.sku)


@pytest.mark.django_db
def test_database_rejects_negative_quantities():
    variant = VariantFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        type(variant).objects.filter(pk=variant.pk).update(committed_quantity=-1)
    with pytest.raises(IntegrityError), transaction.atomic():
        type(variant).objects.filter(pk=variant.pk).update(quantity=-5)


@pytest.mark.django_db
def test_database_rejects_duplicate_fr_number(make_fr):
    fr = make_fr((VariantFactory(), 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        FulfillmentRequest.objects.create(number=fr.number, order=fr.order, source=fr.source)


@pytest.mark.django_db
def test_database_rejects_over_shipped_line(processed_fr):
    with pytest.raises(IntegrityError), transaction.atomic():
        FRLine.objects.filter(fulfillment_request=processed_fr).update(shipped_quantity=4)


@pytest.mark.django_db
def test_database_rejects_duplicate_tracking_unless_allowed(processed_fr):
    Shipment.objects.create(fulfillment_request=processed_fr, tracking_number="DUP")
    with pytest.raises(IntegrityError), transaction.atomic():
        Shipment.objects.create(fulfillment_request=processed_fr, tracking_number="DUP")
    Shipment.objects.create(fulfillment_request=processed_fr, tracking_number="DUP", allow_duplicate_tracking=True)


@pytest.mark.django_db
def test_database_rejects_backorders_outside_internal_warehouses():
    with pytest.raises(IntegrityError), transaction.atomic():
        SourceFactory(allow_backorders=True)
    SourceFactory(allow_backorders=True, type="internal_warehouse")


@pytest.mark.django_db
def test_fr_number_follows_order_number_and_counts_up(make_fr):
    order = OrderFactory(channel_order_number="54007")
    first = make_fr((VariantFactory(), 1), order=order)
    second = make_fr((VariantFactory(), 1), order=order)
    assert (first.number, second.number) == ("54007-1", "54007-2")


@pytest.mark.django_db
def test_over_long_fr_number_is_held_not_truncated(make_fr):
    source = SourceFactory(override_global_settings=True, fr_number_max_length=8, fr_number_prefix="FLX-")
    fr = make_fr((VariantFactory(source=source), 1), order=OrderFactory(channel_order_number="54007"))
    assert fr.number == "FLX-54007-1"
    assert fr.status == Status.ON_HOLD
    assert "11 characters; the limit is 8" in fr.status_reason


@pytest.mark.django_db
def test_duplicate_fr_number_is_held(make_fr):
    make_fr((VariantFactory(), 1), order=OrderFactory(channel_order_number="777"))
    other_channel_order = OrderFactory(channel_order_number="777")
    fr = make_fr((VariantFactory(), 1), order=other_channel_order)
    assert fr.status == Status.ON_HOLD
    assert "777-1 is already used" in fr.status_reason


@pytest.mark.django_db
def test_auto_process_launches_new_frs(make_fr):
    source = SourceFactory(override_global_settings=True, auto_process_frs=True)
    fr = make_fr((VariantFactory(source=source), 1))
    assert fr.status == Status.PROCESSING


@pytest.mark.django_db
def test_order_stays_open_while_a_regenerated_line_is_still_open(make_fr):
    from orders.services.fr_create import FRLineRequest, fr_create

    variant = VariantFactory(quantity=10)
    first = make_fr((variant, 2))
    fr_transition(fr_id=first.pk, to=Status.PROCESSING)
    fr_transition(fr_id=first.pk, to=Status.CANCELED, reason="rejected by the source")
    line = first.lines.get()
    second = fr_create(
        order_id=first.order_id,
        source_id=variant.source_id,
        lines=[FRLineRequest(order_line_id=line.order_line_id, variant_id=variant.pk, quantity=2)],
    )
    assert order_refresh_status(order_id=first.order_id).status == Order.Status.PAID
    fr_transition(fr_id=second.pk, to=Status.PROCESSING)
    fr_transition(fr_id=second.pk, to=Status.PROCESSED)
    shipment_record(fr_id=second.pk, tracking_number="T9", lines=[ShipmentLineRequest(quantity=2, sku=variant.sku)])
    assert order_refresh_status(order_id=first.order_id).status == Order.Status.CLOSED
