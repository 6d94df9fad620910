"""Server-rendered operator pages: overdue flags and filters (the browser flows are in tests/browser)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from orders.models import FulfillmentRequest
from tests.factories import VariantFactory


@pytest.mark.django_db
def test_fr_list_flags_and_filters_overdue_frs(admin_client, make_fr):
    late = make_fr((VariantFactory(source__ack_window_hours=24), 1))
    on_time = make_fr((VariantFactory(), 1))
    FulfillmentRequest.objects.filter(pk=late.pk).update(status="processed", sent_at=timezone.now() - timedelta(days=2))
    FulfillmentRequest.objects.filter(pk=on_time.pk).update(status="processed", sent_at=timezone.now())
    body = admin_client.get("/frs/").content.decode()
    assert "1 awaiting acknowledgement" in body and "ack overdue" in body
    only = admin_client.get("/frs/?overdue=1").content.decode()
    assert late.number in only and on_time.number not in only


@pytest.mark.django_db
def test_order_list_problem_filter_shows_orders_needing_attention(admin_client, make_fr):
    from tests.factories import OrderFactory

    held = make_fr((VariantFactory(), 1))
    FulfillmentRequest.objects.filter(pk=held.pk).update(status="on_hold")
    fine = make_fr((VariantFactory(), 1))
    unrouted = OrderFactory()
    body = admin_client.get("/orders/?problems=1").content.decode()
    assert f">{held.order.channel_order_number}<" in body
    assert f">{unrouted.channel_order_number}<" in body
    assert f">{fine.order.channel_order_number}<" not in body


@pytest.mark.django_db
def test_mark_acknowledged_button_records_the_whole_fr_as_accepted(admin_client, make_fr):
    fr = make_fr((VariantFactory(), 3))
    FulfillmentRequest.objects.filter(pk=fr.pk).update(status="processed")
    admin_client.post(f"/frs/{fr.pk}/mark_acknowledged/")
    fr.refresh_from_db()
    assert fr.status == "acknowledged"
    assert fr.lines.get().acknowledged_quantity == 3


@pytest.mark.django_db
def test_admin_void_action_uses_the_void_service_and_releases_stock(admin_client, make_fr):
    variant = VariantFactory(quantity=5)
    fr = make_fr((variant, 2))
    admin_client.post(
        "/admin/orders/fulfillmentrequest/", {"action": "fr_void", "_selected_action": [fr.pk]}, follow=True
    )
    fr.refresh_from_db()
    variant.refresh_from_db()
    assert (fr.status, fr.status_reason, variant.committed_quantity) == ("voided", "Admin action: Void", 0)
