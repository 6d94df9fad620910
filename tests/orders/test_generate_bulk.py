"""Bulk FR generation: what it stores on each FR of a split, and the stock it commits."""

import pytest

from orders.models import FRLine, FulfillmentRequest
from orders.services.generate_bulk import orders_generate_frs

from .factories_routing import order, product, source, stock


@pytest.mark.django_db
def test_split_stores_the_full_decision_once_and_a_brief_that_still_explains_every_other_fr():
    shirt, cap = product("SHIRT"), product("CAP")
    a, b = source("A"), source("B")
    shirt_at_a = stock(a, shirt, quantity=5, cost="4.00")
    cap_at_b = stock(b, cap, quantity=5, cost="6.00")
    o = order((shirt, 2), (cap, 1))
    [result] = orders_generate_frs(order_ids=[o.pk])
    first, second = sorted(result.frs, key=lambda fr: fr.number)
    assert (first.source, second.source) == (a, b)

    full = FulfillmentRequest.objects.get(pk=first.pk).routing_decision
    assert full == {**result.decision, "fr_source_id": a.pk}
    assert "full_decision_on" not in full
    assert {c["source"]: set(c["offers"]) for c in full["candidates"]} == {
        "A": {str(o.lines.get(master_sku="SHIRT").pk)},
        "B": {str(o.lines.get(master_sku="CAP").pk)},
    }

    brief = FulfillmentRequest.objects.get(pk=second.pk).routing_decision
    assert brief["full_decision_on"] == first.number and brief["fr_source_id"] == b.pk
    assert (brief["rule"], brief["split"], brief["explanation"]) == ("split", True, full["explanation"])
    assert brief["assignment"] == [
        {"source_id": a.pk, "source": "A", "total": full["assignment"][0]["total"]},
        full["assignment"][1],
    ]
    assert brief["assignment"][1]["lines"][0]["sku"] == cap_at_b.sku
    assert brief["candidates"] == [
        {"source_id": a.pk, "source": "A", "can_fill_order": False},
        {"source_id": b.pk, "source": "B", "can_fill_order": False},
    ]
    assert second.routing_decision == brief

    shirt_at_a.refresh_from_db()
    cap_at_b.refresh_from_db()
    assert (shirt_at_a.committed_quantity, cap_at_b.committed_quantity) == (2, 1)
    line = FRLine.objects.get(fulfillment_request=first)
    assert (line.sku, line.cost, line.quantity, line.committed_quantity) == (shirt_at_a.sku, shirt_at_a.cost, 2, 2)
    assert [e.reason.split(" ")[0] for e in second.events.order_by("id")] == ["Generated", "Routed"]


@pytest.mark.django_db
def test_returned_frs_are_saved_instances_equal_to_what_was_stored():
    pv = product("MUG")
    src = source("Only")
    stock(src, pv)
    o = order((pv, 1))
    [fr] = orders_generate_frs(order_ids=[o.pk])[0].frs
    stored = FulfillmentRequest.objects.get(pk=fr.pk)
    assert not fr._state.adding
    for field in FulfillmentRequest._meta.concrete_fields:
        assert getattr(fr, field.attname) == getattr(stored, field.attname), field.name
