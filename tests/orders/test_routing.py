"""Routing: pure strategies on built candidates, and routed orders whose stored decision explains the choice."""

import json
from decimal import Decimal

import pytest

from inventory.models import InventoryVariant
from orders.models import FulfillmentRequest, RoutingGroup, RoutingPriority
from orders.routing import (
    STRATEGIES,
    LineNeed,
    Offer,
    OrderNeeds,
    RoutingPolicy,
    ShippingRate,
    SourceCandidate,
    route,
)
from orders.services.routing import order_generate_frs, order_preview

from .factories_routing import group, order, product, source, stock

D = Decimal


def candidate(source_id, name, offers, priority=100, **kwargs):
    return SourceCandidate(
        source_id=source_id,
        name=name,
        priority=priority,
        offers={
            line: Offer(variant_id=source_id * 100 + line, sku=f"{name}-{line}", available=a, unit_cost=D(c))
            for line, (a, c) in offers.items()
        },
        **kwargs,
    )


NEEDS = OrderNeeds(order_id=1, lines=(LineNeed(1, "A", 2), LineNeed(2, "B", 1)), shipping_method="ground")
POLICY = RoutingPolicy(group_id=None, group_name="Default")


def sources_of(decision):
    return [p.candidate.name for p in decision.parts]


# ------------------------------------------------------------------------------------------ pure


def test_registry_has_one_strategy_per_routing_priority_choice():
    assert set(STRATEGIES) == set(RoutingPriority.Strategy.values)


def test_shipping_estimate_uses_weight_tiers_else_flat_cost():
    tiers = ShippingRate(flat_cost=D("9"), weight_tiers=((D("1"), D("4")), (D("5"), D("7"))))
    assert [tiers.estimate(D(w)) for w in ("0.5", "1", "3", "20")] == [D("4"), D("4"), D("7"), D("7")]
    assert ShippingRate(flat_cost=D("9")).estimate(D("3")) == D("9")


def test_pure_lowest_cost_counts_shipping_not_just_item_cost():
    cheap_items = candidate(1, "Cheap", {1: (5, "10"), 2: (5, "10")}, shipping=ShippingRate(flat_cost=D("20")))
    dear_items = candidate(2, "Dear", {1: (5, "12"), 2: (5, "12")}, shipping=ShippingRate(flat_cost=D("0")))
    decision = route(NEEDS, [cheap_items, dear_items], POLICY)
    assert sources_of(decision) == ["Dear"]
    assert decision.rule == "lowest_cost"


def test_pure_cost_tie_falls_through_to_source_priority():
    a = candidate(1, "A", {1: (5, "10"), 2: (5, "10")}, priority=50)
    b = candidate(2, "B", {1: (5, "10"), 2: (5, "10")}, priority=10)
    decision = route(NEEDS, [a, b], POLICY)
    assert sources_of(decision) == ["B"]
    assert decision.rule == "source_priority"
    assert [step["rule"] for step in decision.steps] == ["single_fr_preferred", "lowest_cost", "source_priority"]


def test_pure_has_shipping_map_wins_when_it_comes_first():
    mapped = candidate(1, "Mapped", {1: (5, "15"), 2: (5, "15")})
    unmapped = candidate(2, "Unmapped", {1: (5, "10"), 2: (5, "10")}, has_shipping_map=False)
    policy = RoutingPolicy(None, "G", chain=("has_shipping_map", "lowest_cost"))
    decision = route(NEEDS, [mapped, unmapped], policy)
    assert (sources_of(decision), decision.rule) == (["Mapped"], "has_shipping_map")


def test_pure_split_when_cheaper_replaces_the_single_winner_only_when_allowed():
    whole = candidate(1, "Whole", {1: (5, "20"), 2: (5, "20")})
    a_only = candidate(2, "A-only", {1: (5, "5")})
    b_only = candidate(3, "B-only", {2: (5, "5")})
    assert sources_of(route(NEEDS, [whole, a_only, b_only], POLICY)) == ["Whole"]
    policy = RoutingPolicy(None, "G", allow_split_when_cheaper=True)
    decision = route(NEEDS, [whole, a_only, b_only], policy)
    assert (sorted(sources_of(decision)), decision.rule, decision.split) == (
        ["A-only", "B-only"],
        "split_when_cheaper",
        True,
    )


def test_pure_single_fr_required_refuses_to_split():
    a_only = candidate(2, "A-only", {1: (5, "5")})
    b_only = candidate(3, "B-only", {2: (5, "5")})
    policy = RoutingPolicy(None, "G", chain=("single_fr_required", "lowest_cost"))
    decision = route(NEEDS, [a_only, b_only], policy)
    assert decision.parts == ()
    assert {u.reason for u in decision.unrouted} == {"single_fr_required"}


def test_pure_a_line_nobody_fills_alone_is_split_by_quantity():
    needs = OrderNeeds(1, (LineNeed(1, "A", 5),))
    decision = route(needs, [candidate(1, "X", {1: (3, "10")}), candidate(2, "Y", {1: (4, "11")})], POLICY)
    assert [(p.candidate.name, p.allocations[0].quantity) for p in decision.parts] == [("X", 3), ("Y", 2)]
    assert decision.unrouted == ()


def test_pure_two_lines_of_one_variant_never_take_more_than_it_has():
    needs = OrderNeeds(1, (LineNeed(1, "A", 2), LineNeed(2, "A", 2)))
    shared = Offer(variant_id=7, sku="A", available=3, unit_cost=D("1"))
    only = SourceCandidate(1, "Only", 100, {1: shared, 2: shared})
    decision = route(needs, [only], POLICY)
    assert sum(a.quantity for p in decision.parts for a in p.allocations) == 3
    assert [(u.order_line_id, u.quantity) for u in decision.unrouted] == [(2, 1)]


def test_pure_decision_is_json_serialisable_and_lists_every_candidate_with_costs():
    a = candidate(1, "A", {1: (5, "10"), 2: (5, "10")})
    b = candidate(2, "B", {1: (1, "1")})
    data = route(NEEDS, [a, b], POLICY).to_json()
    assert json.loads(json.dumps(data)) == data
    by_name = {c["source"]: c for c in data["candidates"]}
    assert by_name["A"]["can_fill_order"] and by_name["A"]["total"] == "30.0000"
    assert not by_name["B"]["can_fill_order"]


# ------------------------------------------------------------------------------------------ routed orders


def generate(o):
    return order_generate_frs(order_id=o.pk)


@pytest.mark.django_db
def test_cheapest_source_wins_and_the_decision_says_why():
    pv = product("TEE-M")
    cheap, dear = source("Cheap"), source("Dear")
    stock(cheap, pv, cost="8.00")
    stock(dear, pv, cost="9.00")
    result = generate(order((pv, 2)))
    [fr] = result.frs
    assert fr.source == cheap
    decision = fr.routing_decision
    assert decision["rule"] == "lowest_cost"
    assert "Cheap" in decision["explanation"] and "cheapest" in decision["explanation"]
    assert {c["source"]: c["total"] for c in decision["candidates"]} == {"Cheap": "16.0000", "Dear": "18.0000"}
    assert decision["fr_source_id"] == cheap.pk


@pytest.mark.django_db
def test_cheaper_source_short_of_stock_loses_to_one_that_fills_the_whole_order():
    shirt, cap = product("SHIRT"), product("CAP")
    cheap, whole = source("Cheap"), source("Whole")
    stock(cheap, shirt, cost="5.00")
    stock(cheap, cap, cost="5.00", quantity=1)
    stock(whole, shirt, cost="9.00")
    stock(whole, cap, cost="9.00")
    [fr] = generate(order((shirt, 1), (cap, 2))).frs
    assert fr.source == whole
    assert fr.routing_decision["rule"] == "only_option"
    cheap_entry = next(c for c in fr.routing_decision["candidates"] if c["source"] == "Cheap")
    assert cheap_entry["can_fill_order"] is False


@pytest.mark.django_db
def test_split_across_sources_when_no_single_source_fills():
    shirt, cap = product("SHIRT"), product("CAP")
    a, b = source("A"), source("B")
    stock(a, shirt)
    stock(b, cap)
    o = order((shirt, 1), (cap, 1))
    frs = generate(o).frs
    assert sorted(fr.source.name for fr in frs) == ["A", "B"]
    assert sorted(fr.number for fr in frs) == [f"{o.channel_order_number}-1", f"{o.channel_order_number}-2"]
    for fr in frs:
        assert fr.routing_decision["rule"] == "split" and fr.routing_decision["split"] is True
        assert "No single source" in fr.routing_decision["explanation"]


@pytest.mark.django_db
def test_stock_buffer_keeps_thin_stock_out():
    pv = product("MUG")
    thin, thick = source("Thin", stock_buffer=3), source("Thick")
    stock(thin, pv, quantity=4, cost="1.00")
    stock(thick, pv, quantity=4, cost="9.00")
    [fr] = generate(order((pv, 2))).frs
    assert fr.source == thick
    thin_entry = next(c for c in fr.routing_decision["candidates"] if c["source"] == "Thin")
    assert thin_entry["offers"][next(iter(thin_entry["offers"]))]["available"] == 1


@pytest.mark.django_db
def test_stale_stock_excludes_a_source():
    pv = product("MUG")
    stale, fresh = source("Stale", max_stock_age_hours=24), source("Fresh")
    stock(stale, pv, cost="1.00", age_hours=48)
    stock(fresh, pv, cost="9.00", age_hours=47)
    [fr] = generate(order((pv, 1))).frs
    assert fr.source == fresh
    assert [c["source"] for c in fr.routing_decision["candidates"]] == ["Fresh"]


@pytest.mark.django_db
def test_backorder_source_is_only_the_fallback():
    pv = product("BOOT")
    warehouse = source("Warehouse", type="internal_warehouse", allow_backorders=True, priority=1)
    dropship = source("Dropship", priority=50)
    stock(warehouse, pv, quantity=0, cost="1.00")
    dropship_variant = stock(dropship, pv, quantity=2, cost="30.00")
    [fr] = generate(order((pv, 2))).frs
    assert fr.source == dropship and fr.routing_decision["backorder"] is False

    InventoryVariant.objects.filter(pk=dropship_variant.pk).update(quantity=0)
    [fr] = generate(order((pv, 3))).frs
    assert fr.source == warehouse
    assert fr.routing_decision["backorder"] is True
    assert fr.routing_decision["assignment"][0]["lines"][0]["backordered"] == 3
    assert "fallback" in fr.routing_decision["explanation"]


@pytest.mark.django_db
def test_routing_group_is_chosen_by_ship_to_country():
    group("Default", "lowest_cost", default=True)
    group("Canada", "source_priority", countries=["CA"], position=1)
    pv = product("PARKA")
    cheap, preferred = source("Cheap", priority=90), source("Preferred", priority=1)
    stock(cheap, pv, cost="10.00")
    stock(preferred, pv, cost="50.00")
    [us] = generate(order((pv, 1), ship_country="US")).frs
    [ca] = generate(order((pv, 1), ship_country="CA")).frs
    assert (us.source, us.routing_decision["group"]) == (cheap, "Default")
    assert (ca.source, ca.routing_decision["group"], ca.routing_decision["rule"]) == (
        preferred,
        "Canada",
        "source_priority",
    )


@pytest.mark.django_db
def test_default_group_is_created_with_sensible_priorities_when_missing():
    pv = product("HAT")
    stock(source("Only"), pv)
    assert not RoutingGroup.objects.exists()
    generate(order((pv, 1)))
    default = RoutingGroup.objects.get(is_default=True)
    assert list(default.priorities.values_list("strategy", flat=True)) == [
        "single_fr_preferred",
        "lowest_cost",
        "source_priority",
    ]


@pytest.mark.django_db
def test_variants_link_by_product_then_master_sku_then_upc():
    pv = product("LAMP", upc="012345678905")
    by_product = stock(source("ByProduct"), pv, master_sku="OTHER-SKU", cost="3.00")
    by_sku = stock(source("BySku"), pv, linked=False, cost="2.00")
    by_upc = stock(source("ByUpc"), pv, linked=False, master_sku="X-LAMP", upc="012345678905", cost="1.00")
    stock(source("Stranger"), product("DESK"), cost="0.50")
    data = order_preview(order_id=order((pv, 1)).pk).decision
    offered = {c["source"]: next(iter(c["offers"].values()))["variant_id"] for c in data["candidates"]}
    assert offered == {"ByProduct": by_product.pk, "BySku": by_sku.pk, "ByUpc": by_upc.pk}
    assert data["assignment"][0]["source"] == "ByUpc"


@pytest.mark.django_db
def test_excluded_archived_and_inactive_variants_are_never_routed():
    pv = product("VASE")
    stock(source("Excluded"), pv, is_excluded=True)
    stock(source("Archived"), pv, status="archived")
    stock(source("Inactive", is_active=False), pv)
    preview = order_preview(order_id=order((pv, 1)).pk)
    assert preview.decision["assignment"] == []
    assert [r.code for r in preview.roadblocks] == ["sku_not_linked"]
    assert "excluded, archived or inactive" in preview.roadblocks[0].message


@pytest.mark.django_db
def test_missing_shipping_map_holds_the_fr_and_is_a_roadblock():
    pv = product("RUG")
    stock(source("NoMap", shipping_method_map={}), pv)
    o = order((pv, 1))
    assert [r.code for r in order_preview(order_id=o.pk).roadblocks] == ["no_shipping_map"]
    result = generate(o)
    [fr] = result.frs
    assert fr.status == FulfillmentRequest.Status.ON_HOLD
    assert "no shipping-method map" in fr.status_reason
    assert [r.code for r in result.roadblocks] == ["no_shipping_map"]


@pytest.mark.django_db
def test_weight_tiers_make_a_heavy_order_cheaper_at_a_flat_rate_source():
    pv = product("ANVIL")
    tiered = source("Tiered", shipping_weight_tiers=[{"up_to": 1, "cost": "2.00"}, {"up_to": 50, "cost": "40.00"}])
    flat = source("Flat", shipping_flat_cost=D("15.00"))
    stock(tiered, pv, cost="10.00", weight=D("10"))
    stock(flat, pv, cost="12.00", weight=D("10"))
    [fr] = generate(order((pv, 1))).frs
    assert fr.source == flat
    totals = {c["source"]: c["total"] for c in fr.routing_decision["candidates"]}
    assert totals == {"Tiered": "50.0000", "Flat": "27.0000"}


@pytest.mark.django_db
def test_dropship_fee_counts_in_the_unit_cost():
    pv = product("KITE")
    stock(source("Fee"), pv, cost="10.00", dropship_fee=D("5.00"))
    stock(source("NoFee"), pv, cost="12.00")
    [fr] = generate(order((pv, 1))).frs
    assert fr.source.name == "NoFee"


@pytest.mark.django_db
def test_query_count_does_not_grow_with_sources_or_lines(django_assert_max_num_queries):
    products = [product(f"P{i}") for i in range(5)]
    for s in range(12):
        src = source(f"S{s}")
        for i, pv in enumerate(products):
            stock(src, pv, cost=str(10 + (s + i) % 7))
    small, large = order((products[0], 1)), order(*[(pv, 1) for pv in products])
    order_preview(order_id=small.pk)  # warm-up: content types, settings rows
    with django_assert_max_num_queries(6):
        order_preview(order_id=small.pk)
    with django_assert_max_num_queries(6):
        order_preview(order_id=large.pk)
