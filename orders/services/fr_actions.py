"""Operator actions on FRs: process, mark processed or acknowledged by hand, void, regenerate, create by hand.

Every status move goes through ``fr_transition``; these functions add what the action means beyond the move.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F

from flxhub.exceptions import Conflict, NotFound, ValidationFailed

from ..models import FRLine, FulfillmentRequest, Order, OrderLine
from ..selectors.routing import order_routed_quantities
from .fr_create import FRLineRequest, fr_create
from .fr_status import FINAL, fr_transition
from .routing import GenerationResult, order_generate_frs

Status = FulfillmentRequest.Status


def fr_process(*, fr_id: int, actor=None, actor_label: str = "") -> FulfillmentRequest:
    """Launch the FR: it goes to the source on the next Send FR run. Allowed from unprocessed, on hold, failed."""
    return fr_transition(
        fr_id=fr_id, to=Status.PROCESSING, actor=actor, actor_label=actor_label, reason="Processed by an operator."
    )


def fr_mark_processed(*, fr_id: int, actor=None, actor_label: str = "", reason: str = "") -> FulfillmentRequest:
    """Record by hand that the FR reached the source (e.g. sent by email outside flxhub)."""
    return fr_transition(
        fr_id=fr_id,
        to=Status.PROCESSED,
        actor=actor,
        actor_label=actor_label,
        reason=reason or "Marked processed by hand.",
    )


def fr_mark_acknowledged(*, fr_id: int, actor=None, actor_label: str = "", reason: str = "") -> FulfillmentRequest:
    """Record by hand that the source accepted the whole FR: every line's acknowledged quantity = its quantity."""
    with transaction.atomic():
        fr = fr_transition(
            fr_id=fr_id,
            to=Status.ACKNOWLEDGED,
            actor=actor,
            actor_label=actor_label,
            reason=reason or "Marked acknowledged by hand.",
        )
        FRLine.objects.filter(fulfillment_request_id=fr_id).update(acknowledged_quantity=F("quantity"))
    return fr


def fr_void(*, fr_id: int, actor=None, reason: str, actor_label: str = "") -> FulfillmentRequest:
    """Void the FR and release its committed stock; ``reason`` is required and kept on the FR."""
    if not reason or not reason.strip():
        raise ValidationFailed("Say why the FR is voided.", details={"field": "reason"})
    return fr_transition(fr_id=fr_id, to=Status.VOIDED, actor=actor, actor_label=actor_label, reason=reason.strip())


def fr_regenerate(
    *, fr_id: int, actor=None, reason: str = "", actor_label: str = "", exclude_source: bool = False
) -> GenerationResult:
    """Void the FR (unless already voided or canceled), then generate FRs again for its released lines.

    ``exclude_source`` keeps the FR's source out of the new routing. Both steps run in one transaction.
    """
    with transaction.atomic():
        fr = FulfillmentRequest.objects.filter(pk=fr_id).first()
        if fr is None:
            raise NotFound(f"Fulfillment request {fr_id} does not exist.", details={"fr_id": fr_id})
        if fr.status not in FINAL:
            fr_void(fr_id=fr_id, actor=actor, actor_label=actor_label, reason=reason or "Voided to regenerate.")
        line_ids = sorted(set(fr.lines.values_list("order_line_id", flat=True)))
        return order_generate_frs(
            order_id=fr.order_id,
            actor=actor,
            actor_label=actor_label,
            order_line_ids=line_ids,
            exclude_source_ids={fr.source_id} if exclude_source else frozenset(),
        )


def fr_create_manual(
    *,
    order_id: int,
    source_id: int,
    lines: list[FRLineRequest],
    actor=None,
    actor_label: str = "",
    reason: str = "",
) -> FulfillmentRequest:
    """Create an FR at a source picked by hand, bypassing routing.

    Preconditions: the order is paid or deferred (else ``Conflict``) and no line asks for more than is not yet
    on a live FR (else ``ValidationFailed``).
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=order_id).first()
        if order is None:
            raise NotFound(f"Order {order_id} does not exist.", details={"order_id": order_id})
        if order.status not in Order.ROUTABLE:
            raise Conflict(f"Order {order} is {order.status}; only paid or deferred orders get FRs.")
        routed = order_routed_quantities(order_id=order.pk)
        quantities = {line.pk: line.quantity for line in OrderLine.objects.filter(order=order)}
        asked: dict[int, int] = {}
        for req in lines:
            asked[req.order_line_id] = asked.get(req.order_line_id, 0) + req.quantity
        for line_id, quantity in asked.items():
            open_quantity = quantities.get(line_id, 0) - routed.get(line_id, 0)
            if line_id in quantities and quantity > open_quantity:
                raise ValidationFailed(
                    f"Order line {line_id}: {quantity} asked, only {open_quantity} not yet on a live FR.",
                    details={"order_line_id": line_id, "open": open_quantity},
                )
        decision = {
            "version": 1,
            "rule": "manual",
            "explanation": reason or "Created by hand; routing was bypassed.",
            "assignment": [
                {
                    "source_id": source_id,
                    "lines": [
                        {"order_line_id": r.order_line_id, "variant_id": r.variant_id, "quantity": r.quantity}
                        for r in lines
                    ],
                }
            ],
            "candidates": [],
        }
        return fr_create(
            order_id=order.pk,
            source_id=source_id,
            lines=lines,
            actor=actor,
            actor_label=actor_label,
            routing_decision=decision,
        )


def fr_release_hold(*, fr_id: int, actor=None, actor_label: str = "", reason: str = "") -> FulfillmentRequest:
    """Take the FR off hold (its cause fixed by hand): it waits as unprocessed again."""
    return fr_transition(
        fr_id=fr_id, to=Status.UNPROCESSED, actor=actor, actor_label=actor_label, reason=reason or "Hold released."
    )


@dataclass(frozen=True)
class OperatorAction:
    """A button an operator may press on an FR: the status it leads to, its label, and the service it calls."""

    to: str
    label: str
    needs_reason: bool
    run: Callable[..., FulfillmentRequest]  # run(fr_id=, actor=, actor_label=, reason=)


OPERATOR_ACTIONS: dict[str, OperatorAction] = {
    "process": OperatorAction(Status.PROCESSING, "Process", False, lambda *, reason, **kw: fr_process(**kw)),
    "mark_processed": OperatorAction(Status.PROCESSED, "Mark processed", False, fr_mark_processed),
    "mark_acknowledged": OperatorAction(Status.ACKNOWLEDGED, "Mark acknowledged", False, fr_mark_acknowledged),
    "release_hold": OperatorAction(Status.UNPROCESSED, "Release hold", False, fr_release_hold),
    "void": OperatorAction(Status.VOIDED, "Void", True, fr_void),
}
