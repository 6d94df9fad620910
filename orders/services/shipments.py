"""Record shipments against FRs: tracking, shipped quantities, released stock, shipping status."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import transaction

from flxhub.exceptions import Conflict, ValidationFailed

from ..models import Shipment, ShipmentLine
from .fr_status import SHIPPABLE, enqueue_order_refresh, fr_lock, fr_set_shipping_status
from .stock import line_release_stock


@dataclass(frozen=True)
class ShipmentLineRequest:
    quantity: int
    fr_line_id: int | None = None
    sku: str = ""


def shipment_record(
    *,
    fr_id: int,
    tracking_number: str,
    lines: list[ShipmentLineRequest],
    carrier: str = "",
    method: str = "",
    shipped_at: datetime | None = None,
    cost: Decimal | None = None,
    tracking_url: str = "",
    allow_duplicate_tracking: bool = False,
    actor=None,
    actor_label: str = "",
) -> tuple[Shipment, bool]:
    """Record a shipment on a processed or acknowledged FR; return (shipment, created).

    The same tracking number on the same FR returns the existing shipment with created=False, unless
    ``allow_duplicate_tracking``. Shipped units release their committed stock.
    """
    tracking_number = tracking_number.strip()
    if not tracking_number:
        raise ValidationFailed("A shipment needs a tracking number.", details={"field": "tracking_number"})
    if not lines:
        raise ValidationFailed("A shipment needs at least one line.", details={"field": "lines"})
    with transaction.atomic():
        fr = fr_lock(fr_id=fr_id)
        if fr.status not in SHIPPABLE:
            raise Conflict(
                f"FR {fr.number} is {fr.status}; only processed or acknowledged FRs can receive shipments.",
                details={"fr": fr.number, "status": fr.status},
            )
        if not allow_duplicate_tracking:
            existing = fr.shipments.filter(tracking_number=tracking_number).first()
            if existing:
                return existing, False
        fr_lines = {line.pk: line for line in fr.lines.all()}
        by_sku = {line.sku: line for line in fr_lines.values()}
        resolved = []
        for req in lines:
            line = fr_lines.get(req.fr_line_id) if req.fr_line_id else by_sku.get(req.sku)
            if line is None:
                ref = f"line {req.fr_line_id}" if req.fr_line_id else f"SKU {req.sku!r}"
                raise ValidationFailed(f"FR {fr.number} has no {ref}.", details={"fr": fr.number})
            if req.quantity <= 0 or req.quantity > line.open_quantity:
                raise ValidationFailed(
                    f"FR {fr.number} line {line.sku}: cannot ship {req.quantity}; {line.open_quantity} open.",
                    details={"fr": fr.number, "sku": line.sku, "open": line.open_quantity},
                )
            resolved.append((line, req.quantity))
        shipment = Shipment.objects.create(
            fulfillment_request=fr,
            tracking_number=tracking_number,
            tracking_url=tracking_url,
            carrier=carrier,
            method=method,
            shipped_at=shipped_at,
            cost=cost,
            allow_duplicate_tracking=allow_duplicate_tracking,
        )
        for line, quantity in resolved:
            ShipmentLine.objects.create(shipment=shipment, fr_line=line, quantity=quantity)
            line.shipped_quantity += quantity
            line.save(update_fields=["shipped_quantity"])
            line_release_stock(line=line, quantity=quantity)
        fr_set_shipping_status(fr=fr, actor=actor, actor_label=actor_label, reason=f"Shipment {tracking_number}")
        fr.save()
        order_id = fr.order_id
        transaction.on_commit(lambda: enqueue_order_refresh(order_id))
    return shipment, True
