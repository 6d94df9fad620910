"""The order page's Send now button sends one FR through its source's Send FR integration."""

import pytest

from orders.models import FulfillmentRequest

from .conftest import paid_order_fr
from .test_faults import rest_integrations

pytestmark = pytest.mark.django_db


def test_send_now_button_sends_that_fr_and_reports_the_run(admin_client, json_supplier):
    source, _ = rest_integrations(json_supplier)
    fr = paid_order_fr(source, [("PAGE-A", 1, "1.00")], process=False)
    page = admin_client.get(f"/orders/{fr.order_id}/").content.decode()
    assert f"/frs/{fr.pk}/send-now/" in page
    response = admin_client.post(f"/frs/{fr.pk}/send-now/", follow=True)
    assert "Send now: run" in response.content.decode() and "succeeded" in response.content.decode()
    assert [post["number"] for post in json_supplier.posts] == [fr.number]
    fr.refresh_from_db()
    assert fr.status == FulfillmentRequest.Status.PROCESSED and fr.sent_at is not None
    page = admin_client.get(f"/orders/{fr.order_id}/").content.decode()
    assert f"/frs/{fr.pk}/send-now/" not in page
