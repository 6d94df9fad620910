"""Apply what a source sent back — acknowledgements, shipments, invoices — through the orders services.

Each ``*_apply`` takes one plain result (``rest.AckResult`` / ``ShipmentResult`` / ``InvoiceResult``, whatever
the channel), finds the FR of the source by its number, and calls the one service that owns the change. They
answer "created" or "unchanged" (a repeat of something already recorded) and raise ``ApplicationError`` with
a message for the run's row errors when the result cannot be applied.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from flxhub.exceptions import ApplicationError, NotFound, ValidationFailed
from sources.models import Source

from ..models import FREvent, FRLine, FulfillmentRequest
from ..services.acks import AckLineRequest, fr_acknowledge
from ..services.invoices import InvoiceLineRequest, invoice_record
from ..services.routing import order_generate_frs
from ..services.shipments import ShipmentLineRequest, shipment_record
from .carriers import normalize_carrier
from .rest import AckResult, InvoiceResult, ShipmentResult

Status = FulfillmentRequest.Status
CREATED, UNCHANGED = "created", "unchanged"


def fr_of_source(*, source_id: int, number: str) -> FulfillmentRequest:
    number = (number or "").strip()
    if not number:
        raise ValidationFailed("No FR / PO number.", details={"field": "fr_number"})
    fr = FulfillmentRequest.objects.filter(source_id=source_id, number=number).first()
    if fr is None:
        raise NotFound(f"No FR {number} for this source.", details={"fr_number": number})
    return fr


def resolve_line(fr: FulfillmentRequest, identifier: str, *, alternatives=(), line_number: str = "") -> FRLine:
    """The FR's line named by SKU, else UPC or MPN (trying ``identifier`` then each of ``alternatives``), else
    its 1-based position; raise when none matches or the match is ambiguous."""
    lines = list(fr.lines.all())
    identifier = (identifier or "").strip()
    for candidate in (identifier, *(value.strip() for value in alternatives)):
        for attribute in ("sku", "upc", "mpn"):
            matches = [line for line in lines if candidate and getattr(line, attribute) == candidate]
            if len(matches) == 1:
                return matches[0]
    if line_number.isdigit() and 1 <= int(line_number) <= len(lines):
        return lines[int(line_number) - 1]
    if len(lines) == 1 and not identifier:
        return lines[0]
    raise ValidationFailed(f"FR {fr.number} has no line {identifier or line_number!r}.", details={"sku": identifier})


def ack_apply(*, source_id: int, ack: AckResult, actor_label: str) -> str:
    """Record the source's acknowledgement; rejected lines follow the source's rejected-line strategy."""
    fr = fr_of_source(source_id=source_id, number=ack.fr_number)
    if fr.status in (Status.PROCESSING, Status.UNPROCESSED, Status.ON_HOLD, Status.FAILED):
        raise ApplicationError(
            f"FR {fr.number} is {fr.status}; it has not been sent, so it cannot be acknowledged.",
            code="ack_before_send",
        )
    raw = {"fr_number": ack.fr_number, "reference": ack.source_reference}
    if ack.rejected_reason:
        requests = [
            AckLineRequest(
                accepted_quantity=0,
                rejected_quantity=line.quantity - line.voided_quantity,
                fr_line_id=line.pk,
                reason=ack.rejected_reason,
            )
            for line in fr.lines.all()
        ]
    elif not ack.lines:
        if fr.status == Status.ACKNOWLEDGED:
            return UNCHANGED
        fr_acknowledge(fr_id=fr.pk, source_reference=ack.source_reference, actor_label=actor_label, raw=raw)
        return CREATED
    else:
        totals: dict[int, list] = {}
        for item in ack.lines:
            line = resolve_line(fr, item.sku, alternatives=getattr(item, "alternatives", ()))
            entry = totals.setdefault(line.pk, [0, 0, 0, []])
            entry[0] += item.accepted
            entry[1] += item.backordered
            entry[2] += item.rejected
            if item.reason:
                entry[3].append(item.reason)
        requests = [
            AckLineRequest(
                accepted_quantity=a,
                backordered_quantity=b,
                rejected_quantity=r,
                fr_line_id=line_id,
                reason="; ".join(reasons),
            )
            for line_id, (a, b, r, reasons) in totals.items()
        ]
    before = {
        line.pk: (line.acknowledged_quantity, line.backordered_quantity, line.canceled_quantity)
        for line in fr.lines.all()
    }
    if fr.status in (Status.ACKNOWLEDGED, Status.CANCELED) and all(
        before[req.fr_line_id] == (req.accepted_quantity, req.backordered_quantity, req.rejected_quantity)
        for req in requests
    ):
        return UNCHANGED
    newly_rejected = [req for req in requests if req.rejected_quantity > before[req.fr_line_id][2]]
    with transaction.atomic():
        fr = fr_acknowledge(
            fr_id=fr.pk, lines=requests, source_reference=ack.source_reference, actor_label=actor_label, raw=raw
        )
        if newly_rejected:
            _rejected_lines_follow_strategy(fr, newly_rejected, actor_label)
    return CREATED


def _rejected_lines_follow_strategy(fr: FulfillmentRequest, rejected: list[AckLineRequest], actor_label: str) -> None:
    """The rejected units are canceled on the FR (their stock released by fr_acknowledge); with the
    ``regenerate`` strategy their order lines are routed again, to other sources."""
    source = Source.objects.get(pk=fr.source_id)
    if source.rejected_line_strategy != Source.RejectedLineStrategy.REGENERATE:
        return
    order_line_ids = sorted(
        FRLine.objects.filter(pk__in=[req.fr_line_id for req in rejected]).values_list("order_line_id", flat=True)
    )
    try:
        with transaction.atomic():
            result = order_generate_frs(
                order_id=fr.order_id,
                actor_label=actor_label,
                order_line_ids=order_line_ids,
                exclude_source_ids={fr.source_id},
            )
    except ApplicationError as error:
        reason = f"Rejected lines could not be regenerated: {error.message}"
    else:
        numbers = ", ".join(new.number for new in result.frs)
        blocks = "; ".join(str(getattr(block, "message", block)) for block in result.roadblocks)
        reason = (
            f"Rejected lines regenerated as {numbers}." if numbers else f"Rejected lines await regeneration: {blocks}"
        )
    FREvent.objects.create(fulfillment_request=fr, kind=FREvent.Kind.NOTE, actor_label=actor_label, reason=reason)


def shipment_apply(*, source_id: int, shipment: ShipmentResult, actor_label: str) -> str:
    """Record the shipment (a tracking number already on the FR is a repeat); with no items every open line ships."""
    fr = fr_of_source(source_id=source_id, number=shipment.fr_number)
    tracking = (shipment.tracking_number or "").strip()
    if fr.shipments.filter(tracking_number=tracking).exists():
        return UNCHANGED
    if shipment.items:
        quantities: dict[int, int] = {}
        for item in shipment.items:
            line = resolve_line(fr, item.sku, alternatives=getattr(item, "alternatives", ()))
            quantities[line.pk] = quantities.get(line.pk, 0) + item.quantity
        lines = [ShipmentLineRequest(quantity=q, fr_line_id=line_id) for line_id, q in quantities.items() if q > 0]
    else:
        lines = [
            ShipmentLineRequest(quantity=line.open_quantity, fr_line_id=line.pk)
            for line in fr.lines.all()
            if line.open_quantity > 0
        ]
    if not lines:
        raise ValidationFailed(f"Shipment {tracking} for FR {fr.number} ships nothing that is still open.")
    _, created = shipment_record(
        fr_id=fr.pk,
        tracking_number=tracking,
        lines=lines,
        carrier=normalize_carrier(shipment.carrier),
        method=shipment.method[:60],
        shipped_at=shipment.shipped_at,
        cost=shipment.cost,
        actor_label=actor_label,
    )
    return CREATED if created else UNCHANGED


def invoice_apply(*, source_id: int, invoice: InvoiceResult) -> str:
    """Record the invoice and its three-way match; an invoice number already recorded is a repeat."""
    fr = fr_of_source(source_id=source_id, number=invoice.fr_number)
    lines = []
    for item in invoice.lines:
        try:
            line = resolve_line(fr, item.sku, alternatives=getattr(item, "alternatives", ()))
        except ApplicationError:
            lines.append(InvoiceLineRequest(quantity=item.quantity, unit_cost=item.unit_cost, sku=item.sku))
        else:
            lines.append(InvoiceLineRequest(quantity=item.quantity, unit_cost=item.unit_cost, fr_line_id=line.pk))
    invoice_date = invoice.invoice_date.date() if invoice.invoice_date else None
    _, created = invoice_record(
        source_id=source_id,
        invoice_number=invoice.invoice_number,
        total=invoice.total if invoice.total is not None else Decimal("0"),
        lines=lines,
        fr_id=fr.pk,
        po_number=fr.number,
        invoice_date=invoice_date,
        charges=invoice.charges or Decimal("0"),
    )
    return CREATED if created else UNCHANGED
