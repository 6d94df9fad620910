"""Builders for routing scenarios: products stocked at several sources, orders for them, routing groups."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from inventory.models import InventoryVariant, Product, ProductVariant
from orders.models import Order, OrderLine, RoutingGroup, RoutingPriority
from sources.models import Source
from tests.factories import OrderFactory, SourceFactory, VariantFactory

MAP = {"ground": "GND", "express": "EXP"}


def product(master_sku: str, upc: str = "") -> ProductVariant:
    return ProductVariant.objects.create(
        product=Product.objects.create(title=master_sku), master_sku=master_sku, upc=upc, title=master_sku
    )


def source(name: str, *, priority: int = 100, **kwargs) -> Source:
    kwargs.setdefault("shipping_method_map", MAP)
    return SourceFactory(name=name, priority=priority, **kwargs)


def stock(
    src: Source,
    pv: ProductVariant,
    *,
    quantity: int = 10,
    cost: str = "10.00",
    age_hours: float = 1,
    linked: bool = True,
    **kwargs,
) -> InventoryVariant:
    """A variant of ``pv`` at ``src``: linked through product_variant unless ``linked=False`` (then by master SKU)."""
    kwargs.setdefault("master_sku", pv.master_sku)
    return VariantFactory(
        source=src,
        sku=f"{src.sku_prefix}{pv.master_sku}",
        cost=Decimal(cost),
        quantity=quantity,
        product_variant=pv if linked else None,
        quantity_updated_at=timezone.now() - timedelta(hours=age_hours),
        **kwargs,
    )


def order(*lines: tuple[ProductVariant | str, int], **kwargs) -> Order:
    """A paid order with one line per (product or master SKU, quantity)."""
    o = OrderFactory(**kwargs)
    for item, quantity in lines:
        sku = item if isinstance(item, str) else item.master_sku
        OrderLine.objects.create(
            order=o,
            master_sku=sku,
            quantity=quantity,
            product_variant=None if isinstance(item, str) else item,
        )
    return o


def group(name: str, *strategies: str, default: bool = False, countries=(), position: int = 100, **kwargs):
    g = RoutingGroup.objects.create(
        name=name, is_default=default, match_countries=list(countries), position=position, **kwargs
    )
    RoutingPriority.objects.bulk_create(
        RoutingPriority(group=g, position=i, strategy=strategy) for i, strategy in enumerate(strategies)
    )
    return g
