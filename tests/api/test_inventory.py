"""Inventory push by SKU with per-field modes, and the variant change feed."""

from decimal import Decimal

import pytest

from tests.factories import VariantFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/inventory/variants"


def test_push_updates_by_sku_with_modes_and_reports_each_item(api, tokens, source):
    a = VariantFactory(source=source, sku="A", quantity=5, cost=Decimal("10.00"), msrp=Decimal("20.00"))
    b = VariantFactory(source=source, sku="B", quantity=5, cost=Decimal("10.00"))
    body = {
        "modes": {"cost": "set_if_not_null"},
        "variants": [
            {"sku": "A", "quantity": 7, "cost": None, "msrp": None},
            {"sku": "B", "quantity": 5, "cost": "10.0000"},
            {"sku": "NOPE", "quantity": 1},
            {"sku": "A2", "quantity": -1},
            {"sku": "B", "quantity": 9, "modes": {"quantity": "leave"}},
        ],
    }
    response = api(tokens.source).put(URL, body, format="json")
    assert response.status_code == 200, response.json()
    result = response.json()
    assert [r["status"] for r in result["results"]] == ["updated", "unchanged", "not_found", "invalid", "invalid"]
    assert result["results"][0]["changed"] == ["msrp", "quantity"]
    assert "quantity" in result["results"][3]["errors"]
    assert (result["updated"], result["unchanged"], result["not_found"], result["invalid"]) == (1, 1, 1, 2)
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.quantity, a.cost, a.msrp) == (7, Decimal("10.00"), None)
    assert a.quantity_updated_at is not None and b.quantity == 5


def test_quantity_cannot_be_cleared_with_null(api, tokens, source):
    VariantFactory(source=source, sku="A")
    response = api(tokens.source).put(URL, {"variants": [{"sku": "A", "quantity": None}]}, format="json")
    assert response.json()["results"][0]["status"] == "invalid"


def test_batches_are_capped_at_500(api, tokens):
    body = {"variants": [{"sku": f"S{i}", "quantity": 1} for i in range(501)]}
    response = api(tokens.source).put(URL, body, format="json")
    assert response.status_code == 400 and "variants" in response.json()["details"]


def test_variant_feed_pages_with_a_cursor(api, tokens, source):
    for sku in ("A", "B", "C"):
        VariantFactory(source=source, sku=sku)
    client = api(tokens.source)
    first = client.get(f"{URL}?limit=2").json()
    assert [row["sku"] for row in first["data"]] == ["A", "B"] and first["has_more"] is True
    second = client.get(f"{URL}?limit=2&cursor={first['next_cursor']}").json()
    assert [row["sku"] for row in second["data"]] == ["C"] and second["has_more"] is False
    assert first["data"][0]["available"] == 10 and first["data"][0]["cost"] == "10.0000"


def test_account_push_must_name_the_source(api, tokens, source):
    VariantFactory(source=source, sku="A", quantity=1)
    body = {"variants": [{"sku": "A", "quantity": 3}]}
    assert api(tokens.account).put(URL, body, format="json").status_code == 400
    response = api(tokens.account).put(URL, {**body, "source_id": source.pk}, format="json")
    assert response.json()["updated"] == 1
