"""Shipments and invoices over HTTP: duplicate tracking, the three-way match, and their change feeds."""

import pytest

from orders.models import FulfillmentRequest, Shipment, SourceInvoice

Status = FulfillmentRequest.Status
pytestmark = pytest.mark.django_db


def ship(client, fr, tracking="1Z001", **extra):
    lines = extra.pop("lines", None) or [{"line_id": line.pk, "quantity": line.quantity} for line in fr.lines.all()]
    body = {"fulfillment_request_number": fr.number, "tracking_number": tracking, "carrier": "UPS", "lines": lines}
    return client.post("/api/v1/shipments", {**body, **extra}, format="json", **extra.pop("headers", {}))


def test_shipment_by_fr_number_ships_the_fr(api, tokens, sent_fr):
    fr = sent_fr(2, 1, status=Status.ACKNOWLEDGED)
    response = ship(api(tokens.source), fr, cost="7.45")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["fulfillment_request_number"] == fr.number and body["cost"] == "7.4500"
    assert sorted(line["quantity"] for line in body["lines"]) == [1, 2]
    fr.refresh_from_db()
    assert fr.shipping_status == "shipped"


def test_duplicate_tracking_is_409_with_the_existing_shipment_unless_allowed(api, tokens, sent_fr):
    fr = sent_fr(2, status=Status.ACKNOWLEDGED)
    client = api(tokens.source)
    line = fr.lines.get()
    first = ship(client, fr, lines=[{"sku": line.sku, "quantity": 1}])
    assert first.status_code == 201
    again = ship(client, fr, lines=[{"sku": line.sku, "quantity": 1}])
    assert again.status_code == 409
    assert again.json()["code"] == "shipment_already_recorded"
    assert again.json()["details"]["shipment"]["id"] == first.json()["id"]
    allowed = ship(client, fr, lines=[{"sku": line.sku, "quantity": 1}], allow_duplicate_tracking=True)
    assert allowed.status_code == 201
    assert Shipment.objects.filter(fulfillment_request=fr).count() == 2


def test_shipping_an_unsent_fr_is_a_409(api, tokens, sent_fr):
    fr = sent_fr(1, status=Status.UNPROCESSED)
    response = ship(api(tokens.source), fr)
    assert response.status_code == 409 and response.json()["code"] == "conflict"


def test_shipment_feed_for_source_and_channel(api, tokens, sent_fr, channel):
    from tests.factories import OrderFactory

    fr = sent_fr(1, status=Status.ACKNOWLEDGED, order=OrderFactory(channel=channel))
    other = sent_fr(1, status=Status.ACKNOWLEDGED)
    ship(api(tokens.source), fr, tracking="T1")
    ship(api(tokens.source), other, tracking="T2")
    source_feed = api(tokens.source).get("/api/v1/shipments").json()
    assert [row["tracking_number"] for row in source_feed["data"]] == ["T1", "T2"]
    channel_feed = api(tokens.channel).get(f"/api/v1/shipments?updated_after={fr.generated_at.isoformat()}")
    assert channel_feed.status_code == 200, channel_feed.json()
    assert [row["tracking_number"] for row in channel_feed.json()["data"]] == ["T1"]
    by_number = api(tokens.source).get(f"/api/v1/shipments?fulfillment_request_number={other.number}").json()
    assert [row["tracking_number"] for row in by_number["data"]] == ["T2"]
    assert api(tokens.channel).post("/api/v1/shipments", {}, format="json").status_code == 403


def invoice(client, fr, number="INV-1", unit_cost="10.0000", quantity=None, total=None, charges="0"):
    line = fr.lines.order_by("id").first()
    quantity = line.quantity if quantity is None else quantity
    total = total or str(float(unit_cost) * quantity + float(charges))
    body = {
        "po_number": fr.number,
        "invoice_number": number,
        "charges": charges,
        "total": total,
        "lines": [{"sku": line.sku, "quantity": quantity, "unit_cost": unit_cost}],
    }
    return client.post("/api/v1/invoices", body, format="json")


def test_invoice_matching_the_fr_and_its_shipment_is_matched(api, tokens, sent_fr):
    fr = sent_fr(2, status=Status.PROCESSED)
    client = api(tokens.source)
    client.post(f"/api/v1/fulfillment-requests/{fr.pk}/acknowledge", {}, format="json")
    ship(client, fr)
    response = invoice(client, fr, charges="5.00")
    assert response.status_code == 201, response.json()
    assert response.json()["match_status"] == "matched" and response.json()["mismatches"] == []
    fr.refresh_from_db()
    assert fr.invoice_status == "matched"


def test_invoice_mismatches_are_listed(api, tokens, sent_fr):
    fr = sent_fr(2, status=Status.ACKNOWLEDGED)
    client = api(tokens.source)
    ship(client, fr, lines=[{"sku": fr.lines.get().sku, "quantity": 1}])
    response = invoice(client, fr, unit_cost="12.0000", quantity=2, total="99.00")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["match_status"] == "mismatch"
    assert {m["kind"] for m in body["mismatches"]} == {"cost_mismatch", "quantity_exceeds_shipped", "total_mismatch"}
    fr.refresh_from_db()
    assert fr.invoice_status == "mismatch"


def test_invoice_for_an_unknown_po_is_kept_unmatched_and_a_repeat_is_409(api, tokens):
    client = api(tokens.source)
    body = {"po_number": "NOPE-1", "invoice_number": "INV-9", "total": "10.00", "lines": []}
    response = client.post("/api/v1/invoices", body, format="json")
    assert response.status_code == 201 and response.json()["match_status"] == "unmatched"
    again = client.post("/api/v1/invoices", body, format="json")
    assert again.status_code == 409 and again.json()["details"]["invoice"]["id"] == response.json()["id"]
    listed = client.get("/api/v1/invoices?match_status=unmatched").json()
    assert [row["invoice_number"] for row in listed["data"]] == ["INV-9"]
    assert SourceInvoice.objects.count() == 1


def test_account_invoice_needs_a_source(api, tokens):
    body = {"po_number": "X", "invoice_number": "INV-1", "total": "1.00"}
    response = api(tokens.account).post("/api/v1/invoices", body, format="json")
    assert response.status_code == 400 and "source_id" in response.json()["details"]
