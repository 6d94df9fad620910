"""Generate FRs for many orders at once: the throughput path for imports, schedules and the benchmark.

Same routing and the same FRs as ``order_generate_frs``, written with bulk statements: a batch of orders
costs a fixed number of queries (plus one per source for its FR settings) instead of a dozen per FR.
Concurrency: the batch locks its orders, then every candidate variant in primary-key order in one
statement, and routes from what it read under those locks, taking each order's stock out of the snapshot
before routing the next, so no variant is ever promised twice.
"""

from __future__ import annotations

import uuid
from dataclasses import replace

from django.db import transaction
from django.db.models import Count, F, JSONField, Value

from inventory.models import InventoryVariant
from sources.models import Source

from ..models import FREvent, FRLine, FulfillmentRequest, Order, RoutingGroup
from ..routing import Decision, SourceCandidate, route
from ..selectors.routing import routing_groups_load, routing_inputs_for_orders, routing_policy_for_country
from .fr_numbers import FRSettings, fr_settings_for
from .fr_status import fr_transition
from .routing import (
    GenerationResult,
    decision_roadblocks,
    no_shipping_map_roadblock,
    order_roadblocks,
    routing_group_ensure_default,
)

Status = FulfillmentRequest.Status


def orders_generate_frs(
    *, order_ids: list[int], actor=None, actor_label: str = "", groups: list[RoutingGroup] | None = None
) -> list[GenerationResult]:
    """Route and create FRs for every order in ``order_ids`` in one transaction; one result per order found.

    Orders that are not paid or deferred, or lack a shipping address, get their roadblocks and no FRs
    (unlike ``order_generate_frs``, which raises). Lines already on live FRs are not routed again.
    """
    if groups is None:
        groups = routing_groups_load()
        if not any(g.is_default for g in groups):
            routing_group_ensure_default()
            groups = routing_groups_load()
    label = actor_label or ("user" if actor else "system")
    with transaction.atomic():
        orders = list(Order.objects.select_for_update().filter(pk__in=order_ids).order_by("pk"))
        blocked = {o.pk: order_roadblocks(o) for o in orders}
        routable = [o for o in orders if not blocked[o.pk]]
        inputs = routing_inputs_for_orders(orders=routable, lock_variants=True)
        taken: dict[int, int] = {}
        decisions: dict[int, Decision] = {}
        for o in routable:
            data = inputs[o.pk]
            candidates = [_less_taken(c, taken) for c in data.candidates]
            decision = route(data.needs, candidates, routing_policy_for_country(country=o.ship_country, groups=groups))
            decisions[o.pk] = decision
            for part in decision.parts:
                for a in part.allocations:
                    taken[a.variant_id] = taken.get(a.variant_id, 0) + a.quantity - a.backordered
        titles = {pk: line.title for data in inputs.values() for pk, line in data.lines.items()}
        decision_json = {o.pk: decisions[o.pk].to_json() for o in routable}
        frs = _create_frs(routable, decisions, decision_json, titles, actor, label)
        results = []
        for o in orders:
            if blocked[o.pk]:
                results.append(GenerationResult(order_id=o.pk, frs=[], decision={}, roadblocks=blocked[o.pk]))
                continue
            decision = decisions[o.pk]
            roadblocks = decision_roadblocks(decision, inputs[o.pk], o.requested_shipping_method)
            results.append(GenerationResult(o.pk, frs.get(o.pk, []), decision_json[o.pk], roadblocks))
    return results


def _less_taken(candidate: SourceCandidate, taken: dict[int, int]) -> SourceCandidate:
    """The candidate with stock earlier orders of the batch took removed from its offers."""
    if not any(o.variant_id in taken for o in candidate.offers.values()):
        return candidate
    offers = {
        line_id: replace(o, available=max(0, o.available - taken.get(o.variant_id, 0)))
        for line_id, o in candidate.offers.items()
    }
    return replace(candidate, offers=offers)


def _create_frs(
    orders: list[Order],
    decisions: dict[int, Decision],
    decision_json: dict[int, dict],
    titles: dict[int, str],
    actor,
    label: str,
) -> dict[int, list]:
    """Create, number, commit and log every FR the decisions call for; hold or auto-process them after."""
    source_ids = {p.candidate.source_id for d in decisions.values() for p in d.parts}
    if not source_ids:
        return {}
    sources = Source.objects.in_bulk(source_ids)
    fr_settings: dict[int, FRSettings] = {sid: fr_settings_for(src) for sid, src in sources.items()}
    existing = dict(
        FulfillmentRequest.objects.filter(order__in=orders)
        .values("order_id")
        .annotate(n=Count("pk"))
        .values_list("order_id", "n")
    )
    planned = []  # (order, part, number, hold reason)
    for o in orders:
        for k, part in enumerate(decisions[o.pk].parts, start=1):
            src = sources[part.candidate.source_id]
            settings = fr_settings[src.pk]
            # The order_number_suffix strategy, counted in bulk: the order number and its FR count so far.
            number = f"{settings.prefix}{o.channel_order_number}-{existing.get(o.pk, 0) + k}"
            hold = ""
            if src.fr_number_strategy != "order_number_suffix":
                hold = f"FR number strategy {src.fr_number_strategy!r} is not supported by bulk generation."
            elif len(number) > settings.max_length:
                hold = f"FR number {number} is {len(number)} characters; the limit is {settings.max_length}."
            if not part.candidate.has_shipping_map:
                hold = " ".join(
                    filter(None, [hold, no_shipping_map_roadblock(src.name, o.requested_shipping_method, 0).message])
                )
            planned.append([o, part, number, hold])
    numbers = [p[2] for p in planned]
    used = set(FulfillmentRequest.objects.filter(number__in=numbers).values_list("number", flat=True))
    seen: set[str] = set()
    for entry in planned:
        if entry[2] in used or entry[2] in seen:
            entry[3] = " ".join(filter(None, [f"FR number {entry[2]} is already used by another FR.", entry[3]]))
            entry[2] = f"{entry[2]}~{uuid.uuid4().hex[:6]}"
        seen.add(entry[2])

    frs = FulfillmentRequest.objects.bulk_create(
        FulfillmentRequest(
            number=number,
            order=o,
            source_id=part.candidate.source_id,
            shipping_method=o.requested_shipping_method,
            source_shipping_code=sources[part.candidate.source_id].shipping_method_map.get(
                o.requested_shipping_method, ""
            ),
            # Wrapped as an expression so PostgreSQL gets plain VALUES: bulk_create's UNNEST path escapes
            # large JSON documents inside a jsonb[] literal, which costs more than the whole insert.
            routing_decision=Value(
                {**decision_json[o.pk], "fr_source_id": part.candidate.source_id}, output_field=JSONField()
            ),
        )
        for o, part, number, _ in planned
    )
    for fr in frs:
        fr.routing_decision = fr.routing_decision.value
    variant_ids = {a.variant_id for _, part, _, _ in planned for a in part.allocations}
    variants = InventoryVariant.objects.in_bulk(variant_ids)
    lines, commits = [], {}
    for fr, (_order, part, _, _) in zip(frs, planned, strict=True):
        commit = sources[part.candidate.source_id].commit_stock
        for a in part.allocations:
            v = variants[a.variant_id]
            lines.append(
                FRLine(
                    fulfillment_request=fr,
                    order_line_id=a.order_line_id,
                    variant_id=v.pk,
                    sku=v.sku,
                    master_sku=v.master_sku,
                    upc=v.upc,
                    mpn=v.mpn,
                    title=v.title or titles.get(a.order_line_id, ""),
                    cost=v.cost,
                    quantity=a.quantity,
                    committed_quantity=a.quantity if commit else 0,
                )
            )
            if commit:
                commits[v.pk] = commits.get(v.pk, 0) + a.quantity
    FRLine.objects.bulk_create(lines)
    # One UPDATE per distinct quantity (a handful) rather than one per variant; the rows are already locked.
    by_quantity: dict[int, list[int]] = {}
    for pk, quantity in commits.items():
        by_quantity.setdefault(quantity, []).append(pk)
    for quantity, pks in sorted(by_quantity.items()):
        InventoryVariant.objects.filter(pk__in=sorted(pks)).update(
            committed_quantity=F("committed_quantity") + quantity
        )
    events = []
    for fr, (o, part, number, _) in zip(frs, planned, strict=True):
        decision = decisions[o.pk]
        common = {"fulfillment_request": fr, "kind": FREvent.Kind.STAGE, "to_status": fr.status, "actor": actor}
        events.append(
            FREvent(
                **common,
                actor_label=label,
                reason=f"Generated for {part.candidate.name} with {len(part.allocations)} line(s).",
                data={"number": number},
            )
        )
        events.append(
            FREvent(
                **common,
                actor_label=label,
                reason=f"Routed ({decision.rule}): {decision.explanation}",
                data={"stage": "routing", "rule": decision.rule, "group": decision.policy.group_name},
            )
        )
    FREvent.objects.bulk_create(events)

    by_order: dict[int, list] = {}
    for fr, (o, part, _, hold) in zip(frs, planned, strict=True):
        if hold:
            fr = fr_transition(fr_id=fr.pk, to=Status.ON_HOLD, actor=actor, actor_label=label, reason=hold)
        elif fr_settings[part.candidate.source_id].auto_process:
            fr = fr_transition(
                fr_id=fr.pk,
                to=Status.PROCESSING,
                actor=actor,
                actor_label=label,
                reason="Auto-process is on for this source.",
            )
        by_order.setdefault(o.pk, []).append(fr)
    return by_order
