"""The FR state machine: one transitions table, a guard, a row lock, an event per move.

``fr_transition`` is the only way an FR's processing status changes. Repeating a move already made
answers the FR unchanged (idempotent); a move the table does not allow raises ``InvalidTransition``
and changes nothing. Follow-up work is enqueued only after the transaction commits.
"""

from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from flxhub.exceptions import InvalidTransition, NotFound

from ..models import FREvent, FulfillmentRequest
from .stock import fr_release_stock

Status = FulfillmentRequest.Status
ShippingStatus = FulfillmentRequest.ShippingStatus

TRANSITIONS: dict[str, frozenset[str]] = {
    Status.UNPROCESSED: frozenset({Status.PROCESSING, Status.ON_HOLD, Status.VOIDED, Status.CANCELED}),
    Status.ON_HOLD: frozenset({Status.UNPROCESSED, Status.PROCESSING, Status.VOIDED, Status.CANCELED}),
    Status.PROCESSING: frozenset(
        {Status.PROCESSED, Status.ACKNOWLEDGED, Status.FAILED, Status.ON_HOLD, Status.VOIDED, Status.CANCELED}
    ),
    Status.PROCESSED: frozenset({Status.ACKNOWLEDGED, Status.FAILED, Status.VOIDED, Status.CANCELED}),
    Status.FAILED: frozenset({Status.PROCESSING, Status.ON_HOLD, Status.VOIDED, Status.CANCELED}),
    Status.ACKNOWLEDGED: frozenset({Status.VOIDED, Status.CANCELED}),
    Status.CANCELED: frozenset(),
    Status.VOIDED: frozenset(),
}

# Statuses in which a shipment may be recorded against the FR.
SHIPPABLE = frozenset({Status.PROCESSED, Status.ACKNOWLEDGED})
FINAL = frozenset({Status.CANCELED, Status.VOIDED})


def allowed_transitions(status: str) -> frozenset[str]:
    return TRANSITIONS[status]


def _on_voided(fr: FulfillmentRequest, now) -> None:
    fr.voided_at = now
    for line in fr.lines.all():
        line.voided_quantity += line.open_quantity
        line.save(update_fields=["voided_quantity"])
    fr_release_stock(fr=fr)


def _on_canceled(fr: FulfillmentRequest, now) -> None:
    fr.canceled_at = now
    for line in fr.lines.all():
        line.canceled_quantity += line.open_quantity
        line.save(update_fields=["canceled_quantity"])
    fr_release_stock(fr=fr)


def _on_processed(fr: FulfillmentRequest, now) -> None:
    fr.sent_at = fr.sent_at or now


def _on_acknowledged(fr: FulfillmentRequest, now) -> None:
    fr.sent_at = fr.sent_at or now
    fr.acknowledged_at = fr.acknowledged_at or now


ON_ENTER: dict[str, Callable] = {
    Status.VOIDED: _on_voided,
    Status.CANCELED: _on_canceled,
    Status.PROCESSED: _on_processed,
    Status.ACKNOWLEDGED: _on_acknowledged,
}


def shipping_status_from_lines(fr: FulfillmentRequest) -> str:
    """Derive the shipping status from the FR's line quantities."""
    lines = list(fr.lines.all())
    shipped = any(line.shipped_quantity for line in lines)
    if all(line.open_quantity == 0 for line in lines):
        return ShippingStatus.SHIPPED if shipped else ShippingStatus.CANCELED
    return ShippingStatus.PARTIALLY_SHIPPED if shipped else ShippingStatus.AWAITING_SHIPMENT


def fr_lock(*, fr_id: int) -> FulfillmentRequest:
    """Lock and return the FR row; the caller must be inside ``transaction.atomic``."""
    try:
        # of=("self",): lock the FR row only, so one source's FRs don't queue behind each other.
        return FulfillmentRequest.objects.select_for_update(of=("self",)).select_related("source").get(pk=fr_id)
    except FulfillmentRequest.DoesNotExist:
        raise NotFound(f"Fulfillment request {fr_id} does not exist.", details={"fr_id": fr_id})


def fr_set_shipping_status(*, fr: FulfillmentRequest, actor=None, actor_label: str = "", reason: str = "") -> None:
    """Recompute the locked FR's shipping status from its lines and record the change, if any."""
    new = shipping_status_from_lines(fr)
    if new == fr.shipping_status:
        return
    FREvent.objects.create(
        fulfillment_request=fr,
        kind=FREvent.Kind.SHIPPING,
        from_status=fr.shipping_status,
        to_status=new,
        actor=actor,
        actor_label=actor_label or ("user" if actor else "system"),
        reason=reason,
    )
    fr.shipping_status = new
    if new == ShippingStatus.SHIPPED:
        fr.shipped_at = fr.shipped_at or timezone.now()


def fr_transition(
    *, fr_id: int, to: str, actor=None, actor_label: str = "", reason: str = "", data: dict | None = None
) -> FulfillmentRequest:
    """Move FR ``fr_id`` to status ``to``, or raise ``InvalidTransition`` if the table forbids it.

    Already in ``to``: returns the FR unchanged and writes no event (idempotent repeat).
    Entering voided or canceled releases the FR's committed stock.
    """
    if to not in TRANSITIONS:
        raise InvalidTransition(f"Unknown FR status {to!r}.", details={"to": to})
    with transaction.atomic():
        fr = fr_lock(fr_id=fr_id)
        current = fr.status
        if current == to:
            return fr
        if to not in TRANSITIONS[current]:
            allowed = sorted(TRANSITIONS[current])
            raise InvalidTransition(
                f"FR {fr.number} is {current}; it cannot become {to}."
                + (f" Allowed from {current}: {', '.join(allowed)}." if allowed else f" {current} is final."),
                details={"fr": fr.number, "from": current, "to": to, "allowed": allowed},
            )
        now = timezone.now()
        handler = ON_ENTER.get(to)
        if handler:
            handler(fr, now)
        fr.status = to
        if to in (Status.FAILED, Status.ON_HOLD, Status.CANCELED, Status.VOIDED):
            fr.status_reason = reason
        elif to in (Status.PROCESSING, Status.UNPROCESSED):
            fr.status_reason = ""
        FREvent.objects.create(
            fulfillment_request=fr,
            kind=FREvent.Kind.STATUS,
            from_status=current,
            to_status=to,
            actor=actor,
            actor_label=actor_label or ("user" if actor else "system"),
            reason=reason,
            data=data or {},
        )
        if to in FINAL:
            fr_set_shipping_status(fr=fr, actor=actor, actor_label=actor_label, reason=reason)
        fr.save()
        order_id = fr.order_id
        transaction.on_commit(lambda: enqueue_order_refresh(order_id))
    return fr


def enqueue_order_refresh(order_id: int) -> None:
    from ..tasks import order_refresh_status_task

    order_refresh_status_task.delay(order_id)
