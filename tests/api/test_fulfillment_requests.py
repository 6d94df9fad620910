"""FR polling and the source's answers over HTTP."""

import pytest

from orders.models import FulfillmentRequest

Status = FulfillmentRequest.Status
pytestmark = pytest.mark.django_db


def test_source_token_lists_its_frs_with_lines(api, tokens, sent_fr):
    fr = sent_fr(2, 1)
    response = api(tokens.source).get("/api/v1/fulfillment-requests")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert [row["number"] for row in body["data"]] == [fr.number]
    assert body["has_more"] is False and body["next_cursor"]
    row = body["data"][0]
    assert row["status"] == "processing" and row["acknowledged"] is False
    assert [line["quantity"] for line in row["lines"]] == [2, 1]
    assert row["lines"][0]["open_quantity"] == 2 and row["lines"][0]["cost"] == "10.0000"
    assert row["ship_to"]["city"] == "Springfield"


def test_x_api_token_header_works_too(api, tokens, sent_fr):
    sent_fr()
    response = api(tokens.source, header="x-api-token").get("/api/v1/fulfillment-requests")
    assert response.status_code == 200 and len(response.json()["data"]) == 1


def test_filters_status_acknowledged_numbers_since_id(api, tokens, sent_fr):
    first = sent_fr(1)
    second = sent_fr(1, status=Status.PROCESSED)
    third = sent_fr(1, status=Status.ACKNOWLEDGED)
    client = api(tokens.source)

    def numbers(query):
        response = client.get(f"/api/v1/fulfillment-requests?{query}")
        assert response.status_code == 200, response.json()
        return sorted(row["number"] for row in response.json()["data"])

    assert numbers("status=processing,processed") == sorted([first.number, second.number])
    assert numbers("acknowledged=true") == [third.number]
    assert numbers("acknowledged=false") == sorted([first.number, second.number])
    assert numbers(f"numbers={first.number},{third.number}") == sorted([first.number, third.number])
    assert numbers(f"since_id={second.pk}") == [third.number]
    assert client.get("/api/v1/fulfillment-requests/count?status=processing").json() == {"count": 1}


def test_unknown_status_filter_is_a_400_in_the_error_shape(api, tokens):
    response = api(tokens.source).get("/api/v1/fulfillment-requests?status=NEW")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error" and "status" in body["details"]


def test_detail_of_own_fr_and_404_for_unknown(api, tokens, sent_fr):
    fr = sent_fr()
    client = api(tokens.source)
    assert client.get(f"/api/v1/fulfillment-requests/{fr.pk}").json()["number"] == fr.number
    response = client.get(f"/api/v1/fulfillment-requests/{fr.pk + 1000}")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_whole_acknowledge_then_repeat_is_200_with_the_same_fr(api, tokens, sent_fr):
    fr = sent_fr(2, 1)
    client = api(tokens.source)
    first = client.post(f"/api/v1/fulfillment-requests/{fr.pk}/acknowledge", {}, format="json")
    assert first.status_code == 200, first.json()
    assert first.json()["status"] == "acknowledged"
    assert [line["acknowledged_quantity"] for line in first.json()["lines"]] == [2, 1]
    again = client.post(f"/api/v1/fulfillment-requests/{fr.pk}/acknowledge", {}, format="json")
    assert again.status_code == 200
    assert again.json() == first.json()
    assert fr.acks.count() == 1


def test_per_line_acknowledge_rejects_units_and_releases_their_stock(api, tokens, sent_fr):
    fr = sent_fr(3, 1)
    line, other = fr.lines.order_by("id")
    body = {"lines": [{"line_id": line.pk, "accepted_quantity": 1, "backordered_quantity": 1, "rejected_quantity": 1}]}
    client = api(tokens.source)
    response = client.post(f"/api/v1/fulfillment-requests/{fr.pk}/acknowledge", body, format="json")
    assert response.status_code == 200, response.json()
    line.refresh_from_db()
    line.variant.refresh_from_db()
    assert (line.acknowledged_quantity, line.backordered_quantity, line.canceled_quantity) == (1, 1, 1)
    assert line.committed_quantity == 2 and line.variant.committed_quantity == 2
    assert response.json()["status"] == "acknowledged"
    again = client.post(f"/api/v1/fulfillment-requests/{fr.pk}/acknowledge", body, format="json")
    assert again.status_code == 200 and again.json() == response.json()
    assert fr.acks.count() == 1


def test_rejecting_every_unit_cancels_the_fr(api, tokens, sent_fr):
    fr = sent_fr(2)
    body = {"lines": [{"sku": fr.lines.get().sku, "accepted_quantity": 0, "rejected_quantity": 2}]}
    response = api(tokens.source).post(f"/api/v1/fulfillment-requests/{fr.pk}/acknowledge", body, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "canceled" and response.json()["shipping_status"] == "canceled"


def test_acknowledging_a_voided_fr_is_a_409_naming_the_state(api, tokens, sent_fr):
    fr = sent_fr(status=Status.VOIDED)
    response = api(tokens.source).post(f"/api/v1/fulfillment-requests/{fr.pk}/acknowledge", {}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "invalid_transition" and body["details"]["from"] == "voided"


def test_cancel_whole_and_repeat(api, tokens, sent_fr):
    fr = sent_fr(2)
    client = api(tokens.source)
    url = f"/api/v1/fulfillment-requests/{fr.pk}/cancel"
    first = client.post(url, {"reason": "Discontinued"}, format="json")
    assert first.status_code == 200 and first.json()["status"] == "canceled"
    assert first.json()["status_reason"] == "Discontinued"
    assert client.post(url, {"reason": "Discontinued"}, format="json").status_code == 200


def test_cancel_some_lines_keeps_the_fr_open(api, tokens, sent_fr):
    fr = sent_fr(2, 1)
    line = fr.lines.order_by("id").first()
    body = {"reason": "Out of stock", "lines": [{"line_id": line.pk, "canceled_quantity": 1}]}
    client = api(tokens.source)
    response = client.post(f"/api/v1/fulfillment-requests/{fr.pk}/cancel", body, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "processing"
    assert response.json()["lines"][0]["canceled_quantity"] == 1
    assert client.post(f"/api/v1/fulfillment-requests/{fr.pk}/cancel", body, format="json").json() == response.json()


def test_processing_failed_and_processed(api, tokens, sent_fr):
    failing, processed = sent_fr(), sent_fr()
    client = api(tokens.source)
    response = client.post(
        f"/api/v1/fulfillment-requests/{failing.pk}/processing-failed", {"error": "bad address"}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "failed"
    assert response.json()["status_reason"] == "bad address"
    missing = client.post(f"/api/v1/fulfillment-requests/{failing.pk}/processing-failed", {}, format="json")
    assert missing.status_code == 400 and "error" in missing.json()["details"]
    for _ in range(2):
        response = client.post(f"/api/v1/fulfillment-requests/{processed.pk}/processed")
        assert response.status_code == 200 and response.json()["status"] == "processed"
