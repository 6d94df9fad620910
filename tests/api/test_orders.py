"""Channel side: orders pushed once per channel order number, read back with FRs and shipments."""

import pytest

from orders.models import Order

pytestmark = pytest.mark.django_db

ORDER = {
    "channel_order_number": "WEB-1001",
    "customer": {"name": "Ada Lovelace", "email": "ada@example.com"},
    "ship_to": {"name": "Ada Lovelace", "address1": "12 Analytical St", "city": "Springfield", "postal_code": "62701"},
    "lines": [{"master_sku": "M-1", "quantity": 2, "price": "25.00"}],
}


def test_channel_pushes_an_order_once(api, tokens, channel):
    client = api(tokens.channel)
    first = client.post("/api/v1/orders", ORDER, format="json")
    assert first.status_code == 201, first.json()
    assert first.json()["channel_order_number"] == "WEB-1001" and first.json()["ship_to"]["country"] == "US"
    again = client.post("/api/v1/orders", {**ORDER, "lines": [{"master_sku": "M-2", "quantity": 9}]}, format="json")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert again.json()["lines"][0]["master_sku"] == "M-1"
    assert Order.objects.filter(channel=channel).count() == 1


def test_order_detail_shows_its_frs_and_shipments(api, tokens, channel, sent_fr):
    from tests.factories import OrderFactory

    order = OrderFactory(channel=channel)
    fr = sent_fr(1, status="acknowledged", order=order)
    line = fr.lines.get()
    shipped = api(tokens.source).post(
        "/api/v1/shipments",
        {"fulfillment_request_id": fr.pk, "tracking_number": "T1", "lines": [{"line_id": line.pk, "quantity": 1}]},
        format="json",
    )
    assert shipped.status_code == 201
    body = api(tokens.channel).get(f"/api/v1/orders/{order.pk}").json()
    assert [f["number"] for f in body["fulfillment_requests"]] == [fr.number]
    assert [s["tracking_number"] for s in body["shipments"]] == ["T1"]


def test_a_channel_never_sees_another_channels_order(api, tokens):
    from tests.factories import OrderFactory

    order = OrderFactory()
    response = api(tokens.channel).get(f"/api/v1/orders/{order.pk}")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert api(tokens.account).get(f"/api/v1/orders/{order.pk}").status_code == 200


def test_account_token_must_name_the_channel(api, tokens, channel):
    assert api(tokens.account).post("/api/v1/orders", ORDER, format="json").status_code == 400
    response = api(tokens.account).post("/api/v1/orders", {**ORDER, "channel_id": channel.pk}, format="json")
    assert response.status_code == 201 and response.json()["channel_id"] == channel.pk
