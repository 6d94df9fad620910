"""Demo data for a first run: sources, inventory, products, a channel, orders and FRs in several states.

``demo_load`` is idempotent: rows are found by their natural keys and FRs are only made for orders
that have none, so running it twice changes nothing.

US Direct is connected to the local simulator (``orders.integrations.simulators.usdirect``, which
``make run`` starts on port 8765) with every integration scheduled each minute, and order 54008 is routed
and launched at load: within a few minutes of starting, inventory arrives from the feed, the FR is sent
and acknowledged, a shipment with tracking comes back and the invoice is matched, with nobody touching
anything.
"""

from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from inventory.models import Channel, InventoryVariant, Product, ProductVariant
from sources.models import Connection, GlobalSettings, Source

from .integrations.simulators.usdirect import SimulatorConfig
from .integrations.usdirect_setup import usdirect_source_setup
from .models import FulfillmentRequest, Order, OrderLine, RoutingGroup, RoutingPriority
from .services.fr_actions import fr_process
from .services.fr_create import FRLineRequest, fr_create
from .services.fr_status import fr_transition
from .services.routing import order_generate_frs
from .services.shipments import ShipmentLineRequest, shipment_record

SOURCES = [
    {
        "name": "US Direct",
        "type": Source.Type.DROPSHIP_SUPPLIER,
        "sku_prefix": "USD-",
        "priority": 20,
        "shipping_method_map": {"ground": "UPS-GND", "express": "FEDEX-EXP", "priority": "USPS-PRIORITY"},
    },
    {
        "name": "Main Warehouse",
        "type": Source.Type.INTERNAL_WAREHOUSE,
        "sku_prefix": "WH-",
        "priority": 10,
        "allow_backorders": True,
        "shipping_method_map": {"ground": "GROUND", "express": "2DAY"},
    },
    {"name": "Rapid 3PL", "type": Source.Type.THIRD_PARTY_LOGISTICS, "sku_prefix": "R3-", "priority": 30},
]

# Where `make run` starts the US Direct simulator (flxhub/management/commands/runall.py).
US_DIRECT_SIMULATOR_URL = "http://127.0.0.1:8765"

PRODUCTS = [
    ("Trail Running Shoe", "TRS-{size}", ["8", "9", "10", "11"], Decimal("42.00")),
    ("Merino Hiking Sock", "MHS-{size}", ["S", "M", "L"], Decimal("7.50")),
    ("Insulated Water Bottle 750ml", "IWB-750", [""], Decimal("11.20")),
    ("Packable Rain Jacket", "PRJ-{size}", ["S", "M", "L", "XL"], Decimal("55.00")),
    ("Headlamp 400 lm", "HL-400", [""], Decimal("18.90")),
]

# (order number, lines [(master sku, qty)], what to do with its FR)
ORDERS = [
    ("54001", [("TRS-9", 1), ("MHS-M", 2)], "unprocessed"),
    ("54002", [("IWB-750", 1)], "processing"),
    ("54003", [("PRJ-L", 1)], "processed"),
    ("54004", [("HL-400", 2)], "acknowledged"),
    ("54005", [("TRS-10", 1)], "shipped"),
    ("54006", [("MHS-S", 3)], "voided"),
    ("54007", [("PRJ-M", 1), ("HL-400", 1)], "none"),
    ("54008", [("IWB-750", 1)], "routed"),  # routed (to US Direct, the cheapest) and launched; the live demo
]


def _catalogue() -> list[tuple[str, str, str, Decimal]]:
    """(product title, variant title, master SKU, cost) for every demo variant."""
    return [
        (title, f"{title} {size}".strip(), pattern.format(size=size), cost)
        for title, pattern, sizes, cost in PRODUCTS
        for size in sizes
    ]


@transaction.atomic
def demo_load() -> dict:
    """Create or refresh the demo data; return counts of what exists afterwards."""
    GlobalSettings.load()
    group, _ = RoutingGroup.objects.get_or_create(name="Default", defaults={"is_default": True})
    for position, strategy in enumerate(["single_fr_preferred", "lowest_cost", "source_priority"]):
        RoutingPriority.objects.get_or_create(group=group, strategy=strategy, defaults={"position": position})

    sources = {}
    for spec in SOURCES:
        source, _ = Source.objects.get_or_create(name=spec["name"], defaults=spec)
        sources[source.name] = source
        Connection.objects.get_or_create(source=source, name="uploads", defaults={"kind": Connection.Kind.UPLOAD})
    usdirect_source_setup(
        name="US Direct",
        base_url=US_DIRECT_SIMULATOR_URL,
        api_token=SimulatorConfig.api_token,
        reseller_token=SimulatorConfig.reseller_token,
        every_minutes=1,
    )

    now = timezone.now()
    for index, (product_title, title, master_sku, cost) in enumerate(_catalogue()):
        product, _ = Product.objects.get_or_create(title=product_title)
        pv, _ = ProductVariant.objects.get_or_create(
            master_sku=master_sku, defaults={"product": product, "title": title, "upc": f"0{614141000000 + index:011d}"}
        )
        for offset, source in enumerate(sources.values()):
            InventoryVariant.objects.get_or_create(
                source=source,
                sku=master_sku,
                defaults={
                    "master_sku": f"{source.sku_prefix}{master_sku}",
                    "title": title,
                    "upc": pv.upc,
                    "cost": cost + Decimal(offset) * Decimal("1.25") - (Decimal("2") if offset == 0 else 0),
                    "quantity": (index * 7 + offset * 5) % 40 + 3,
                    "product_variant": pv,
                    "quantity_updated_at": now - timedelta(hours=offset),
                },
            )

    channel, _ = Channel.objects.get_or_create(name="Demo Shop", defaults={"kind": "shopify"})
    for number, lines, outcome in ORDERS:
        order, created = Order.objects.get_or_create(
            channel=channel,
            channel_order_number=number,
            defaults={
                "customer_name": "Grace Hopper",
                "customer_email": "grace@example.com",
                "ship_name": "Grace Hopper",
                "ship_address1": "1 Compiler Way",
                "ship_city": "Arlington",
                "ship_state": "VA",
                "ship_postal_code": "22201",
                "ship_country": "US",
                "requested_shipping_method": "ground",
                "placed_at": now,
            },
        )
        if created:
            for master_sku, quantity in lines:
                OrderLine.objects.create(
                    order=order,
                    master_sku=master_sku,
                    quantity=quantity,
                    price=Decimal("29.99"),
                    product_variant=ProductVariant.objects.get(master_sku=master_sku),
                )
        if outcome == "none" or order.fulfillment_requests.exists():
            continue
        if outcome == "routed":
            for fr in order_generate_frs(order_id=order.pk, actor_label="demo").frs:
                fr_process(fr_id=fr.pk, actor_label="demo")
            continue
        _demo_fr(order, sources["US Direct"], outcome)

    return {
        "sources": Source.objects.count(),
        "variants": InventoryVariant.objects.count(),
        "orders": Order.objects.count(),
        "frs": FulfillmentRequest.objects.count(),
    }


def _demo_fr(order: Order, source: Source, outcome: str) -> None:
    requests = [
        FRLineRequest(
            order_line_id=line.pk,
            variant_id=InventoryVariant.objects.get(source=source, sku=line.master_sku).pk,
            quantity=line.quantity,
        )
        for line in order.lines.all()
    ]
    fr = fr_create(order_id=order.pk, source_id=source.pk, lines=requests, actor_label="demo")
    path = {
        "unprocessed": [],
        "processing": ["processing"],
        "processed": ["processing", "processed"],
        "acknowledged": ["processing", "processed", "acknowledged"],
        "shipped": ["processing", "processed", "acknowledged"],
        "voided": ["voided"],
    }[outcome]
    for status in path:
        fr_transition(fr_id=fr.pk, to=status, actor_label="demo", reason="demo data")
    if outcome == "shipped":
        shipment_record(
            fr_id=fr.pk,
            tracking_number=f"1Z999AA1{order.channel_order_number}",
            carrier="UPS",
            method="UPS-GND",
            shipped_at=timezone.now(),
            lines=[ShipmentLineRequest(quantity=line.quantity, fr_line_id=line.pk) for line in fr.lines.all()],
            actor_label="demo",
        )
