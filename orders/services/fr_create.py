"""Create an FR for chosen lines of an order at one source: number it, commit stock, log, auto-process."""

import uuid
from dataclasses import dataclass

from django.db import transaction

from flxhub.exceptions import ValidationFailed
from inventory.models import InventoryVariant
from sources.models import Source

from ..models import FREvent, FRLine, FulfillmentRequest, Order, OrderLine
from .fr_numbers import STRATEGIES, fr_settings_for
from .fr_status import fr_transition
from .stock import fr_commit_stock


@dataclass(frozen=True)
class FRLineRequest:
    order_line_id: int
    variant_id: int
    quantity: int


def fr_create(
    *,
    order_id: int,
    source_id: int,
    lines: list[FRLineRequest],
    actor=None,
    actor_label: str = "",
    routing_decision: dict | None = None,
    hold_reason: str = "",
) -> FulfillmentRequest:
    """Create one FR of ``lines`` at ``source_id``; validate first, then write everything in one transaction.

    The number follows the source's strategy. An over-long number is kept whole and the FR held; a number
    already in use holds the FR under a temporary number. ``hold_reason`` (e.g. missing data found by the
    caller) holds it too. Without a hold, auto-process launches it.
    """
    if not lines:
        raise ValidationFailed("An FR needs at least one line.")
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        source = Source.objects.get(pk=source_id)
        order_lines = OrderLine.objects.in_bulk([line.order_line_id for line in lines])
        variants = InventoryVariant.objects.in_bulk([line.variant_id for line in lines])
        for req in lines:
            order_line, variant = order_lines.get(req.order_line_id), variants.get(req.variant_id)
            if order_line is None or order_line.order_id != order.pk:
                raise ValidationFailed(f"Order line {req.order_line_id} is not a line of order {order}.")
            if variant is None or variant.source_id != source.pk:
                raise ValidationFailed(f"Variant {req.variant_id} is not stocked by source {source}.")
            if req.quantity <= 0:
                raise ValidationFailed(f"Quantity for order line {req.order_line_id} must be positive.")

        settings = fr_settings_for(source)
        number = STRATEGIES[source.fr_number_strategy](order, source, settings.prefix)
        number_problem = ""
        if len(number) > settings.max_length:
            number_problem = f"FR number {number} is {len(number)} characters; the limit is {settings.max_length}."
        elif FulfillmentRequest.objects.filter(number=number).exists():
            number_problem = f"FR number {number} is already used by another FR."
            number = f"{number}~{uuid.uuid4().hex[:6]}"
        hold_reason = " ".join(reason for reason in (number_problem, hold_reason) if reason)

        fr = FulfillmentRequest.objects.create(
            number=number,
            order=order,
            source=source,
            shipping_method=order.requested_shipping_method,
            source_shipping_code=source.shipping_method_map.get(order.requested_shipping_method, ""),
            routing_decision=routing_decision or {},
        )
        FRLine.objects.bulk_create(
            FRLine(
                fulfillment_request=fr,
                order_line_id=req.order_line_id,
                variant_id=req.variant_id,
                sku=variants[req.variant_id].sku,
                master_sku=variants[req.variant_id].master_sku,
                upc=variants[req.variant_id].upc,
                mpn=variants[req.variant_id].mpn,
                title=variants[req.variant_id].title or order_lines[req.order_line_id].title,
                cost=variants[req.variant_id].cost,
                quantity=req.quantity,
            )
            for req in lines
        )
        fr_commit_stock(fr=fr)
        FREvent.objects.create(
            fulfillment_request=fr,
            kind=FREvent.Kind.STAGE,
            to_status=fr.status,
            actor=actor,
            actor_label=actor_label or ("user" if actor else "system"),
            reason=f"Generated for {source} with {len(lines)} line(s).",
            data={"number": number},
        )
    if hold_reason:
        return fr_transition(fr_id=fr.pk, to=FulfillmentRequest.Status.ON_HOLD, actor=actor, reason=hold_reason)
    if settings.auto_process:
        return fr_transition(
            fr_id=fr.pk,
            to=FulfillmentRequest.Status.PROCESSING,
            actor=actor,
            actor_label=actor_label,
            reason="Auto-process is on for this source.",
        )
    return fr
