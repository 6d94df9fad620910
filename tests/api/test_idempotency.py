"""Idempotency-Key: same key and body replays the first answer; another body is 422; refusals are not kept."""

from datetime import timedelta

import pytest
from django.utils import timezone

from flxhub.api.idempotency import idempotency_keys_purge
from orders.models import FulfillmentRequest, IdempotencyKey, Shipment

pytestmark = pytest.mark.django_db


def post(client, url, body, key):
    return client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_same_key_same_body_replays_the_first_answer(api, tokens, sent_fr):
    fr = sent_fr(2, status=FulfillmentRequest.Status.ACKNOWLEDGED)
    client = api(tokens.source)
    body = {
        "fulfillment_request_id": fr.pk,
        "tracking_number": "T1",
        "lines": [{"sku": fr.lines.get().sku, "quantity": 1}],
    }
    first = post(client, "/api/v1/shipments", body, "key-1")
    replay = post(client, "/api/v1/shipments", body, "key-1")
    assert first.status_code == replay.status_code == 201
    assert replay.json() == first.json()
    assert replay.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert Shipment.objects.count() == 1
    # Without the key, the same tracking number is a duplicate: 409 with the shipment already recorded.
    duplicate = client.post("/api/v1/shipments", body, format="json")
    assert duplicate.status_code == 409 and duplicate.json()["details"]["shipment"]["id"] == first.json()["id"]


def test_same_key_different_body_is_422(api, tokens, sent_fr):
    fr = sent_fr(2)
    client = api(tokens.source)
    url = f"/api/v1/fulfillment-requests/{fr.pk}/cancel"
    assert post(client, url, {"reason": "one"}, "k").status_code == 200
    response = post(client, url, {"reason": "two"}, "k")
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused" and response.json()["details"] == {
        "idempotency_key": "k"
    }
    assert post(client, f"/api/v1/fulfillment-requests/{fr.pk}/processed", {}, "k").status_code == 422


def test_keys_are_per_token(api, tokens, sent_fr):
    fr = sent_fr(2)
    url = f"/api/v1/fulfillment-requests/{fr.pk}/acknowledge"
    assert post(api(tokens.source), url, {}, "shared").status_code == 200
    assert post(api(tokens.account), url, {}, "shared").status_code == 200
    assert IdempotencyKey.objects.filter(key="shared").count() == 2


def test_a_refused_request_is_not_kept_so_a_retry_runs_again(api, tokens, sent_fr):
    fr = sent_fr(1, status=FulfillmentRequest.Status.ON_HOLD)
    client = api(tokens.source)
    url = f"/api/v1/fulfillment-requests/{fr.pk}/acknowledge"
    assert post(client, url, {}, "k").status_code == 409
    assert not IdempotencyKey.objects.filter(key="k").exists()
    FulfillmentRequest.objects.filter(pk=fr.pk).update(status=FulfillmentRequest.Status.PROCESSED)
    assert post(client, url, {}, "k").status_code == 200


def test_keys_are_kept_a_day_then_purged_and_reusable(api, tokens, sent_fr):
    fr = sent_fr(2)
    client = api(tokens.source)
    url = f"/api/v1/fulfillment-requests/{fr.pk}/cancel"
    assert post(client, url, {"reason": "one"}, "old").status_code == 200
    assert idempotency_keys_purge() == 0
    IdempotencyKey.objects.filter(key="old").update(created_at=timezone.now() - timedelta(hours=25))
    assert post(client, url, {"reason": "two"}, "old").status_code == 200  # an expired key starts afresh
    IdempotencyKey.objects.filter(key="old").update(created_at=timezone.now() - timedelta(hours=25))
    assert idempotency_keys_purge() == 1


def test_bad_key_is_400(api, tokens, sent_fr):
    fr = sent_fr(1)
    response = post(api(tokens.source), f"/api/v1/fulfillment-requests/{fr.pk}/processed", {}, "x" * 300)
    assert response.status_code == 400 and response.json()["code"] == "invalid_idempotency_key"
