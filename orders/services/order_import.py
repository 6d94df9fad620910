"""Orders pushed by a sales channel: create once per channel order number, lines by master SKU."""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction

from flxhub.exceptions import NotFound, ValidationFailed
from inventory.models import Channel, ProductVariant

from ..models import Order, OrderLine


@dataclass(frozen=True)
class OrderLineImport:
    master_sku: str
    quantity: int
    title: str = ""
    price: Decimal | None = None


@dataclass(frozen=True)
class OrderImport:
    channel_order_number: str
    lines: list[OrderLineImport]
    status: str = Order.Status.PAID
    customer: dict[str, str] = field(default_factory=dict)  # name, email, phone
    ship_to: dict[str, str] = field(default_factory=dict)  # name, company, address1, address2, city, state…
    requested_shipping_method: str = ""
    placed_at: datetime | None = None


SHIP_TO_FIELDS = ("name", "company", "address1", "address2", "city", "state", "postal_code", "country")


def order_import(*, channel_id: int, data: OrderImport) -> tuple[Order, bool]:
    """Create the order ``data`` for ``channel_id``; return (order, created).

    The channel order number is the idempotency key: an order the channel already sent is returned as
    it is, with created=False, whatever this copy says. Lines link to the product variant of their master
    SKU when the catalogue has one. A new order enqueues FR generation on import after commit.
    """
    number = data.channel_order_number.strip()
    if not number:
        raise ValidationFailed("An order needs its channel order number.", details={"field": "channel_order_number"})
    if not data.lines:
        raise ValidationFailed("An order needs at least one line.", details={"field": "lines"})
    if data.status not in Order.ROUTABLE:
        raise ValidationFailed(f"An imported order is paid or deferred, not {data.status}.")
    if any(line.quantity <= 0 for line in data.lines):
        raise ValidationFailed("Every line needs a positive quantity.", details={"field": "lines"})
    if not Channel.objects.filter(pk=channel_id).exists():
        raise NotFound(f"Channel {channel_id} does not exist.")
    existing = Order.objects.filter(channel_id=channel_id, channel_order_number=number).first()
    if existing:
        return existing, False
    variants = dict(
        ProductVariant.objects.filter(master_sku__in={line.master_sku for line in data.lines}).values_list(
            "master_sku", "pk"
        )
    )
    ship_to = {f"ship_{name}": data.ship_to.get(name, "") for name in SHIP_TO_FIELDS}
    ship_to["ship_country"] = ship_to["ship_country"] or "US"
    try:
        with transaction.atomic():
            order = Order.objects.create(
                channel_id=channel_id,
                channel_order_number=number,
                status=data.status,
                customer_name=data.customer.get("name", ""),
                customer_email=data.customer.get("email", ""),
                customer_phone=data.customer.get("phone", ""),
                requested_shipping_method=data.requested_shipping_method,
                placed_at=data.placed_at,
                **ship_to,
            )
            OrderLine.objects.bulk_create(
                OrderLine(
                    order=order,
                    master_sku=line.master_sku,
                    title=line.title,
                    quantity=line.quantity,
                    price=line.price,
                    product_variant_id=variants.get(line.master_sku),
                )
                for line in data.lines
            )
    except IntegrityError:  # the same order arrived concurrently
        return Order.objects.get(channel_id=channel_id, channel_order_number=number), False
    # The channel's "generate FRs on import" setting is checked by the task, after the order is committed.
    transaction.on_commit(lambda: enqueue_generate_on_import(order.pk))
    return order, True


def enqueue_generate_on_import(order_id: int) -> None:
    from ..tasks import order_generate_on_import_task

    order_generate_on_import_task.delay(order_id)
