"""Generate FRs for many orders at once: the throughput path for imports, schedules and the benchmark.

Same routing and the same FRs as ``order_generate_frs``, written with bulk statements: a batch of orders
costs a fixed number of queries (plus one per source that overrides the global FR settings) instead of a
dozen per FR. Rows are written with one INSERT per table from a JSON document, and stock is committed with
one UPDATE. The full routing decision is stored on each order's first FR; the other FRs of a split store a
brief of it that names that FR (see ``_split_part_decision``).
Concurrency: the batch locks its orders, then every candidate variant in primary-key order in one
statement, and routes from what it read under those locks, taking each order's stock out of the snapshot
before routing the next, so no variant is ever promised twice.

PostgreSQL only (jsonb_to_recordset); on the embedded SQLite mode use ``order_generate_frs`` per order.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import replace

from django.db import connection, transaction
from django.db.models import Count, JSONField, Model
from django.utils import timezone

from flxhub.exceptions import ApplicationError
from inventory.models import InventoryVariant
from sources.models import GlobalSettings, Source

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
    if connection.vendor != "postgresql":
        raise ApplicationError(
            "Bulk FR generation needs PostgreSQL; generate per order (order_generate_frs) on this database.",
            code="bulk_generation_unsupported",
        )
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
    fr_settings = _fr_settings(sources)
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

    now = timezone.now()
    fr_values = []
    full_on: dict[int, str] = {}  # order id → number of the FR carrying the full decision
    for o, part, number, _ in planned:
        source_id = part.candidate.source_id
        if o.pk in full_on:
            decision = _split_part_decision(decision_json[o.pk], source_id, full_on[o.pk])
        else:
            full_on[o.pk] = number
            decision = {**decision_json[o.pk], "fr_source_id": source_id}
        fr_values.append(
            {
                "number": number,
                "order_id": o.pk,
                "source_id": source_id,
                "shipping_method": o.requested_shipping_method,
                "source_shipping_code": sources[source_id].shipping_method_map.get(o.requested_shipping_method, ""),
                "routing_decision": decision,
            }
        )
    frs = _insert_rows(FulfillmentRequest, fr_values, now=now, returning=True)

    variant_ids = {a.variant_id for _, part, _, _ in planned for a in part.allocations}
    variants = {
        row[0]: row
        for row in InventoryVariant.objects.filter(pk__in=variant_ids).values_list(
            "pk", "sku", "master_sku", "upc", "mpn", "title", "cost"
        )
    }
    lines, commits = [], {}
    for fr, (_order, part, _, _) in zip(frs, planned, strict=True):
        commit = sources[part.candidate.source_id].commit_stock
        for a in part.allocations:
            pk, sku, master_sku, upc, mpn, title, cost = variants[a.variant_id]
            lines.append(
                {
                    "fulfillment_request_id": fr.pk,
                    "order_line_id": a.order_line_id,
                    "variant_id": pk,
                    "sku": sku,
                    "master_sku": master_sku,
                    "upc": upc,
                    "mpn": mpn,
                    "title": title or titles.get(a.order_line_id, ""),
                    "cost": cost,
                    "quantity": a.quantity,
                    "committed_quantity": a.quantity if commit else 0,
                }
            )
            if commit:
                commits[pk] = commits.get(pk, 0) + a.quantity
    _insert_rows(FRLine, lines, now=now)
    _commit_stock(commits)

    events = []
    actor_id = actor.pk if actor is not None else None
    for fr, (o, part, number, _) in zip(frs, planned, strict=True):
        decision = decisions[o.pk]
        common = {
            "fulfillment_request_id": fr.pk,
            "kind": FREvent.Kind.STAGE,
            "to_status": fr.status,
            "actor_id": actor_id,
            "actor_label": label,
        }
        events.append(
            common
            | {
                "reason": f"Generated for {part.candidate.name} with {len(part.allocations)} line(s).",
                "data": {"number": number},
            }
        )
        events.append(
            common
            | {
                "reason": f"Routed ({decision.rule}): {decision.explanation}",
                "data": {"stage": "routing", "rule": decision.rule, "group": decision.policy.group_name},
            }
        )
    _insert_rows(FREvent, events, now=now)

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


def _split_part_decision(decision: dict, source_id: int, full_on: str) -> dict:
    """The decision as stored on the second and later FRs of a split: why, this FR's part, the rest in brief.

    The full decision (every candidate's offers per line, every part's lines) is stored once per order, on its
    first FR, named by ``full_decision_on``: storing it on every FR of a split made the stored JSON most of
    what bulk generation writes. Each FR still says which rule decided and why, what it ships at what cost,
    the other parts, and every candidate with whether it could fill the order and at what total.
    """
    brief = {key: value for key, value in decision.items() if key not in ("assignment", "candidates")}
    brief["assignment"] = [
        part if part["source_id"] == source_id else {key: part[key] for key in ("source_id", "source", "total")}
        for part in decision["assignment"]
    ]
    brief["candidates"] = [
        {key: candidate[key] for key in ("source_id", "source", "can_fill_order", "total") if key in candidate}
        for candidate in decision["candidates"]
    ]
    return brief | {"fr_source_id": source_id, "full_decision_on": full_on}


def _fr_settings(sources: dict[int, Source]) -> dict[int, FRSettings]:
    """The FR settings in force per source, reading the global settings once rather than once per source."""
    glob = GlobalSettings.load()
    shared = FRSettings(glob.auto_process_frs, glob.fr_number_prefix, glob.fr_number_max_length)
    return {pk: fr_settings_for(src) if src.override_global_settings else shared for pk, src in sources.items()}


def _insert_rows(model: type[Model], rows: list[dict], *, now, returning: bool = False) -> list:
    """INSERT ``rows`` in one statement; with ``returning``, return the saved instances in the same order.

    Every row gives the same fields, by attribute name, as the column stores them (JSON fields as dicts);
    the other fields take their defaults (``now`` for auto_now and auto_now_add). The rows travel as one
    JSON document unpacked by ``jsonb_to_recordset``: ``bulk_create`` prepares every value field by field and
    binds thousands of parameters client-side, which cost more than the statement itself on this path.
    """
    if not rows:
        return []
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    given = [f for f in fields if f.attname in rows[0]]
    defaults = {
        f.attname: now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) else f.get_default()
        for f in fields
        if f.attname not in rows[0]
    }
    rest = [f for f in fields if f.attname in defaults]
    quote = connection.ops.quote_name
    record = ", ".join(f"{quote(f.attname)} {f.db_type(connection)}" for f in given)
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in given + rest)}) "
        f"SELECT {', '.join([f'r.{quote(f.attname)}' for f in given] + ['%s'] * len(rest))} "
        f"FROM jsonb_to_recordset(%s::jsonb) AS r({record})"
    )
    params = [json.dumps(v) if isinstance(f, JSONField) else v for f in rest for v in [defaults[f.attname]]]
    params.append(json.dumps(rows, default=str))  # Decimal as its exact string; numeric columns parse it
    with connection.cursor() as cursor:
        if not returning:
            cursor.execute(sql, params)
            return []
        # Rows come back in insertion order, which Django's own bulk_create relies on for INSERT … SELECT.
        cursor.execute(f"{sql} RETURNING {quote(meta.pk.column)}", params)
        ids = [row[0] for row in cursor.fetchall()]
    instances = []
    for pk, row in zip(ids, rows, strict=True):
        values = {**defaults, **row, meta.pk.attname: pk}
        # A callable default (dict, list) must not be one object shared by every instance.
        values.update((f.attname, f.get_default()) for f in rest if f.has_default() and callable(f.default))
        instances.append(model.from_db(connection.alias, None, [values[f.attname] for f in meta.concrete_fields]))
    return instances


def _commit_stock(commits: dict[int, int]) -> None:
    """Add ``commits`` (variant id → units) to the variants' committed quantities in one statement.

    The caller holds the variants' row locks (taken in primary-key order when they were read).
    """
    if not commits:
        return
    table = connection.ops.quote_name(InventoryVariant._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS v SET committed_quantity = v.committed_quantity + d.quantity "
            "FROM jsonb_to_recordset(%s::jsonb) AS d(id bigint, quantity integer) WHERE v.id = d.id",
            [json.dumps([{"id": pk, "quantity": quantity} for pk, quantity in sorted(commits.items())])],
        )
