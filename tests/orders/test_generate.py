"""Preview, generate, process, void, regenerate and create by hand; overdue FRs; concurrency and invariants."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flxhub.exceptions import Conflict, InvalidTransition, ValidationFailed
from inventory.models import InventoryVariant
from orders.models import FREvent, FRLine, FulfillmentRequest, Order
from orders.selectors import fr_overdue_counts, fr_overdue_queryset
from orders.services.fr_actions import (
    fr_create_manual,
    fr_mark_acknowledged,
    fr_mark_processed,
    fr_process,
    fr_regenerate,
    fr_void,
)
from orders.services.fr_create import FRLineRequest
from orders.services.fr_status import fr_transition
from orders.services.routing import order_generate_frs, order_generate_frs_on_import, order_preview

from .factories_routing import order, product, source, stock

Status = FulfillmentRequest.Status


def committed(variant) -> int:
    variant.refresh_from_db()
    return variant.committed_quantity


def write_statements(queries) -> list[str]:
    verbs = ("INSERT", "UPDATE", "DELETE")
    return [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(verbs)]


# ------------------------------------------------------------------------------------------ preview


@pytest.mark.django_db
def test_preview_lists_every_roadblock_and_writes_nothing():
    linked, stale_only, empty = product("LINKED"), product("STALE"), product("EMPTY")
    stock(source("Stale", max_stock_age_hours=1), stale_only, age_hours=5)
    stock(source("Empty"), empty, quantity=0)
    stock(source("Good"), linked)
    o = order(
        (linked, 1),
        ("UNKNOWN-SKU", 1),
        (stale_only, 1),
        (empty, 1),
        status=Order.Status.CANCELED,
        ship_address1="",
    )
    tables = (FulfillmentRequest, FRLine, FREvent)
    before = [m.objects.count() for m in tables]
    with CaptureQueriesContext(connection) as queries:
        preview = order_preview(order_id=o.pk)
    assert write_statements(queries.captured_queries) == []
    assert [m.objects.count() for m in tables] == before
    assert sorted(r.code for r in preview.roadblocks) == [
        "missing_address",
        "no_stock",
        "order_not_routable",
        "sku_not_linked",
        "stock_too_old",
    ]
    assert preview.can_generate is False
    assert [part["source"] for part in preview.assignment] == ["Good"]  # what would happen once unblocked
    assert any("UNKNOWN-SKU" in r.message for r in preview.roadblocks)


@pytest.mark.django_db
def test_preview_of_a_routable_order_has_no_roadblocks():
    pv = product("OK")
    stock(source("Only"), pv)
    preview = order_preview(order_id=order((pv, 2)).pk)
    assert (preview.can_generate, preview.roadblocks) == (True, [])
    assert preview.assignment[0]["lines"][0]["quantity"] == 2


# ------------------------------------------------------------------------------------------ generate


@pytest.mark.django_db
def test_generate_creates_numbered_frs_commits_stock_and_logs_stages():
    pv = product("TEE")
    variant = stock(source("Only"), pv, quantity=5)
    o = order((pv, 2), channel_order_number="54007")
    result = order_generate_frs(order_id=o.pk, actor_label="op")
    [fr] = result.frs
    assert fr.number == "54007-1" and fr.status == Status.UNPROCESSED
    assert fr.shipping_method == "ground" and fr.source_shipping_code == "GND"
    assert committed(variant) == 2
    line = fr.lines.get()
    assert (line.variant_id, line.quantity, line.committed_quantity) == (variant.pk, 2, 2)
    stages = list(fr.events.filter(kind=FREvent.Kind.STAGE).values_list("reason", flat=True))
    assert stages[0].startswith("Generated for Only") and stages[1].startswith("Routed (only_option)")


@pytest.mark.django_db
def test_lines_already_on_live_frs_are_not_routed_again():
    pv = product("TEE")
    variant = stock(source("Only"), pv, quantity=5)
    o = order((pv, 2))
    order_generate_frs(order_id=o.pk)
    again = order_generate_frs(order_id=o.pk)
    assert again.frs == [] and again.decision["rule"] == "nothing_to_route"
    assert committed(variant) == 2


@pytest.mark.django_db
def test_partly_routed_lines_route_only_the_rest():
    pv = product("TEE")
    stock(source("Small"), pv, quantity=1, cost="1.00")
    variant = stock(source("Big"), pv, quantity=10, cost="9.00")
    o = order((pv, 3))
    first = order_generate_frs(order_id=o.pk)
    assert [fr.source.name for fr in first.frs] == ["Big"]
    fr_void(fr_id=first.frs[0].pk, reason="test")
    InventoryVariant.objects.filter(pk=variant.pk).update(quantity=2)
    second = order_generate_frs(order_id=o.pk)
    assert sorted((fr.source.name, fr.lines.get().quantity) for fr in second.frs) == [("Big", 2), ("Small", 1)]


@pytest.mark.django_db
def test_generate_refuses_an_unpaid_order_or_a_missing_address():
    pv = product("TEE")
    stock(source("Only"), pv)
    with pytest.raises(Conflict, match="canceled"):
        order_generate_frs(order_id=order((pv, 1), status=Order.Status.CANCELED).pk)
    with pytest.raises(Conflict, match="shipping address"):
        order_generate_frs(order_id=order((pv, 1), ship_city="").pk)
    assert not FulfillmentRequest.objects.exists()


@pytest.mark.django_db
def test_unroutable_lines_come_back_as_roadblocks_while_the_rest_is_routed():
    pv = product("TEE")
    stock(source("Only"), pv, quantity=1)
    result = order_generate_frs(order_id=order((pv, 3), ("NOPE", 1)).pk)
    assert result.frs[0].lines.get().quantity == 1
    assert sorted(r.code for r in result.roadblocks) == ["insufficient_stock", "sku_not_linked"]


@pytest.mark.django_db
def test_generate_on_import_follows_the_channel_setting():
    pv = product("TEE")
    stock(source("Only"), pv)
    o = order((pv, 1))
    assert order_generate_frs_on_import(order_id=o.pk) is None
    o.channel.generate_frs_on_import = True
    o.channel.save()
    assert len(order_generate_frs_on_import(order_id=o.pk).frs) == 1


# ------------------------------------------------------------------------------------------ operator actions


@pytest.mark.django_db
def test_process_mark_processed_and_acknowledged_move_the_fr_and_ack_every_line():
    pv, pv2 = product("TEE"), product("CAP")
    src = source("Only")
    stock(src, pv)
    stock(src, pv2)
    [fr] = order_generate_frs(order_id=order((pv, 2), (pv2, 1)).pk).frs
    assert fr_process(fr_id=fr.pk).status == Status.PROCESSING
    assert fr_mark_processed(fr_id=fr.pk).status == Status.PROCESSED
    assert fr_mark_acknowledged(fr_id=fr.pk).status == Status.ACKNOWLEDGED
    assert sorted(fr.lines.values_list("quantity", "acknowledged_quantity")) == [(1, 1), (2, 2)]
    with pytest.raises(InvalidTransition):
        fr_process(fr_id=fr.pk)


@pytest.mark.django_db
def test_void_releases_stock_and_needs_a_reason():
    pv = product("TEE")
    variant = stock(source("Only"), pv, quantity=5)
    [fr] = order_generate_frs(order_id=order((pv, 3)).pk).frs
    with pytest.raises(ValidationFailed):
        fr_void(fr_id=fr.pk, reason=" ")
    fr = fr_void(fr_id=fr.pk, reason="customer called")
    assert (fr.status, fr.status_reason) == (Status.VOIDED, "customer called")
    assert committed(variant) == 0
    assert fr.lines.get().voided_quantity == 3


@pytest.mark.django_db
def test_regenerate_voids_releases_and_commits_again():
    pv = product("TEE")
    cheap = stock(source("Cheap"), pv, quantity=5, cost="1.00")
    dear = stock(source("Dear"), pv, quantity=5, cost="2.00")
    o = order((pv, 2))
    [first] = order_generate_frs(order_id=o.pk).frs
    assert committed(cheap) == 2
    same = fr_regenerate(fr_id=first.pk, reason="try again")
    [again] = same.frs
    first.refresh_from_db()
    assert first.status == Status.VOIDED
    assert again.source_id == cheap.source_id and again.number.endswith("-2")
    assert committed(cheap) == 2
    [moved] = fr_regenerate(fr_id=again.pk, exclude_source=True).frs
    assert moved.source_id == dear.source_id
    assert (committed(cheap), committed(dear)) == (0, 2)


@pytest.mark.django_db
def test_regenerate_of_a_canceled_fr_routes_its_lines_again_without_voiding():
    pv = product("TEE")
    variant = stock(source("Only"), pv)
    [fr] = order_generate_frs(order_id=order((pv, 1)).pk).frs
    fr_transition(fr_id=fr.pk, to=Status.CANCELED, reason="out of stock at the source")
    assert committed(variant) == 0
    [again] = fr_regenerate(fr_id=fr.pk).frs
    fr.refresh_from_db()
    assert fr.status == Status.CANCELED
    assert committed(variant) == 1 and again.lines.get().committed_quantity == 1


@pytest.mark.django_db
def test_create_by_hand_bypasses_routing_but_not_the_open_quantity():
    pv = product("TEE")
    stock(source("Cheap"), pv, cost="1.00")
    dear = stock(source("Dear"), pv, cost="99.00")
    o = order((pv, 2))
    line = o.lines.get()
    fr = fr_create_manual(
        order_id=o.pk, source_id=dear.source_id, lines=[FRLineRequest(line.pk, dear.pk, 2)], reason="customer asked"
    )
    assert fr.source_id == dear.source_id
    assert fr.routing_decision["rule"] == "manual" and fr.routing_decision["explanation"] == "customer asked"
    assert committed(dear) == 2
    with pytest.raises(ValidationFailed, match="only 0"):
        fr_create_manual(order_id=o.pk, source_id=dear.source_id, lines=[FRLineRequest(line.pk, dear.pk, 1)])


# ------------------------------------------------------------------------------------------ overdue


@pytest.mark.django_db
def test_overdue_flags_late_acks_and_late_shipments_by_the_sources_windows():
    pv = product("TEE")
    src = source("Only", ack_window_hours=24, ship_window_hours=48)
    stock(src, pv, quantity=50)
    now = timezone.now()

    def fr_with(status, **times):
        [fr] = order_generate_frs(order_id=order((pv, 1)).pk).frs
        FulfillmentRequest.objects.filter(pk=fr.pk).update(status=status, **times)
        return fr

    late_ack = fr_with(Status.PROCESSED, sent_at=now - timedelta(hours=25))
    fr_with(Status.PROCESSED, sent_at=now - timedelta(hours=23))
    late_ship = fr_with(Status.ACKNOWLEDGED, acknowledged_at=now - timedelta(hours=49))
    fr_with(Status.ACKNOWLEDGED, acknowledged_at=now - timedelta(hours=47))
    shipped = fr_with(Status.ACKNOWLEDGED, acknowledged_at=now - timedelta(hours=90))
    FulfillmentRequest.objects.filter(pk=shipped.pk).update(shipping_status="shipped")

    flagged = {fr.pk: fr.overdue for fr in fr_overdue_queryset(now=now)}
    assert flagged == {late_ack.pk: "ack_overdue", late_ship.pk: "ship_overdue"}
    assert fr_overdue_counts(now=now) == {"ack_overdue": 1, "ship_overdue": 1, "total": 2}


# ------------------------------------------------------------------------------------------ concurrency


@pytest.mark.django_db(transaction=True)
def test_two_orders_generated_at_once_for_the_last_unit_only_one_gets_it():
    pv = product("LAST")
    variant = stock(source("Only"), pv, quantity=1)
    orders = [order((pv, 1)), order((pv, 1))]
    barrier = threading.Barrier(2)
    results, errors = {}, []

    def generate(order_id):
        try:
            barrier.wait(timeout=10)
            results[order_id] = order_generate_frs(order_id=order_id)
        except Exception as exc:  # reported below, so a failure in a thread fails the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=generate, args=(o.pk,)) for o in orders]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    assert sorted(len(r.frs) for r in results.values()) == [0, 1]
    loser = next(r for r in results.values() if not r.frs)
    assert [r.code for r in loser.roadblocks] == ["no_stock"]
    assert committed(variant) == 1
    assert FRLine.objects.count() == 1


# ------------------------------------------------------------------------------------------ invariants

source_spec = st.fixed_dictionaries(
    {
        "buffer": st.integers(0, 2),
        "stale": st.booleans(),
        "backorders": st.booleans(),
        "stock": st.lists(st.integers(0, 4), min_size=3, max_size=3),
    }
)
order_spec = st.lists(st.tuples(st.integers(0, 3), st.integers(1, 4)), min_size=1, max_size=3)


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sources=st.lists(source_spec, min_size=1, max_size=3), orders=st.lists(order_spec, min_size=1, max_size=4))
def test_generated_orders_never_over_commit_and_every_line_is_routed_or_reported(sources, orders):
    with transaction.atomic():
        products = [product(f"H{i}") for i in range(4)]  # H3 is stocked nowhere
        variants = []
        for n, spec in enumerate(sources):
            src = source(
                f"Src{n}",
                stock_buffer=spec["buffer"],
                max_stock_age_hours=1 if spec["stale"] else None,
                allow_backorders=spec["backorders"],
                type="internal_warehouse" if spec["backorders"] else "dropship_supplier",
            )
            for pv, quantity in zip(products, spec["stock"], strict=False):
                variants.append((stock(src, pv, quantity=quantity, age_hours=2), spec))
        for lines in orders:
            o = order(*[(products[i], quantity) for i, quantity in lines])
            result = order_generate_frs(order_id=o.pk)
            blocked = {r.order_line_id for r in result.roadblocks if r.order_line_id}
            unrouted = {u["order_line_id"]: u["quantity"] for u in result.decision["unrouted"]}
            for line in o.lines.all():
                routed = sum(fr_line.quantity for fr_line in line.fr_lines.all())
                if routed < line.quantity:
                    assert line.pk in blocked
                    assert routed + unrouted.get(line.pk, line.quantity - routed) == line.quantity
        for variant, spec in variants:
            variant.refresh_from_db()
            if not spec["backorders"]:
                usable = 0 if spec["stale"] else max(0, variant.quantity - spec["buffer"])
                assert variant.committed_quantity <= usable
        transaction.set_rollback(True)


# ------------------------------------------------------------------------------------------ bulk generation


@pytest.mark.django_db
def test_bulk_generation_shares_stock_across_the_batch_and_matches_single_generation():
    from orders.services.generate_bulk import orders_generate_frs

    pv = product("LAST")
    cheap = stock(source("Cheap"), pv, quantity=1, cost="1.00")
    dear = stock(source("Dear"), pv, quantity=1, cost="2.00")
    first, second, third = order((pv, 1)), order((pv, 1)), order((pv, 1), status=Order.Status.CANCELED)
    results = orders_generate_frs(order_ids=[first.pk, second.pk, third.pk])
    assert [[fr.source.name for fr in r.frs] for r in results] == [["Cheap"], ["Dear"], []]
    assert [r.code for r in results[2].roadblocks] == ["order_not_routable"]
    assert (committed(cheap), committed(dear)) == (1, 1)
    fr = results[0].frs[0]
    assert fr.number == f"{first.channel_order_number}-1"
    assert fr.routing_decision["rule"] == "lowest_cost" and fr.routing_decision["fr_source_id"] == cheap.source_id
    assert fr.lines.get().committed_quantity == 1
    assert list(fr.events.values_list("kind", flat=True)) == ["stage", "stage"]
    again = orders_generate_frs(order_ids=[first.pk, second.pk])
    assert [r.frs for r in again] == [[], []]
