"""Benchmark the inventory feed import through the real apply code path (inventory_feed_apply).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/flxhub_bench .venv/bin/python bench/feed_import.py

Options: ``--rows N`` (default 1,000,000), ``--xlsx-rows N`` (default 100,000), ``--work DIR`` (default
/tmp/flxhub-bench: generated feeds, the SQLite file and the data dir), ``--skip-sqlite``.

It creates the PostgreSQL database named in DATABASE_URL if missing and migrates it (and a SQLite file for the
SQLite scenario), generates its own feeds once (a 10-column CSV, a 1 %-changed copy, an XLSX), then runs each
scenario in a fresh process and prints one JSON line per scenario: rows, seconds (opening the file to the
commit; setup not counted), rows/s, rows written (created + updated + archived), peak RSS of that process.

Scenarios: PostgreSQL first import into an empty source; the same feed again (forced past the file hash check:
every row is read, none written); the feed with 1 % of rows changed; a 100k-row XLSX into an empty source;
the first import on SQLite (the portable path).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COLUMNS = ("sku", "title", "brand", "upc", "cost", "msrp", "map_price", "quantity", "weight", "status")
SPEC = {
    "kind": "inventory",
    "fields": [{"target": column, "source": column, "required": column == "sku"} for column in COLUMNS],
}


def generate(work: Path, rows: int, xlsx_rows: int) -> None:
    """Write feed.csv, feed_delta.csv (quantity and cost changed on every 100th row) and feed.xlsx, once."""
    feed, delta, xlsx = work / f"feed-{rows}.csv", work / f"feed-{rows}-delta.csv", work / f"feed-{xlsx_rows}.xlsx"
    if not feed.exists() or not delta.exists():
        rng = random.Random(42)
        with open(feed, "w", newline="") as full, open(delta, "w", newline="") as changed:
            header = ",".join(COLUMNS) + "\n"
            full.write(header)
            changed.write(header)
            for n in range(rows):
                title = f'"Widget {n}, quoted"' if n % 10 == 0 else f"Widget {n} deluxe"
                cost, quantity = rng.randint(100, 9999) / 100, rng.randint(0, 500)
                values = [
                    f"SKU-{n:07d}",
                    title,
                    f"Brand {n % 50}",
                    str(100_000_000_000 + n),
                    str(cost),
                    str(rng.randint(100, 19999) / 100),
                    "",
                    str(quantity),
                    str(rng.randint(1, 5000) / 1000),
                    "active",
                ]
                full.write(",".join(values) + "\n")
                if n % 100 == 0:
                    values[4], values[7] = str(round(cost + 1, 2)), str(quantity + 1)
                changed.write(",".join(values) + "\n")
    if not xlsx.exists():
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet()
        sheet.append(COLUMNS)
        rng = random.Random(7)
        for n in range(xlsx_rows):
            sheet.append(
                [
                    f"X-{n:07d}",
                    f"Gadget {n}",
                    f"Brand {n % 40}",
                    str(200_000_000_000 + n),
                    rng.randint(100, 9999) / 100,
                    rng.randint(100, 19999) / 100,
                    None,
                    rng.randint(0, 500),
                    rng.randint(1, 5000) / 1000,
                    "active",
                ]
            )
        workbook.save(xlsx)


def setup_databases(work: Path, env: dict[str, str], skip_sqlite: bool) -> None:
    import psycopg

    url = env["DATABASE_URL"]
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0].replace("postgres://", "postgresql://") + "/postgres") as admin:
        admin.autocommit = True
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            admin.execute(f'CREATE DATABASE "{name}"')
    manage = [sys.executable, str(REPO / "manage.py"), "migrate", "--noinput", "-v0"]
    subprocess.run(manage, env=env, check=True, cwd=REPO)
    if not skip_sqlite:
        subprocess.run(manage, env={**env, "DATABASE_URL": sqlite_url(work)}, check=True, cwd=REPO)


def sqlite_url(work: Path) -> str:
    return f"sqlite:///{work / 'bench.sqlite3'}"


def run_scenario(name: str, args: argparse.Namespace) -> dict:
    """Run one scenario in this process (a fresh one per scenario, so peak RSS is that scenario's)."""
    import django

    django.setup()
    from django.db import connection

    from inventory.models import InventoryParent, InventoryVariant
    from inventory.services.feed_apply import inventory_feed_apply
    from sources.models import GlobalSettings, Source

    work = Path(args.work)
    settings = GlobalSettings.load()
    settings.sku_limit = 100_000_000
    settings.save()
    source_name = {"pg_xlsx_100k_first_import": "bench-xlsx"}.get(name, "bench")
    source, _ = Source.objects.get_or_create(name=source_name, defaults={"sku_prefix": "B-"})
    path, file_format, force = work / f"feed-{args.rows}.csv", "csv", False
    if name in ("pg_first_import", "pg_xlsx_100k_first_import", "sqlite_first_import"):
        InventoryVariant.objects.filter(source=source)._raw_delete(InventoryVariant.objects.db)
        InventoryParent.objects.filter(source=source).delete()
        if connection.vendor == "postgresql":
            # An empty source, as a new one is: without this, the previous run's million dead index entries
            # under the same (source, sku) keys make every insert visit the heap to see that they are dead.
            with connection.cursor() as cursor:
                cursor.execute(f"VACUUM {InventoryVariant._meta.db_table}")
    if name == "pg_unchanged_reimport":
        force = True
    elif name == "pg_1pct_changed":
        path = work / f"feed-{args.rows}-delta.csv"
    elif name == "pg_xlsx_100k_first_import":
        path, file_format = work / f"feed-{args.xlsx_rows}.xlsx", "xlsx"
    if connection.vendor == "postgresql":
        # The setup's WAL (a million deleted rows) would otherwise trigger checkpoints during the timed part.
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
    connection.close()  # the import gets a backend of its own (its CPU time can be read apart from the setup's)
    start = time.perf_counter()
    with open(path, "rb") as file:
        result = inventory_feed_apply(
            source_id=source.pk, kind="primary", file=file, file_format=file_format, spec=SPEC, force=force
        )
    seconds = time.perf_counter() - start
    counts = result.counts
    rows = counts["read"]
    return {
        "scenario": name,
        "rows": rows,
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds),
        "rows_written": counts["created"] + counts["updated"] + counts["archived"],
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "counts": counts,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--xlsx-rows", type=int, default=100_000)
    parser.add_argument("--work", default="/tmp/flxhub-bench")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--scenario", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.scenario:
        print(json.dumps(run_scenario(args.scenario, args)), flush=True)
        return
    if "DATABASE_URL" not in os.environ or not os.environ["DATABASE_URL"].startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database, e.g. postgres://postgres@127.0.0.1:5432/flxhub_bench")
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "flxhub.settings.test",  # fixed throwaway keys; DATABASE_URL decides the database
        "FLXHUB_DATA_DIR": str(work / "data"),
        "PYTHONPATH": str(REPO),
    }
    env.pop("REDIS_URL", None)
    generate(work, args.rows, args.xlsx_rows)
    setup_databases(work, env, args.skip_sqlite)
    scenarios = [
        ("pg_first_import", env),
        ("pg_unchanged_reimport", env),
        ("pg_1pct_changed", env),
        ("pg_xlsx_100k_first_import", env),
    ]
    if not args.skip_sqlite:
        scenarios.append(("sqlite_first_import", {**env, "DATABASE_URL": sqlite_url(work)}))
    command = [sys.executable, __file__, "--rows", str(args.rows), "--xlsx-rows", str(args.xlsx_rows)]
    for name, scenario_env in scenarios:
        completed = subprocess.run(
            [*command, "--work", str(work), "--scenario", name],
            env=scenario_env,
            cwd=REPO,
            capture_output=True,
            text=True,
        )
        lines = [line for line in completed.stdout.splitlines() if line.startswith("{")]
        if completed.returncode or not lines:
            print(json.dumps({"scenario": name, "error": completed.stderr[-2000:]}), flush=True)
        else:
            print(lines[-1], flush=True)


if __name__ == "__main__":
    main()
