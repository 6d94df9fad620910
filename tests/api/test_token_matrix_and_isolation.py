"""Each token kind against each endpoint, and a source never reaching another source's objects (404)."""

import pytest

from orders.models import FulfillmentRequest, Shipment, SourceInvoice
from tests.factories import OrderFactory, VariantFactory

pytestmark = pytest.mark.django_db
S, C, A = "source", "channel", "account"

# (method, path, kinds allowed); {fr} and {order} are filled in per test.
ENDPOINTS = [
    ("get", "/api/v1/fulfillment-requests", {S, A}),
    ("get", "/api/v1/fulfillment-requests/count", {S, A}),
    ("get", "/api/v1/fulfillment-requests/{fr}", {S, A}),
    ("post", "/api/v1/fulfillment-requests/{fr}/acknowledge", {S, A}),
    ("post", "/api/v1/fulfillment-requests/{fr}/cancel", {S, A}),
    ("post", "/api/v1/fulfillment-requests/{fr}/processing-failed", {S, A}),
    ("post", "/api/v1/fulfillment-requests/{fr}/processed", {S, A}),
    ("get", "/api/v1/shipments", {S, C, A}),
    ("post", "/api/v1/shipments", {S, A}),
    ("get", "/api/v1/invoices", {S, A}),
    ("post", "/api/v1/invoices", {S, A}),
    ("get", "/api/v1/inventory/variants", {S, A}),
    ("put", "/api/v1/inventory/variants", {S, A}),
    ("post", "/api/v1/orders", {C, A}),
    ("get", "/api/v1/orders/{order}", {C, A}),
]


@pytest.mark.parametrize("kind", [S, C, A])
@pytest.mark.parametrize(("method", "path", "allowed"), ENDPOINTS, ids=[f"{m} {p}" for m, p, _ in ENDPOINTS])
def test_token_matrix(api, tokens, sent_fr, channel, kind, method, path, allowed):
    fr = sent_fr(1)
    order = OrderFactory(channel=channel)
    url = path.format(fr=fr.pk, order=order.pk)
    response = getattr(api(getattr(tokens, kind)), method)(url, {}, format="json")
    if kind in allowed:
        assert response.status_code not in (401, 403), response.json()
    else:
        assert response.status_code == 403
        body = response.json()
        assert body["code"] == "wrong_token_kind" and set(body["details"]["allowed_token_kinds"]) == allowed
    assert set(response.json()) == {"code", "message", "details"} or response.status_code < 400


def test_no_token_is_401_on_every_endpoint(api):
    for method, path, _ in ENDPOINTS:
        response = getattr(api(), method)(path.format(fr=1, order=1), {}, format="json")
        assert response.status_code == 401, (method, path)
        assert response.json()["code"] == "not_authenticated"


def test_another_sources_fr_is_404_for_every_action_and_changes_nothing(api, tokens, sent_fr):
    fr = sent_fr(2)
    intruder = api(tokens.other_source)
    bodies = {"cancel": {"reason": "x"}, "processing-failed": {"error": "x"}}
    assert intruder.get(f"/api/v1/fulfillment-requests/{fr.pk}").status_code == 404
    for action in ("acknowledge", "cancel", "processing-failed", "processed"):
        url = f"/api/v1/fulfillment-requests/{fr.pk}/{action}"
        response = intruder.post(url, bodies.get(action, {}), format="json")
        assert response.status_code == 404, action
        assert response.json()["code"] == "not_found"
    fr.refresh_from_db()
    assert fr.status == "processing" and not fr.events.filter(actor_label__startswith="api:").exists()
    assert intruder.get("/api/v1/fulfillment-requests").json()["data"] == []
    assert intruder.get(f"/api/v1/fulfillment-requests?numbers={fr.number}").json()["data"] == []
    assert intruder.get(f"/api/v1/fulfillment-requests?source={fr.source_id}").status_code == 404


def test_another_sources_shipments_invoices_and_variants_are_out_of_reach(api, tokens, sent_fr, source):
    fr = sent_fr(2, status=FulfillmentRequest.Status.ACKNOWLEDGED)
    line = fr.lines.get()
    owner, intruder = api(tokens.source), api(tokens.other_source)
    ship = {"tracking_number": "T1", "lines": [{"line_id": line.pk, "quantity": 1}]}
    assert owner.post("/api/v1/shipments", {"fulfillment_request_id": fr.pk, **ship}, format="json").status_code == 201
    assert owner.post(
        "/api/v1/invoices", {"po_number": fr.number, "invoice_number": "I-1", "total": "0"}, format="json"
    ).status_code == (201)

    for ref in ({"fulfillment_request_id": fr.pk}, {"fulfillment_request_number": fr.number}):
        response = intruder.post("/api/v1/shipments", {**ref, **ship, "tracking_number": "T2"}, format="json")
        assert response.status_code == 404
    assert Shipment.objects.count() == 1
    assert intruder.get("/api/v1/shipments").json()["data"] == []
    assert intruder.get(f"/api/v1/shipments?fulfillment_request={fr.pk}").json()["data"] == []

    assert intruder.get("/api/v1/invoices").json()["data"] == []
    response = intruder.post(
        "/api/v1/invoices", {"fulfillment_request_id": fr.pk, "invoice_number": "I-2", "total": "0"}, format="json"
    )
    assert response.status_code == 404
    by_po = intruder.post(
        "/api/v1/invoices", {"po_number": fr.number, "invoice_number": "I-3", "total": "0"}, format="json"
    )
    assert by_po.json()["match_status"] == "unmatched" and by_po.json()["fulfillment_request_id"] is None
    fr.refresh_from_db()
    assert fr.invoice_status == "matched" and SourceInvoice.objects.filter(fulfillment_request=fr).count() == 1

    variant = VariantFactory(source=source, sku="MINE", quantity=4)
    push = intruder.put("/api/v1/inventory/variants", {"variants": [{"sku": "MINE", "quantity": 0}]}, format="json")
    assert push.json()["results"][0]["status"] == "not_found"
    variant.refresh_from_db()
    assert variant.quantity == 4
    assert intruder.get("/api/v1/inventory/variants?skus=MINE").json()["data"] == []
    assert intruder.get(f"/api/v1/inventory/variants?source={source.pk}").status_code == 404
    assert (
        intruder.put(
            "/api/v1/inventory/variants", {"source_id": source.pk, "variants": [{"sku": "MINE"}]}, format="json"
        ).status_code
        == 404
    )


def test_unknown_api_path_answers_in_the_error_shape(api, tokens):
    response = api(tokens.source).get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_unknown_api_path_is_a_json_404_for_posts_too(api, tokens):
    response = api(tokens.source).post("/api/v1/fulfillment-requests/-5/processed", {}, format="json")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
