"""Reads for routing: the order's open needs, the candidate sources with their stock, the routing group.

``routing_input_for_order`` loads everything routing needs in a fixed number of queries, whatever the
number of lines or sources, and diagnoses per line why nothing may be routable (not linked, no stock,
stock too old) so the preview can say so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.db.models import F, Q, Sum, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from inventory.models import InventoryVariant, ProductVariant

from ..models import FRLine, Order, OrderLine, RoutingGroup
from ..routing import (
    DEFAULT_CHAIN,
    ZERO,
    LineNeed,
    Offer,
    OrderNeeds,
    RoutingPolicy,
    ShippingRate,
    SourceCandidate,
    best_offer,
)

DEFAULT_GROUP_NAME = "Default"

SOURCE_FIELDS = (
    "name",
    "priority",
    "is_active",
    "stock_buffer",
    "max_stock_age_hours",
    "allow_backorders",
    "shipping_flat_cost",
)
# Read as text and decoded once per source, not once per variant row.
SOURCE_JSON_FIELDS = ("shipping_weight_tiers", "shipping_method_map")
VARIANT_FIELDS = (
    "id",
    "source_id",
    "sku",
    "master_sku",
    "upc",
    "product_variant_id",
    "cost",
    "dropship_fee",
    "weight",
    "quantity",
    "committed_quantity",
    "status",
    "is_excluded",
    "quantity_updated_at",
)


@dataclass(frozen=True)
class Roadblock:
    """Something that stops (part of) an order from being routed, in words an operator can act on."""

    code: str  # order_not_routable | missing_address | sku_not_linked | no_stock | stock_too_old |
    # insufficient_stock | single_fr_required | no_shipping_map
    message: str
    order_line_id: int | None = None
    source_id: int | None = None

    def to_json(self) -> dict:
        return {
            "code": self.code,
            "message": self.message,
            "order_line_id": self.order_line_id,
            "source_id": self.source_id,
        }


@dataclass
class RoutingInput:
    order: Order
    lines: dict[int, OrderLine]
    needs: OrderNeeds
    candidates: list[SourceCandidate]
    line_roadblocks: dict[int, Roadblock] = field(default_factory=dict)
    routed_quantities: dict[int, int] = field(default_factory=dict)
    buffers: dict[int, int] = field(default_factory=dict)  # source id → stock buffer
    backorder_sources: frozenset[int] = frozenset()
    shipping_maps: dict[int, dict] = field(default_factory=dict)


def routing_policy_for_country(*, country: str, groups: list[RoutingGroup] | None = None) -> RoutingPolicy:
    """The policy of the first group matching ``country``, else the default group's, else the built-in default.

    ``groups`` may be passed preloaded (with ``priorities`` prefetched) to route many orders with one read.
    """
    if groups is None:
        groups = routing_groups_load()
    chosen = next((g for g in groups if country and country.upper() in [c.upper() for c in g.match_countries]), None)
    chosen = chosen or next((g for g in groups if g.is_default), None)
    if chosen is None:
        return RoutingPolicy(group_id=None, group_name=DEFAULT_GROUP_NAME, chain=DEFAULT_CHAIN)
    return RoutingPolicy(
        group_id=chosen.pk,
        group_name=chosen.name,
        chain=tuple(p.strategy for p in sorted(chosen.priorities.all(), key=lambda p: p.position)),
        allow_split=chosen.allow_split,
        allow_split_when_cheaper=chosen.allow_split_when_cheaper,
    )


def routing_groups_load() -> list[RoutingGroup]:
    """Every routing group in evaluation order, with its priorities."""
    return list(RoutingGroup.objects.prefetch_related("priorities").order_by("position", "name"))


def order_routed_quantities(*, order_id: int | None = None, order_ids: list[int] | None = None) -> dict[int, int]:
    """Per order line, the units already on FRs and not canceled or voided (shipped units count)."""
    ids = [order_id] if order_id is not None else (order_ids or [])
    rows = (
        FRLine.objects.filter(order_line__order_id__in=ids)
        .values("order_line_id")
        .annotate(live=Sum(F("quantity") - F("canceled_quantity") - F("voided_quantity")))
    )
    return {row["order_line_id"]: row["live"] or 0 for row in rows}


def _tiers(raw) -> tuple[tuple[Decimal, Decimal], ...]:
    tiers = []
    for tier in raw or []:
        try:
            tiers.append((Decimal(str(tier["up_to"])), Decimal(str(tier["cost"]))))
        except (KeyError, TypeError, InvalidOperation):
            continue
    return tuple(sorted(tiers))


def routing_input_for_order(
    *,
    order: Order,
    order_line_ids: list[int] | None = None,
    exclude_source_ids: frozenset[int] | set[int] = frozenset(),
    lock_variants: bool = False,
    now: datetime | None = None,
) -> RoutingInput:
    """Load what routing needs for ``order``: 4 queries (lines, routed quantities, products, variants).

    With ``lock_variants`` the candidate variants are locked (``select_for_update`` in primary-key order);
    the caller must then be inside ``transaction.atomic``.
    """
    return routing_inputs_for_orders(
        orders=[order],
        order_line_ids=order_line_ids,
        exclude_source_ids=exclude_source_ids,
        lock_variants=lock_variants,
        now=now,
    )[order.pk]


def routing_inputs_for_orders(
    *,
    orders: list[Order],
    order_line_ids: list[int] | None = None,
    exclude_source_ids: frozenset[int] | set[int] = frozenset(),
    lock_variants: bool = False,
    now: datetime | None = None,
) -> dict[int, RoutingInput]:
    """Load what routing needs for many orders at once, in the same 4 queries; keyed by order id."""
    now = now or timezone.now()
    order_ids = [o.pk for o in orders]
    all_lines = list(OrderLine.objects.filter(order_id__in=order_ids).order_by("pk"))
    if order_line_ids is not None:
        wanted = set(order_line_ids)
        all_lines = [line for line in all_lines if line.pk in wanted]
    routed = order_routed_quantities(order_ids=order_ids) if all_lines else {}
    results: dict[int, RoutingInput] = {}
    open_lines: list[OrderLine] = []
    lines_of: dict[int, list[OrderLine]] = {}
    for line in all_lines:
        lines_of.setdefault(line.order_id, []).append(line)
    for o in orders:
        lines = {line.pk: line for line in lines_of.get(o.pk, [])}
        open_here = [line for line in lines.values() if line.quantity - routed.get(line.pk, 0) > 0]
        open_lines += open_here
        needs = OrderNeeds(
            order_id=o.pk,
            lines=tuple(
                LineNeed(line.pk, line.master_sku, line.quantity - routed.get(line.pk, 0)) for line in open_here
            ),
            shipping_method=o.requested_shipping_method,
        )
        results[o.pk] = RoutingInput(
            order=o,
            lines=lines,
            needs=needs,
            candidates=[],
            routed_quantities={k: routed[k] for k in lines if k in routed},
        )
    if not open_lines:
        return results

    skus = {line.master_sku for line in open_lines}
    pv_ids = {line.product_variant_id for line in open_lines if line.product_variant_id}
    # Lines without a product are matched by master SKU; asking by SKU only for those keeps the query on the
    # primary key index (an OR over both lists makes PostgreSQL scan the whole product table).
    unlinked_skus = {line.master_sku for line in open_lines if not line.product_variant_id}
    wanted = Q(pk__in=pv_ids)
    if unlinked_skus:
        wanted |= Q(master_sku__in=unlinked_skus)
    product_rows = ProductVariant.objects.filter(wanted)
    products = {pv["id"]: pv for pv in product_rows.values("id", "master_sku", "upc")}
    by_sku = {pv["master_sku"]: pv["id"] for pv in products.values()}
    line_product = {line.pk: line.product_variant_id or by_sku.get(line.master_sku) for line in open_lines}
    upcs = {products[pid]["upc"] for pid in line_product.values() if pid and products[pid]["upc"]}

    linked = Q(product_variant_id__in=[pid for pid in line_product.values() if pid])
    unlinked = Q(master_sku__in=skus)
    if upcs:
        unlinked |= Q(upc__in=upcs)
    query = InventoryVariant.objects.filter(linked | (Q(product_variant__isnull=True) & unlinked))
    if exclude_source_ids:
        query = query.exclude(source_id__in=exclude_source_ids)
    if lock_variants:
        query = query.select_for_update(of=("self",))
    rows = list(
        query.order_by("pk").values(
            *VARIANT_FIELDS,
            *(f"source__{name}" for name in SOURCE_FIELDS),
            **{f"source_{name}_text": Cast(f"source__{name}", TextField()) for name in SOURCE_JSON_FIELDS},
        )
    )
    source_rows: dict[int, dict] = {}  # source id → its settings, from its first variant row
    for row in rows:
        if row["source_id"] not in source_rows:
            source_rows[row["source_id"]] = {name: row[f"source__{name}"] for name in SOURCE_FIELDS} | {
                name: None if row[f"source_{name}_text"] is None else json.loads(row[f"source_{name}_text"])
                for name in SOURCE_JSON_FIELDS
            }

    lines_by_product: dict[int, list[OrderLine]] = {}
    lines_by_sku: dict[str, list[OrderLine]] = {}
    lines_by_upc: dict[str, list[OrderLine]] = {}
    for line in open_lines:
        pid = line_product[line.pk]
        if pid:
            lines_by_product.setdefault(pid, []).append(line)
            if products[pid]["upc"]:
                lines_by_upc.setdefault(products[pid]["upc"], []).append(line)
        lines_by_sku.setdefault(line.master_sku, []).append(line)

    offers: dict[tuple[int, int], list[Offer]] = {}  # (source id, line id) → offers
    sources: dict[int, dict] = {}
    # Per line: how many variants were linked but unusable, and why; decides the roadblock's wording.
    seen: dict[int, dict[str, int]] = {line.pk: {} for line in open_lines}
    for row in rows:
        if row["product_variant_id"]:
            matched = lines_by_product.get(row["product_variant_id"], [])
        else:
            # Master SKU first, then UPC.
            matched = lines_by_sku.get(row["master_sku"]) or (lines_by_upc.get(row["upc"], []) if row["upc"] else [])
        if not matched:
            continue
        source = source_rows[row["source_id"]]
        verdict = _usability(row, source, now)
        for line in matched:
            seen[line.pk][verdict] = seen[line.pk].get(verdict, 0) + 1
        if verdict not in ("ok", "stale", "empty"):
            continue
        sources.setdefault(row["source_id"], source)
        available = 0
        if verdict == "ok":
            available = max(0, row["quantity"] - row["committed_quantity"] - source["stock_buffer"])
        if available <= 0 and not source["allow_backorders"]:
            continue
        updated = row["quantity_updated_at"]
        offer = Offer(
            variant_id=row["id"],
            sku=row["sku"],
            available=available,
            unit_cost=(row["cost"] or ZERO) + (row["dropship_fee"] or ZERO),
            weight=row["weight"] or ZERO,
            stock_age_hours=None if updated is None else (now - updated).total_seconds() / 3600,
        )
        for line in matched:
            offers.setdefault((row["source_id"], line.pk), []).append(offer)

    line_order = {line.pk: line.order_id for line in open_lines}
    quantities = {need.order_line_id: need.quantity for r in results.values() for need in r.needs.lines}
    per_order: dict[int, dict[int, dict[int, Offer]]] = {}  # order id → source id → line id → offer
    for (source_id, line_id), found in offers.items():
        per_order.setdefault(line_order[line_id], {}).setdefault(source_id, {})[line_id] = best_offer(
            found, quantities[line_id]
        )
    rates = {
        source_id: ShippingRate(
            flat_cost=row["shipping_flat_cost"] or ZERO,
            weight_tiers=_tiers(row["shipping_weight_tiers"]),
        )
        for source_id, row in sources.items()
    }
    backorder_sources = frozenset(s for s, row in sources.items() if row["allow_backorders"])
    for order_id, result in results.items():
        method = result.order.requested_shipping_method
        for source_id, line_offers in sorted(per_order.get(order_id, {}).items()):
            row = sources[source_id]
            shipping_map = row["shipping_method_map"] or {}
            result.candidates.append(
                SourceCandidate(
                    source_id=source_id,
                    name=row["name"],
                    priority=row["priority"],
                    offers=line_offers,
                    shipping=rates[source_id],
                    has_shipping_map=not method or method in shipping_map,
                    allow_backorders=row["allow_backorders"],
                )
            )
            result.buffers[source_id] = row["stock_buffer"]
            result.shipping_maps[source_id] = shipping_map
        result.backorder_sources = backorder_sources

    for line in open_lines:
        candidates = results[line.order_id].candidates
        usable = [c.offers[line.pk] for c in candidates if line.pk in c.offers]
        backorderable = any(c.allow_backorders for c in candidates if line.pk in c.offers)
        if not usable or not (backorderable or any(o.available > 0 for o in usable)):
            results[line.order_id].line_roadblocks[line.pk] = _line_roadblock(line, seen[line.pk])
    return results


def _usability(row: dict, source: dict, now: datetime) -> str:
    """Classify a variant row: ok | empty (nothing available) | stale (stock, but too old) | excluded | inactive.

    Inactive: the variant is archived or discontinued, or its source is inactive.
    """
    if row["is_excluded"]:
        return "excluded"
    if row["status"] != InventoryVariant.Status.ACTIVE or not source["is_active"]:
        return "inactive"
    if row["quantity"] - row["committed_quantity"] - source["stock_buffer"] <= 0:
        return "empty"
    max_age = source["max_stock_age_hours"]
    updated = row["quantity_updated_at"]
    if max_age is not None and (updated is None or updated < now - timedelta(hours=max_age)):
        return "stale"
    return "ok"


def _line_roadblock(line: OrderLine, seen: dict[str, int]) -> Roadblock:
    sku = line.master_sku
    if not seen.get("ok") and not seen.get("empty") and not seen.get("stale"):
        if seen:
            return Roadblock(
                "sku_not_linked",
                f"{sku}: no active source variant is linked (only excluded, archived or inactive ones).",
                line.pk,
            )
        return Roadblock("sku_not_linked", f"{sku}: no source variant is linked to this SKU.", line.pk)
    if seen.get("stale") and not seen.get("ok"):
        return Roadblock(
            "stock_too_old", f"{sku}: the only stock is older than its source's maximum stock age.", line.pk
        )
    return Roadblock("no_stock", f"{sku}: no source has available stock (after stock buffers).", line.pk)
