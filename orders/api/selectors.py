"""Reads behind the API, kept lean for polling: ``.values()`` rows, lines fetched in one query per page.

Scoping is done here and only here: a source token's querysets hold its own source's rows, a channel
token's its own channel's, so anything outside answers 404 exactly like something that does not exist.
"""

from collections import defaultdict

from django.db.models import QuerySet

from flxhub.api.fields import money
from flxhub.exceptions import NotFound

from ..models import (
    FRLine,
    FulfillmentRequest,
    Order,
    Shipment,
    ShipmentLine,
    SourceInvoice,
    SourceInvoiceLine,
)

FR_VALUES = (
    "id",
    "number",
    "order_id",
    "source_id",
    "status",
    "shipping_status",
    "invoice_status",
    "status_reason",
    "shipping_method",
    "source_shipping_code",
    "source_reference",
    "generated_at",
    "sent_at",
    "acknowledged_at",
    "shipped_at",
    "canceled_at",
    "updated_at",
    "order__ship_name",
    "order__ship_company",
    "order__ship_address1",
    "order__ship_address2",
    "order__ship_city",
    "order__ship_state",
    "order__ship_postal_code",
    "order__ship_country",
    "order__customer_email",
    "order__customer_phone",
)
FR_LINE_VALUES = (
    "id",
    "fulfillment_request_id",
    "sku",
    "master_sku",
    "upc",
    "mpn",
    "title",
    "cost",
    "quantity",
    "acknowledged_quantity",
    "backordered_quantity",
    "canceled_quantity",
    "shipped_quantity",
    "voided_quantity",
)


def _children_by_parent(queryset: QuerySet, parent_field: str, parent_ids: list[int], fields: tuple, present):
    """One query for the children of every parent on a page: ``{parent id: [present(child row), …]}``."""
    grouped: dict[int, list[dict]] = defaultdict(list)
    if parent_ids:
        rows = queryset.filter(**{f"{parent_field}__in": parent_ids}).order_by(parent_field, "id").values(*fields)
        for row in rows:
            grouped[row[parent_field]].append(present(row))
    return grouped


def _scoped(queryset: QuerySet, token, *, source: str, channel: str | None = None) -> QuerySet:
    """``queryset`` cut to the token's reach: ``source`` / ``channel`` are the lookups to its source or channel."""
    if token.kind == "source":
        return queryset.filter(**{source: token.source_id})
    if token.kind == "channel":
        return queryset.filter(**{channel: token.channel_id}) if channel else queryset.none()
    return queryset


def fr_scope(token) -> QuerySet:
    """Every FR the token may see."""
    return _scoped(FulfillmentRequest.objects.all(), token, source="source_id", channel="order__channel_id")


def fr_get_id(*, token, fr_id: int) -> int:
    """Return ``fr_id`` if the token may see that FR, else raise NotFound (never a hint that it exists)."""
    if not fr_scope(token).filter(pk=fr_id).exists():
        raise NotFound(f"Fulfillment request {fr_id} does not exist.", details={"fulfillment_request_id": fr_id})
    return fr_id


def fr_find_id(*, token, fr_id: int | None = None, number: str = "") -> int:
    """Resolve an FR by id or number within the token's scope, or raise NotFound."""
    qs = fr_scope(token)
    found = qs.filter(pk=fr_id).values_list("pk", flat=True).first() if fr_id else None
    if found is None and number and not fr_id:
        found = qs.filter(number=number).values_list("pk", flat=True).first()
    if found is None:
        ref = f"{fr_id}" if fr_id else f"number {number!r}"
        raise NotFound(f"Fulfillment request {ref} does not exist.")
    return found


def fr_source_id(*, fr_id: int) -> int:
    return FulfillmentRequest.objects.filter(pk=fr_id).values_list("source_id", flat=True).get()


def fr_filter(
    qs: QuerySet,
    *,
    statuses: list[str] | None = None,
    shipping_statuses: list[str] | None = None,
    acknowledged: bool | None = None,
    since_id: int | None = None,
    numbers: list[str] | None = None,
    source_id: int | None = None,
    order_id: int | None = None,
) -> QuerySet:
    if statuses:
        qs = qs.filter(status__in=statuses)
    if shipping_statuses:
        qs = qs.filter(shipping_status__in=shipping_statuses)
    if acknowledged is not None:
        qs = qs.filter(acknowledged_at__isnull=not acknowledged)
    if since_id is not None:
        qs = qs.filter(id__gt=since_id)
    if numbers:
        qs = qs.filter(number__in=numbers)
    if source_id is not None:
        qs = qs.filter(source_id=source_id)
    if order_id is not None:
        qs = qs.filter(order_id=order_id)
    return qs


def fr_values(qs: QuerySet) -> QuerySet:
    return qs.values(*FR_VALUES)


def _fr_line_present(line: dict) -> dict:
    return {
        "id": line["id"],
        "sku": line["sku"],
        "master_sku": line["master_sku"],
        "upc": line["upc"],
        "mpn": line["mpn"],
        "title": line["title"],
        "cost": money(line["cost"]),
        "quantity": line["quantity"],
        "acknowledged_quantity": line["acknowledged_quantity"],
        "backordered_quantity": line["backordered_quantity"],
        "canceled_quantity": line["canceled_quantity"],
        "shipped_quantity": line["shipped_quantity"],
        "voided_quantity": line["voided_quantity"],
        "open_quantity": line["quantity"]
        - line["shipped_quantity"]
        - line["canceled_quantity"]
        - line["voided_quantity"],
    }


def fr_present_rows(rows: list[dict]) -> list[dict]:
    """FR rows (from ``fr_values``) as the API shows them, with their lines fetched in one query."""
    lines = _children_by_parent(
        FRLine.objects, "fulfillment_request_id", [row["id"] for row in rows], FR_LINE_VALUES, _fr_line_present
    )
    return [
        {
            "id": row["id"],
            "number": row["number"],
            "order_id": row["order_id"],
            "source_id": row["source_id"],
            "status": row["status"],
            "shipping_status": row["shipping_status"],
            "invoice_status": row["invoice_status"],
            "status_reason": row["status_reason"],
            "acknowledged": row["acknowledged_at"] is not None,
            "shipping_method": row["shipping_method"],
            "source_shipping_code": row["source_shipping_code"],
            "source_reference": row["source_reference"],
            "ship_to": {
                "name": row["order__ship_name"],
                "company": row["order__ship_company"],
                "address1": row["order__ship_address1"],
                "address2": row["order__ship_address2"],
                "city": row["order__ship_city"],
                "state": row["order__ship_state"],
                "postal_code": row["order__ship_postal_code"],
                "country": row["order__ship_country"],
                "email": row["order__customer_email"],
                "phone": row["order__customer_phone"],
            },
            "generated_at": row["generated_at"],
            "sent_at": row["sent_at"],
            "acknowledged_at": row["acknowledged_at"],
            "shipped_at": row["shipped_at"],
            "canceled_at": row["canceled_at"],
            "updated_at": row["updated_at"],
            "lines": lines[row["id"]],
        }
        for row in rows
    ]


def fr_detail(*, token, fr_id: int) -> dict:
    rows = list(fr_values(fr_scope(token).filter(pk=fr_id)))
    if not rows:
        raise NotFound(f"Fulfillment request {fr_id} does not exist.", details={"fulfillment_request_id": fr_id})
    return fr_present_rows(rows)[0]


# Shipments

SHIPMENT_VALUES = (
    "id",
    "fulfillment_request_id",
    "fulfillment_request__number",
    "fulfillment_request__order_id",
    "fulfillment_request__order__channel_order_number",
    "tracking_number",
    "tracking_url",
    "carrier",
    "method",
    "shipped_at",
    "cost",
    "allow_duplicate_tracking",
    "created_at",
    "updated_at",
)


def shipment_scope(token) -> QuerySet:
    return _scoped(
        Shipment.objects.all(),
        token,
        source="fulfillment_request__source_id",
        channel="fulfillment_request__order__channel_id",
    )


def shipment_filter(
    qs: QuerySet,
    *,
    fr_numbers: list[str] | None = None,
    fr_id: int | None = None,
    order_id: int | None = None,
    source_id: int | None = None,
) -> QuerySet:
    if fr_numbers:
        qs = qs.filter(fulfillment_request__number__in=fr_numbers)
    if fr_id is not None:
        qs = qs.filter(fulfillment_request_id=fr_id)
    if order_id is not None:
        qs = qs.filter(fulfillment_request__order_id=order_id)
    if source_id is not None:
        qs = qs.filter(fulfillment_request__source_id=source_id)
    return qs


def shipment_values(qs: QuerySet) -> QuerySet:
    return qs.values(*SHIPMENT_VALUES)


def shipment_present_rows(rows: list[dict]) -> list[dict]:
    lines = _children_by_parent(
        ShipmentLine.objects,
        "shipment_id",
        [row["id"] for row in rows],
        ("shipment_id", "fr_line_id", "fr_line__sku", "quantity"),
        lambda line: {"fr_line_id": line["fr_line_id"], "sku": line["fr_line__sku"], "quantity": line["quantity"]},
    )
    return [
        {
            "id": row["id"],
            "fulfillment_request_id": row["fulfillment_request_id"],
            "fulfillment_request_number": row["fulfillment_request__number"],
            "order_id": row["fulfillment_request__order_id"],
            "channel_order_number": row["fulfillment_request__order__channel_order_number"],
            "tracking_number": row["tracking_number"],
            "tracking_url": row["tracking_url"],
            "carrier": row["carrier"],
            "method": row["method"],
            "shipped_at": row["shipped_at"],
            "cost": money(row["cost"]),
            "allow_duplicate_tracking": row["allow_duplicate_tracking"],
            "created_at": row["created_at"],
            "updated_at": row["updated_at"],
            "lines": lines[row["id"]],
        }
        for row in rows
    ]


def shipment_detail(*, shipment_id: int) -> dict:
    return shipment_present_rows(list(shipment_values(Shipment.objects.filter(pk=shipment_id))))[0]


# Invoices

INVOICE_VALUES = (
    "id",
    "source_id",
    "fulfillment_request_id",
    "fulfillment_request__number",
    "po_number",
    "invoice_number",
    "invoice_date",
    "currency",
    "charges",
    "total",
    "match_status",
    "mismatches",
    "created_at",
    "updated_at",
)


def invoice_scope(token) -> QuerySet:
    return _scoped(SourceInvoice.objects.all(), token, source="source_id")


def invoice_filter(
    qs: QuerySet,
    *,
    invoice_numbers: list[str] | None = None,
    po_numbers: list[str] | None = None,
    match_statuses: list[str] | None = None,
    source_id: int | None = None,
) -> QuerySet:
    if invoice_numbers:
        qs = qs.filter(invoice_number__in=invoice_numbers)
    if po_numbers:
        qs = qs.filter(po_number__in=po_numbers)
    if match_statuses:
        qs = qs.filter(match_status__in=match_statuses)
    if source_id is not None:
        qs = qs.filter(source_id=source_id)
    return qs


def invoice_values(qs: QuerySet) -> QuerySet:
    return qs.values(*INVOICE_VALUES)


def invoice_present_rows(rows: list[dict]) -> list[dict]:
    lines = _children_by_parent(
        SourceInvoiceLine.objects,
        "invoice_id",
        [row["id"] for row in rows],
        ("invoice_id", "fr_line_id", "sku", "quantity", "unit_cost"),
        lambda line: {
            "fr_line_id": line["fr_line_id"],
            "sku": line["sku"],
            "quantity": line["quantity"],
            "unit_cost": money(line["unit_cost"]),
        },
    )
    return [
        {
            "id": row["id"],
            "source_id": row["source_id"],
            "fulfillment_request_id": row["fulfillment_request_id"],
            "fulfillment_request_number": row["fulfillment_request__number"],
            "po_number": row["po_number"],
            "invoice_number": row["invoice_number"],
            "invoice_date": row["invoice_date"],
            "currency": row["currency"],
            "charges": money(row["charges"]),
            "total": money(row["total"]),
            "match_status": row["match_status"],
            "mismatches": row["mismatches"],
            "lines": lines[row["id"]],
            "created_at": row["created_at"],
            "updated_at": row["updated_at"],
        }
        for row in rows
    ]


def invoice_detail(*, invoice_id: int) -> dict:
    return invoice_present_rows(list(invoice_values(SourceInvoice.objects.filter(pk=invoice_id))))[0]


# Orders (channel side)


def order_scope(token) -> QuerySet:
    return _scoped(Order.objects.all(), token, source="fulfillment_requests__source_id", channel="channel_id")


def order_detail(*, token, order_id: int) -> dict:
    """The order with its lines, its FRs (status and line quantities) and its shipments."""
    order = order_scope(token).filter(pk=order_id).prefetch_related("lines").first()
    if order is None:
        raise NotFound(f"Order {order_id} does not exist.", details={"order_id": order_id})
    frs = fr_present_rows(list(fr_values(FulfillmentRequest.objects.filter(order_id=order.pk).order_by("id"))))
    shipments = shipment_present_rows(
        list(shipment_values(Shipment.objects.filter(fulfillment_request__order_id=order.pk).order_by("id")))
    )
    return {
        "id": order.pk,
        "channel_id": order.channel_id,
        "channel_order_number": order.channel_order_number,
        "status": order.status,
        "customer": {"name": order.customer_name, "email": order.customer_email, "phone": order.customer_phone},
        "ship_to": {
            "name": order.ship_name,
            "company": order.ship_company,
            "address1": order.ship_address1,
            "address2": order.ship_address2,
            "city": order.ship_city,
            "state": order.ship_state,
            "postal_code": order.ship_postal_code,
            "country": order.ship_country,
        },
        "requested_shipping_method": order.requested_shipping_method,
        "placed_at": order.placed_at,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
        "lines": [
            {
                "id": line.pk,
                "master_sku": line.master_sku,
                "title": line.title,
                "quantity": line.quantity,
                "price": money(line.price),
            }
            for line in order.lines.all()
        ],
        "fulfillment_requests": frs,
        "shipments": shipments,
    }
