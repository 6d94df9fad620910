"""Route 10,000 paid orders of 1–5 lines over 20 sources and 200,000 variants; print one JSON line.

Run (drops, creates and migrates the database named in DATABASE_URL, then fills it):

    DATABASE_URL=postgres://postgres@127.0.0.1/flxhub_bench DJANGO_SETTINGS_MODULE=flxhub.settings.base \\
    SECRET_KEY=x FIELD_ENCRYPTION_KEYS=YWqUoGfdbxvBkt9Lg-behAmx-zenc8RNPifLPzpchhw= \\
    .venv/bin/python bench/routing.py [scale]

``scale`` (default 1) multiplies the variant and order counts, e.g. 0.1 for a quick run.
Orders go through ``orders_generate_frs`` in batches of BATCH (the bulk path: same routing, same FRs as
``order_generate_frs``). Target: ≥ 300 orders/s on PostgreSQL; queries per order are measured on a sample.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SOURCES = 20
VARIANTS = 200_000
ORDERS = 10_000
SOURCES_PER_PRODUCT = 4
SAMPLE = 200
BATCH = 100  # orders per orders_generate_frs call (one transaction)
METHODS = ["ground", "express", "priority"]


def recreate_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def fill(scale: float, rng: random.Random) -> list[int]:
    """Create sources, products, variants and paid orders; return the order ids."""
    from django.utils import timezone

    from inventory.models import Channel, InventoryVariant, Product, ProductVariant
    from orders.models import Order, OrderLine
    from sources.models import GlobalSettings, Source

    GlobalSettings.load()
    now = timezone.now()
    sources = Source.objects.bulk_create(
        Source(
            name=f"Source {n:02d}",
            sku_prefix=f"S{n:02d}-",
            priority=rng.randint(1, 100),
            stock_buffer=n % 3,
            max_stock_age_hours=48 if n % 5 == 0 else None,
            shipping_flat_cost=Decimal(rng.randint(0, 900)) / 100,
            shipping_method_map={m: f"{m.upper()}-{n}" for m in METHODS},
        )
        for n in range(SOURCES)
    )
    product_count = int(VARIANTS * scale) // SOURCES_PER_PRODUCT
    parents = Product.objects.bulk_create(Product(title=f"Product {n}") for n in range(max(1, product_count // 50)))
    products = ProductVariant.objects.bulk_create(
        (
            ProductVariant(product=parents[n % len(parents)], master_sku=f"M-{n:07d}", upc=f"{n:012d}")
            for n in range(product_count)
        ),
        batch_size=5000,
    )
    variants = []
    for pv in products:
        for src in rng.sample(sources, SOURCES_PER_PRODUCT):
            variants.append(
                InventoryVariant(
                    source=src,
                    sku=f"{src.sku_prefix}{pv.master_sku}",
                    master_sku=pv.master_sku,
                    upc=pv.upc,
                    product_variant=pv,
                    cost=Decimal(rng.randint(500, 5000)) / 100,
                    dropship_fee=Decimal(rng.choice([0, 0, 150, 250])) / 100,
                    quantity=rng.choice([0, 1, 2, 5, 10, 25, 100]),
                    weight=Decimal(rng.randint(1, 50)) / 10,
                    quantity_updated_at=now,
                )
            )
    InventoryVariant.objects.bulk_create(variants, batch_size=5000)

    channel = Channel.objects.create(name="Bench")
    orders = Order.objects.bulk_create(
        (
            Order(
                channel=channel,
                channel_order_number=f"{100000 + n}",
                ship_name="Bench Customer",
                ship_address1="1 Main St",
                ship_city="Springfield",
                ship_postal_code="62701",
                ship_country="US",
                requested_shipping_method=rng.choice(METHODS),
            )
            for n in range(int(ORDERS * scale))
        ),
        batch_size=5000,
    )
    lines = []
    for o in orders:
        for pv in rng.sample(products, rng.randint(1, 5)):
            lines.append(OrderLine(order=o, master_sku=pv.master_sku, product_variant=pv, quantity=rng.randint(1, 3)))
    OrderLine.objects.bulk_create(lines, batch_size=5000)
    return [o.pk for o in orders]


def main() -> None:
    scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("DATABASE_URL must name a PostgreSQL database this benchmark may drop and recreate.")
    recreate_database(url)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flxhub.settings.base")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from inventory.models import InventoryVariant
    from orders.models import FRLine, FulfillmentRequest
    from orders.selectors.routing import routing_groups_load
    from orders.services.generate_bulk import orders_generate_frs
    from orders.services.routing import routing_group_ensure_default

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    order_ids = fill(scale, random.Random(5))
    fill_seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    routing_group_ensure_default()
    groups = routing_groups_load()

    def generate(ids: list[int]) -> int:
        roadblocked = 0
        for start in range(0, len(ids), BATCH):
            results = orders_generate_frs(order_ids=ids[start : start + BATCH], groups=groups)
            roadblocked += sum(bool(r.roadblocks) for r in results)
        return roadblocked

    sample, rest = order_ids[:SAMPLE], order_ids[SAMPLE:]
    with CaptureQueriesContext(connection) as queries:
        generate(sample)
    queries_per_order = len(queries.captured_queries) / max(1, len(sample))

    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    roadblocked = generate(rest)
    seconds = time.perf_counter() - started
    load_after = os.getloadavg()[0]

    over = InventoryVariant.objects.filter(source__allow_backorders=False).extra(
        where=["committed_quantity > quantity"]
    )
    print(
        json.dumps(
            {
                "bench": "routing",
                "sources": SOURCES,
                "variants": InventoryVariant.objects.count(),
                "orders": len(order_ids),
                "timed_orders": len(rest),
                "seconds": round(seconds, 2),
                "orders_per_s": round(len(rest) / seconds, 1) if seconds else None,
                "queries_per_order": round(queries_per_order, 1),
                "frs": FulfillmentRequest.objects.count(),
                "fr_lines": FRLine.objects.count(),
                "orders_with_roadblocks_timed": roadblocked,
                "over_committed_variants": over.count(),
                "fill_seconds": round(fill_seconds, 1),
                # Other work on this 2-core machine skews the figure; the 1-minute load average says how much.
                "load_avg_1m": [round(load_before, 2), round(load_after, 2)],
            }
        )
    )


if __name__ == "__main__":
    main()
