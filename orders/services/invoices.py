"""Source invoices and the three-way match: what was ordered (FR cost and acknowledged quantity), what
shipped, and what is invoiced."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum

from flxhub.exceptions import NotFound, ValidationFailed

from ..models import FRLine, FulfillmentRequest, SourceInvoice, SourceInvoiceLine
from .fr_status import fr_lock

MatchStatus = SourceInvoice.MatchStatus
InvoiceStatus = FulfillmentRequest.InvoiceStatus
# Totals may differ by rounding of each line; anything beyond a cent is a real difference.
TOTAL_TOLERANCE = Decimal("0.01")


@dataclass(frozen=True)
class InvoiceLineRequest:
    quantity: int
    unit_cost: Decimal
    fr_line_id: int | None = None
    sku: str = ""


def _match_line(fr_lines: dict[int, FRLine], by_sku: dict[str, FRLine], req: InvoiceLineRequest) -> FRLine | None:
    if req.fr_line_id:
        return fr_lines.get(req.fr_line_id)
    return by_sku.get(req.sku)


def invoice_mismatches(
    *, fr: FulfillmentRequest, lines: list[InvoiceLineRequest], charges: Decimal, total: Decimal
) -> tuple[list[dict], list[FRLine | None]]:
    """Compare the invoice with the FR and its shipments; return the mismatches and each line's FR line.

    Costs are compared with the cost at routing; invoiced quantities, with earlier invoices of the FR
    included, with the shipped quantity and (once the FR is acknowledged) the acknowledged one.
    """
    fr_lines = {line.pk: line for line in fr.lines.all()}
    by_sku = {line.sku: line for line in fr_lines.values()}
    earlier = dict(
        SourceInvoiceLine.objects.filter(invoice__fulfillment_request=fr, fr_line__isnull=False)
        .values_list("fr_line_id")
        .annotate(quantity=Sum("quantity"))
    )
    acknowledged = fr.acknowledged_at is not None and any(line.acknowledged_quantity for line in fr_lines.values())
    mismatches, matched, invoiced = [], [], dict(earlier)
    for req in lines:
        line = _match_line(fr_lines, by_sku, req)
        matched.append(line)
        if line is None:
            mismatches.append(
                {"kind": "unknown_line", "sku": req.sku, "line_id": req.fr_line_id, "message": "Not on the FR."}
            )
            continue
        if line.cost is not None and req.unit_cost != line.cost:
            mismatches.append(
                {
                    "kind": "cost_mismatch",
                    "sku": line.sku,
                    "invoiced": str(req.unit_cost),
                    "expected": str(line.cost),
                    "message": f"Invoiced at {req.unit_cost}; the FR was routed at {line.cost}.",
                }
            )
        invoiced[line.pk] = invoiced.get(line.pk, 0) + req.quantity
    for line_id, quantity in invoiced.items():
        line = fr_lines.get(line_id)
        if line is None:
            continue
        if quantity > line.shipped_quantity:
            mismatches.append(
                {
                    "kind": "quantity_exceeds_shipped",
                    "sku": line.sku,
                    "invoiced": quantity,
                    "expected": line.shipped_quantity,
                    "message": f"{quantity} invoiced in all; {line.shipped_quantity} shipped.",
                }
            )
        if acknowledged and quantity > line.acknowledged_quantity:
            mismatches.append(
                {
                    "kind": "quantity_exceeds_acknowledged",
                    "sku": line.sku,
                    "invoiced": quantity,
                    "expected": line.acknowledged_quantity,
                    "message": f"{quantity} invoiced in all; {line.acknowledged_quantity} acknowledged.",
                }
            )
    computed = sum((req.unit_cost * req.quantity for req in lines), Decimal("0")) + charges
    if abs(computed - total) > TOTAL_TOLERANCE:
        mismatches.append(
            {
                "kind": "total_mismatch",
                "invoiced": str(total),
                "expected": str(computed),
                "message": f"The total is {total}; the lines and charges add up to {computed}.",
            }
        )
    return mismatches, matched


def invoice_record(
    *,
    source_id: int,
    invoice_number: str,
    total: Decimal,
    lines: list[InvoiceLineRequest],
    fr_id: int | None = None,
    po_number: str = "",
    invoice_date: date | None = None,
    currency: str = "USD",
    charges: Decimal = Decimal("0"),
) -> tuple[SourceInvoice, bool]:
    """Record a source's invoice, match it three ways, and set its match status and the FR's invoice status.

    Returns (invoice, created). An invoice number the source already used returns that invoice and False.
    An invoice whose PO number names no FR of the source is kept as unmatched.
    """
    invoice_number = invoice_number.strip()
    if not invoice_number:
        raise ValidationFailed("An invoice needs an invoice number.", details={"field": "invoice_number"})
    existing = SourceInvoice.objects.filter(source_id=source_id, invoice_number=invoice_number).first()
    if existing:
        return existing, False
    with transaction.atomic():
        fr = None
        if fr_id is None and po_number:
            fr_id = (
                FulfillmentRequest.objects.filter(source_id=source_id, number=po_number)
                .values_list("pk", flat=True)
                .first()
            )
        if fr_id is not None:
            fr = fr_lock(fr_id=fr_id)
            if fr.source_id != source_id:
                raise NotFound(f"Fulfillment request {fr_id} does not exist.")
        if fr is None:
            mismatches = [{"kind": "unknown_po", "po_number": po_number, "message": "No FR with this PO number."}]
            matched, status = [None] * len(lines), MatchStatus.UNMATCHED
        else:
            mismatches, matched = invoice_mismatches(fr=fr, lines=lines, charges=charges, total=total)
            status = MatchStatus.MISMATCH if mismatches else MatchStatus.MATCHED
        try:
            with transaction.atomic():
                invoice = SourceInvoice.objects.create(
                    source_id=source_id,
                    fulfillment_request=fr,
                    invoice_number=invoice_number,
                    po_number=po_number or (fr.number if fr else ""),
                    invoice_date=invoice_date,
                    currency=currency,
                    charges=charges,
                    total=total,
                    match_status=status,
                    mismatches=mismatches,
                )
        except IntegrityError:  # the same invoice arrived concurrently
            return SourceInvoice.objects.get(source_id=source_id, invoice_number=invoice_number), False
        SourceInvoiceLine.objects.bulk_create(
            SourceInvoiceLine(
                invoice=invoice,
                fr_line=line,
                sku=req.sku or (line.sku if line else ""),
                quantity=req.quantity,
                unit_cost=req.unit_cost,
            )
            for req, line in zip(lines, matched, strict=True)
        )
        if fr is not None:
            any_mismatch = fr.invoices.filter(match_status=MatchStatus.MISMATCH).exists()
            fr.invoice_status = InvoiceStatus.MISMATCH if any_mismatch else InvoiceStatus.MATCHED
            fr.save(update_fields=["invoice_status", "updated_at"])
    return invoice, True
