"""Preview and generate FRs for an order: route it, create one FR per chosen source, commit stock, log stages.

Generation is safe under concurrency: the variants it commits are locked in primary-key order and their
availability is checked again under the lock. If stock moved since routing read it, the attempt is rolled
back and routing runs again; the last attempt locks every candidate variant before reading, so two orders
generated at once for the last unit never both get it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction

from flxhub.exceptions import Conflict, NotFound
from inventory.models import InventoryVariant

from ..models import FREvent, FulfillmentRequest, Order, RoutingGroup, RoutingPriority
from ..routing import DEFAULT_CHAIN, Decision, RoutingPolicy, route
from ..selectors.routing import (
    DEFAULT_GROUP_NAME,
    Roadblock,
    RoutingInput,
    routing_groups_load,
    routing_input_for_order,
    routing_policy_for_country,
)
from .fr_create import FRLineRequest, fr_create

ATTEMPTS = 3


@dataclass
class Preview:
    """What generation would do for an order, and everything standing in its way."""

    order_id: int
    can_generate: bool
    decision: dict
    roadblocks: list[Roadblock] = field(default_factory=list)

    @property
    def assignment(self) -> list[dict]:
        return self.decision.get("assignment", [])


@dataclass
class GenerationResult:
    order_id: int
    frs: list[FulfillmentRequest]
    decision: dict
    roadblocks: list[Roadblock] = field(default_factory=list)


class _StockMoved(Exception):
    """Availability changed between routing and locking; roll back and route again."""


def routing_group_ensure_default() -> RoutingGroup:
    """Return the default routing group, creating it (single FR preferred, lowest cost, source priority) if missing."""
    group = RoutingGroup.objects.filter(is_default=True).first()
    if group:
        return group
    with transaction.atomic():
        group, _ = RoutingGroup.objects.get_or_create(name=DEFAULT_GROUP_NAME, defaults={"is_default": True})
        if not group.is_default:
            group.is_default = True
            group.save(update_fields=["is_default"])
        if not group.priorities.exists():
            RoutingPriority.objects.bulk_create(
                RoutingPriority(group=group, position=position, strategy=strategy)
                for position, strategy in enumerate(DEFAULT_CHAIN)
            )
    return group


def order_roadblocks(order: Order) -> list[Roadblock]:
    roadblocks = []
    if order.status not in Order.ROUTABLE:
        roadblocks.append(
            Roadblock("order_not_routable", f"Order {order} is {order.status}; only paid or deferred orders route.")
        )
    if not order.has_shipping_address:
        roadblocks.append(Roadblock("missing_address", f"Order {order} has an incomplete shipping address."))
    return roadblocks


def decision_roadblocks(decision: Decision, data: RoutingInput, method: str) -> list[Roadblock]:
    roadblocks = []
    for unrouted in decision.unrouted:
        known = data.line_roadblocks.get(unrouted.order_line_id)
        if known:
            roadblocks.append(known)
        elif unrouted.reason == "single_fr_required":
            roadblocks.append(
                Roadblock(
                    "single_fr_required",
                    f"{unrouted.master_sku}: no single source can fill the whole order, and the routing group "
                    "requires a single FR.",
                    unrouted.order_line_id,
                )
            )
        else:
            roadblocks.append(
                Roadblock(
                    "insufficient_stock",
                    f"{unrouted.master_sku}: {unrouted.quantity} unit(s) more than the sources have available.",
                    unrouted.order_line_id,
                )
            )
    for part in decision.parts:
        if not part.candidate.has_shipping_map:
            roadblocks.append(no_shipping_map_roadblock(part.candidate.name, method, part.candidate.source_id))
    return roadblocks


def no_shipping_map_roadblock(source_name: str, method: str, source_id: int) -> Roadblock:
    return Roadblock(
        "no_shipping_map",
        f"{source_name} has no shipping-method map for {method!r}; its FR is held until the map is set.",
        source_id=source_id,
    )


def _policy(order: Order, groups: list[RoutingGroup] | None) -> RoutingPolicy:
    return routing_policy_for_country(country=order.ship_country, groups=groups)


def order_preview(*, order_id: int) -> Preview:
    """Say what generating FRs for ``order_id`` would do and list every roadblock; write nothing."""
    order = Order.objects.filter(pk=order_id).first()
    if order is None:
        raise NotFound(f"Order {order_id} does not exist.", details={"order_id": order_id})
    data = routing_input_for_order(order=order)
    decision = route(data.needs, data.candidates, _policy(order, None))
    order_blocks = order_roadblocks(order)
    roadblocks = order_blocks + decision_roadblocks(decision, data, order.requested_shipping_method)
    return Preview(
        order_id=order.pk,
        can_generate=not order_blocks and bool(decision.parts),
        decision=decision.to_json(),
        roadblocks=roadblocks,
    )


def order_generate_frs(
    *,
    order_id: int,
    actor=None,
    actor_label: str = "",
    order_line_ids: list[int] | None = None,
    exclude_source_ids: frozenset[int] | set[int] = frozenset(),
    groups: list[RoutingGroup] | None = None,
) -> GenerationResult:
    """Route the order's open lines and create one FR per chosen source, with the decision stored on each.

    Preconditions: the order is paid or deferred and has a complete shipping address (else ``Conflict``).
    Lines already on live FRs are not routed again; ``order_line_ids`` limits routing to those lines.
    What cannot be routed is returned as roadblocks, not raised. ``groups`` may pass the routing groups
    preloaded (``routing_groups_load``) when generating for many orders.
    """
    if groups is None:
        groups = routing_groups_load()
        if not any(g.is_default for g in groups):
            routing_group_ensure_default()
            groups = routing_groups_load()
    for attempt in range(ATTEMPTS):
        try:
            with transaction.atomic():
                return _generate(
                    order_id=order_id,
                    actor=actor,
                    actor_label=actor_label,
                    order_line_ids=order_line_ids,
                    exclude_source_ids=exclude_source_ids,
                    groups=groups,
                    lock_first=attempt == ATTEMPTS - 1,
                )
        except _StockMoved:
            continue
    raise AssertionError("unreachable: the last attempt locks before reading")  # pragma: no cover


def _generate(*, order_id, actor, actor_label, order_line_ids, exclude_source_ids, groups, lock_first):
    try:
        order = Order.objects.select_for_update().get(pk=order_id)
    except Order.DoesNotExist:
        raise NotFound(f"Order {order_id} does not exist.", details={"order_id": order_id})
    blocks = order_roadblocks(order)
    if blocks:
        raise Conflict(
            " ".join(b.message for b in blocks),
            details={"order": str(order), "roadblocks": [b.to_json() for b in blocks]},
        )
    data = routing_input_for_order(
        order=order, order_line_ids=order_line_ids, exclude_source_ids=exclude_source_ids, lock_variants=lock_first
    )
    decision = route(data.needs, data.candidates, _policy(order, groups))
    if not lock_first:
        _lock_and_recheck(decision, data)
    decision_json = decision.to_json()
    method = order.requested_shipping_method
    frs = []
    for part in decision.parts:
        candidate = part.candidate
        frs.append(
            fr_create(
                order_id=order.pk,
                source_id=candidate.source_id,
                lines=[FRLineRequest(a.order_line_id, a.variant_id, a.quantity) for a in part.allocations],
                actor=actor,
                actor_label=actor_label,
                routing_decision={**decision_json, "fr_source_id": candidate.source_id},
                hold_reason=""
                if candidate.has_shipping_map
                else no_shipping_map_roadblock(candidate.name, method, 0).message,
            )
        )
    label = actor_label or ("user" if actor else "system")
    FREvent.objects.bulk_create(
        FREvent(
            fulfillment_request=fr,
            kind=FREvent.Kind.STAGE,
            to_status=fr.status,
            actor=actor,
            actor_label=label,
            reason=f"Routed ({decision.rule}): {decision.explanation}",
            data={"stage": "routing", "rule": decision.rule, "group": decision.policy.group_name},
        )
        for fr in frs
    )
    return GenerationResult(
        order_id=order.pk,
        frs=frs,
        decision=decision_json,
        roadblocks=decision_roadblocks(decision, data, method),
    )


def _lock_and_recheck(decision: Decision, data: RoutingInput) -> None:
    """Lock the variants the decision commits, in primary-key order, and check they still have the stock."""
    needed: dict[int, int] = {}
    source_of: dict[int, int] = {}
    for part in decision.parts:
        for a in part.allocations:
            needed[a.variant_id] = needed.get(a.variant_id, 0) + a.quantity - a.backordered
            source_of[a.variant_id] = part.candidate.source_id
    if not needed:
        return
    rows = (
        InventoryVariant.objects.select_for_update()
        .filter(pk__in=needed)
        .order_by("pk")
        .values_list("pk", "quantity", "committed_quantity")
    )
    for pk, quantity, committed in rows:
        if needed[pk] > 0 and needed[pk] > quantity - committed - data.buffers.get(source_of[pk], 0):
            raise _StockMoved(pk)


def order_generate_frs_on_import(*, order_id: int, actor_label: str = "import") -> GenerationResult | None:
    """Generate FRs for a just-imported order when its channel asks for it and it is routable; else None."""
    order = Order.objects.select_related("channel").filter(pk=order_id).first()
    if order is None or not order.channel.generate_frs_on_import or order_roadblocks(order):
        return None
    return order_generate_frs(order_id=order_id, actor_label=actor_label)
