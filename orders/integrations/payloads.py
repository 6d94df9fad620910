"""What an FR looks like on the way out: the JSON payload, the canonical send_fr lines, the X12 850 input.

Reads only; the FR passed in must have its order, source and lines loaded (see ``frs_for_sending``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from sources.formats import x12

from ..models import FulfillmentRequest


def frs_for_sending(ids) -> QuerySet[FulfillmentRequest]:
    return FulfillmentRequest.objects.filter(pk__in=list(ids)).select_related("order", "source").prefetch_related(
        "lines"
    ).order_by("pk")  # fmt: skip


def shipping_code(fr: FulfillmentRequest) -> str:
    """The source's code for the FR's shipping method: the source's map now, else what routing stored."""
    mapped = (fr.source.shipping_method_map or {}).get(fr.shipping_method, "")
    return mapped or fr.source_shipping_code or fr.shipping_method


def _ship_to(fr: FulfillmentRequest) -> dict[str, str]:
    order = fr.order
    return {
        "name": order.ship_name,
        "company": order.ship_company,
        "address1": order.ship_address1,
        "address2": order.ship_address2,
        "city": order.ship_city,
        "state": order.ship_state,
        "postal_code": order.ship_postal_code,
        "country": order.ship_country,
        "phone": order.customer_phone,
        "email": order.customer_email,
    }


def fr_payload(fr: FulfillmentRequest) -> dict[str, Any]:
    """The FR as a JSON-ready dict for a supplier API."""
    return {
        "number": fr.number,
        "order_number": fr.order.channel_order_number,
        "created_at": fr.generated_at.isoformat(),
        "shipping_method": fr.shipping_method,
        "shipping_code": shipping_code(fr),
        "ship_to": _ship_to(fr),
        "lines": [
            {
                "line_number": position,
                "sku": line.sku,
                "upc": line.upc,
                "mpn": line.mpn,
                "title": line.title,
                "quantity": line.quantity - line.canceled_quantity - line.voided_quantity,
                "unit_cost": None if line.cost is None else str(line.cost),
            }
            for position, line in enumerate(fr.lines.all(), start=1)
            if line.quantity - line.canceled_quantity - line.voided_quantity > 0
        ],
    }


def fr_canonical_lines(fr: FulfillmentRequest) -> list[dict[str, Any]]:
    """One dict per FR line with the keys a send_fr template reads (sources.mapping.kinds.KINDS["send_fr"])."""
    payload = fr_payload(fr)
    ship_to = payload["ship_to"]
    head = {
        "fr_number": fr.number,
        "order_number": payload["order_number"],
        "created_at": payload["created_at"],
        "shipping_method": payload["shipping_code"],
        **{f"ship_to_{key}": value for key, value in ship_to.items()},
    }
    return [
        {
            **head,
            "line_number": str(line["line_number"]),
            "sku": line["sku"],
            "master_sku": fr_line.master_sku,
            "upc": line["upc"],
            "mpn": line["mpn"],
            "title": line["title"],
            "quantity": line["quantity"],
            "unit_cost": None if fr_line.cost is None else fr_line.cost,
        }
        for line, fr_line in zip(payload["lines"], _open_lines(fr), strict=True)
    ]


def _open_lines(fr: FulfillmentRequest):
    return [line for line in fr.lines.all() if line.quantity - line.canceled_quantity - line.voided_quantity > 0]


def fr_purchase_order(fr: FulfillmentRequest) -> x12.PurchaseOrder:
    """The 850 for the FR: BEG03 is the FR number, lines carry the source SKU (VN) and UPC."""
    order = fr.order
    ship_to = x12.ShipToAddress(
        name=order.ship_name,
        address_lines=tuple(line for line in (order.ship_address1, order.ship_address2) if line),
        city=order.ship_city,
        state=order.ship_state,
        postal_code=order.ship_postal_code,
        country=order.ship_country or "US",
    )
    lines = tuple(
        x12.FRLine(
            sku=line.sku,
            quantity=line.quantity - line.canceled_quantity - line.voided_quantity,
            unit_cost=None if line.cost is None else Decimal(line.cost).quantize(Decimal("0.01")),
            upc=line.upc,
            description=line.title[:80],
        )
        for line in _open_lines(fr)
    )
    return x12.purchase_order_from_fr(
        x12.FROrder(
            number=fr.number,
            date=timezone.localdate(fr.generated_at),
            ship_to=ship_to,
            lines=lines,
            shipping_code=shipping_code(fr),
        )
    )
