"""FR polling over HTTP: 100,000 FRs (2 lines each) over 50 sources, gunicorn with 2 sync workers on loopback.

Run (drops, creates and migrates the database named in DATABASE_URL, then fills it):

    DATABASE_URL=postgres://postgres@127.0.0.1/flxhub_bench_api REDIS_URL=redis://127.0.0.1:6379/13 \\
    .venv/bin/python bench/api_poll.py [--clients 4,16] [--seconds 30] [--reuse] [--http-client stdlib|requests]

``--reuse`` keeps an already filled database.

Each client is its own process (no Django): it takes a random source token and a random ``updated_after`` in
the last 30 days and follows ``next_cursor`` in pages of 100 until ``has_more`` is false, then starts again.
Clients use http.client by default (``--http-client requests`` for requests.Session, as the first
measurements did: it costs the shared 2 cores about 1 ms more CPU per request). The clock starts once every
client has started up (imports done), so no start-up shares the measured seconds. One JSON line per
scenario: requests/s, p50/p99 latency, errors, the load average around the run, CPU per request of gunicorn,
of the PostgreSQL backends and of the clients (their measured seconds only), and queries per request, which
are counted in-process (CaptureQueriesContext) for pages of 10, 100 and 500 and printed on their own line.
Targets (docs: ../shared/reference/perf.md): ≥ 300 requests/s with p99 ≤ 25 ms at 4 clients, p99 ≤ 100 ms at 16.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SOURCES = 50
FRS = 100_000
LINES_PER_FR = 2
HISTORY_DAYS = 30
PAGE = 100
WARMUP_SECONDS = 3
# Bench tokens may make as many calls as the box can serve; the limiter still counts every one in Redis.
BENCH_RATE_LIMIT = 10**7
FERNET_KEY = "YWqUoGfdbxvBkt9Lg-behAmx-zenc8RNPifLPzpchhw="
NEXT_CURSOR = re.compile(rb'"next_cursor":"([^"]*)","has_more":(true|false)\}$')


def bench_environment() -> dict[str, str]:
    """Production-mode settings from the environment, as gunicorn gets them."""
    env = dict(os.environ)
    env.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1/flxhub_bench_api")
    env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/13")
    env.setdefault("SECRET_KEY", "bench-secret-key")
    env.setdefault("FIELD_ENCRYPTION_KEYS", FERNET_KEY)
    # Persistent connections, as in production (60 s there). Longer here so each worker keeps one backend for
    # the whole run and the backends' CPU per request can be read from /proc (a replaced backend's is lost).
    env.setdefault("CONN_MAX_AGE", "600")
    env.setdefault("LOG_LEVEL", "WARNING")
    env["DEBUG"] = "false"
    env["DJANGO_SETTINGS_MODULE"] = "flxhub.settings.base"
    return env


FILL_SQL = """
INSERT INTO orders_order (id, channel_id, channel_order_number, status, customer_name, customer_email,
    customer_phone, ship_name, ship_company, ship_address1, ship_address2, ship_city, ship_state,
    ship_postal_code, ship_country, requested_shipping_method, placed_at, created_at, updated_at)
SELECT n, %(channel)s, 'B' || n, 'paid', 'Customer ' || n, 'c' || n || '@example.com', '555-0100',
    'Customer ' || n, '', n || ' Main St', '', 'Springfield', 'IL', '62701', 'US', 'ground',
    %(now)s - interval '31 days', %(now)s - interval '31 days', %(now)s - interval '31 days'
FROM generate_series(1, %(frs)s) AS n;

INSERT INTO orders_orderline (id, order_id, master_sku, title, quantity, price)
SELECT (n - 1) * %(lines)s + k, n, 'M-' || n || '-' || k, 'Product ' || n || '-' || k, 1 + k, 25.00
FROM generate_series(1, %(frs)s) AS n, generate_series(1, %(lines)s) AS k;

INSERT INTO orders_fulfillmentrequest (id, number, order_id, source_id, status, shipping_status, invoice_status,
    status_reason, shipping_method, source_shipping_code, source_reference, routing_decision, send_attempt,
    generated_at, sent_at, acknowledged_at, updated_at)
SELECT n, 'B' || n || '-1', n, (%(sources)s::bigint[])[1 + n %% %(source_count)s],
    CASE WHEN n %% 10 < 2 THEN 'processing' WHEN n %% 10 < 4 THEN 'processed' ELSE 'acknowledged' END,
    'awaiting_shipment', 'none', '', 'ground', 'UPS-GND',
    CASE WHEN n %% 10 < 4 THEN '' ELSE 'SO-' || n END, '{}'::jsonb, 1,
    stamp - interval '1 hour', stamp - interval '30 minutes',
    CASE WHEN n %% 10 < 4 THEN NULL ELSE stamp END, stamp
FROM (
    SELECT n, %(now)s - random() * %(days)s * interval '1 day' AS stamp FROM generate_series(1, %(frs)s) AS n
) AS s;

INSERT INTO orders_frline (id, fulfillment_request_id, order_line_id, sku, master_sku, upc, mpn, title, cost,
    quantity, acknowledged_quantity, backordered_quantity, canceled_quantity, shipped_quantity, voided_quantity,
    committed_quantity)
SELECT (n - 1) * %(lines)s + k, n, (n - 1) * %(lines)s + k, 'S-' || n || '-' || k, 'M-' || n || '-' || k,
    lpad(n::text, 12, '0'), 'MPN-' || k, 'Product ' || n || '-' || k, 10.00 + k, 1 + k, 0, 0, 0, 0, 0, 1 + k
FROM generate_series(1, %(frs)s) AS n, generate_series(1, %(lines)s) AS k;

SELECT setval(pg_get_serial_sequence(t, 'id'), (SELECT max(id) FROM orders_frline))
FROM unnest(ARRAY['orders_order', 'orders_fulfillmentrequest', 'orders_orderline', 'orders_frline']) AS t;
"""


def fill() -> dict:
    """Create the sources and a channel with the ORM, then orders, FRs and their lines in bulk SQL."""
    from django.db import connection, transaction
    from django.utils import timezone

    from inventory.models import Channel
    from sources.models import GlobalSettings, Source

    started = time.perf_counter()
    GlobalSettings.load()
    sources = Source.objects.bulk_create(
        Source(name=f"Source {n:02d}", sku_prefix=f"S{n:02d}-", shipping_method_map={"ground": "UPS-GND"})
        for n in range(SOURCES)
    )
    channel = Channel.objects.create(name="Bench")
    params = {
        "channel": channel.pk,
        "sources": [s.pk for s in sources],
        "source_count": SOURCES,
        "frs": FRS,
        "lines": LINES_PER_FR,
        "days": HISTORY_DAYS,
        "now": timezone.now(),
    }
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in filter(str.strip, FILL_SQL.split(";")):
            cursor.execute(statement, params)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return {"seconds": round(time.perf_counter() - started, 1), "sources": SOURCES, "frs": FRS}


def source_tokens() -> list[str]:
    from orders.services.tokens import api_token_create
    from sources.models import Source

    return [
        api_token_create(kind="source", name=f"bench {pk}", source_id=pk, rate_limit_per_minute=BENCH_RATE_LIMIT)[1]
        for pk in Source.objects.order_by("pk").values_list("pk", flat=True)
    ]


def queries_per_request(token: str) -> dict[int, int]:
    """Count the SQL queries of one poll for each page size, in-process (after a first call has warmed up)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    since = (datetime.now(UTC) - timedelta(days=HISTORY_DAYS + 1)).isoformat()
    client.get("/api/v1/fulfillment-requests", {"updated_after": since, "limit": 1})
    counts = {}
    for limit in (10, 100, 500):
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/api/v1/fulfillment-requests", {"updated_after": since, "limit": limit})
        assert response.status_code == 200 and len(response.json()["data"]) == limit, response.content[:300]
        counts[limit] = len(queries.captured_queries)
    return counts


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    command = [
        str(REPO / ".venv" / "bin" / "gunicorn"),
        "--workers=2",
        "--worker-class=sync",
        f"--bind=127.0.0.1:{port}",
        "--chdir",
        str(REPO),
        "flxhub.wsgi:application",
    ]
    server = subprocess.Popen(command, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            # The first answer also waits for the worker to load Django, which is slow on a busy box.
            requests.get(f"http://127.0.0.1:{port}/api/v1/fulfillment-requests", timeout=30)
            return server
        except requests.RequestException:
            if server.poll() is not None:
                break
            time.sleep(0.2)
    server.terminate()
    sys.exit(f"gunicorn did not start; see {log}")


class StdlibClient:
    """GET over one http.client connection (reopened when the sync worker closes it): a few times lighter than
    requests, so on a 2-core box the clients take less CPU from the server they measure (perf.md used wrk)."""

    def __init__(self, base_url: str):
        self.connection = http.client.HTTPConnection(urlsplit(base_url).netloc)

    def get(self, url: str, params: dict, headers: dict) -> tuple[int, bytes]:
        self.connection.request("GET", f"{urlsplit(url).path}?{urlencode(params)}", headers=headers)
        response = self.connection.getresponse()
        return response.status, response.read()


class RequestsClient:
    def __init__(self, base_url: str):
        self.session = requests.Session()

    def get(self, url: str, params: dict, headers: dict) -> tuple[int, bytes]:
        response = self.session.get(url, params=params, headers=headers)
        return response.status_code, response.content


HTTP_CLIENTS = {"stdlib": StdlibClient, "requests": RequestsClient}


def poll_client(
    base_url: str, tokens: list[str], seed: int, ready, go, seconds: float, results, http_client: str = "stdlib"
) -> None:
    """One source client (its own process): follow cursors for ``seconds``; report every latency and its CPU."""
    client = HTTP_CLIENTS[http_client](base_url)
    rng = random.Random(seed)
    url = f"{base_url}/api/v1/fulfillment-requests"
    now = datetime.now(UTC)
    latencies: list[float] = []
    errors = 0
    ready.put(seed)
    go.wait()
    cpu_started = time.process_time()
    stop = time.perf_counter() + seconds
    while time.perf_counter() < stop:
        headers = {"Authorization": f"Bearer {rng.choice(tokens)}"}
        since = now - timedelta(seconds=rng.uniform(0, HISTORY_DAYS * 86400))
        params = {"updated_after": since.isoformat(), "limit": PAGE}
        while True:
            started = time.perf_counter()
            status, content = client.get(url, params, headers)
            finished = time.perf_counter()
            if finished > stop:
                break
            latencies.append(finished - started)
            # Only the tail is read: parsing 100 FRs of JSON here would take CPU from the server under test.
            match = NEXT_CURSOR.search(content[-200:]) if status == 200 else None
            if match is None:
                errors += 1
                break
            if match.group(2) == b"false":
                break
            params = {"cursor": match.group(1).decode(), "limit": PAGE}
    results.put({"latencies": latencies, "errors": errors, "cpu_seconds": time.process_time() - cpu_started})


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU each live process of ``pids`` has used so far."""
    used = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return used


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU used between two snapshots; a process that started in between counts from zero (CONN_MAX_AGE
    replaces a worker's database connection every minute), one that ended in between is lost."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def server_processes(server: subprocess.Popen) -> dict[str, list[int]]:
    """The gunicorn master and workers, and the PostgreSQL backends of the bench database (kept by CONN_MAX_AGE)."""
    from django.db import connection

    workers = [
        int(entry.name)
        for entry in Path("/proc").iterdir()
        if entry.name.isdigit() and _parent_pid(entry.name) == server.pid
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        backends = [pid for (pid,) in cursor.fetchall()]
    return {"gunicorn": [server.pid, *workers], "postgres": backends}


def _parent_pid(pid: str) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError):
        return None


def run_load(
    base_url: str,
    tokens: list[str],
    clients: int,
    seconds: float,
    http_client: str = "stdlib",
    server: subprocess.Popen | None = None,
) -> dict:
    """Run ``clients`` client processes for ``seconds`` at once; return throughput, latency, errors and CPU."""
    context = multiprocessing.get_context("spawn")
    ready, go, results = context.Queue(), context.Event(), context.Queue()
    processes = [
        context.Process(target=poll_client, args=(base_url, tokens, seed, ready, go, seconds, results, http_client))
        for seed in range(clients)
    ]
    for process in processes:
        process.start()
    for _ in processes:  # every client has imported its modules and is waiting for the clock
        ready.get(timeout=120)
    watched = server_processes(server) if server is not None else {}
    cpu_before = {name: cpu_seconds(pids) for name, pids in watched.items()}
    load_before = os.getloadavg()
    go.set()
    reports = [results.get(timeout=seconds + 60) for _ in processes]
    load_after = os.getloadavg()
    watched = server_processes(server) if server is not None else {}
    cpu = {name: cpu_used(cpu_before.get(name, {}), cpu_seconds(pids)) for name, pids in watched.items()}
    for process in processes:
        process.join()
    cpu["clients"] = sum(report["cpu_seconds"] for report in reports)
    latencies = sorted(latency for report in reports for latency in report["latencies"])
    count = len(latencies)
    return {
        "clients": clients,
        "seconds": seconds,
        "requests": count,
        "requests_per_s": round(count / seconds, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1) if count else None,
        "p99_ms": round(latencies[min(count - 1, int(count * 0.99))] * 1000, 1) if count else None,
        "max_ms": round(latencies[-1] * 1000, 1) if count else None,
        "errors": sum(report["errors"] for report in reports),
        "loadavg_1m_before": round(load_before[0], 2),
        "loadavg_1m_after": round(load_after[0], 2),
        # CPU per request of each side on the shared 2 cores (the rest of the box is other work).
        "cpu_ms_per_request": {name: round(used * 1000 / count, 2) for name, used in cpu.items()} if count else {},
        "http_client": http_client,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="4,16", help="comma-separated client counts, one scenario each")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--reuse", action="store_true", help="keep the database if it is already filled")
    parser.add_argument(
        "--http-client",
        choices=sorted(HTTP_CLIENTS),
        default="stdlib",
        help="client library: stdlib http.client (light, default) or requests (the first measurements)",
    )
    args = parser.parse_args()

    env = bench_environment()
    if not env["DATABASE_URL"].startswith("postgres"):
        sys.exit("DATABASE_URL must name a PostgreSQL database this benchmark may drop and recreate.")
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "FIELD_ENCRYPTION_KEYS")})
    os.environ.update({"DJANGO_SETTINGS_MODULE": env["DJANGO_SETTINGS_MODULE"], "DEBUG": "false"})
    if not args.reuse:
        from bench.routing import recreate_database

        recreate_database(env["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command

    from orders.models import FulfillmentRequest

    call_command("migrate", verbosity=0)
    if not FulfillmentRequest.objects.exists():
        print(json.dumps({"bench": "api_poll", "fill": fill()}), flush=True)
    tokens = source_tokens()
    queries = queries_per_request(tokens[0])
    print(json.dumps({"bench": "api_poll", "queries_per_request_by_page_size": queries}), flush=True)

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"api_poll_gunicorn_{port}.log"
    server = start_gunicorn(env, port, log)
    try:
        run_load(base_url, tokens, 4, WARMUP_SECONDS, args.http_client)
        for clients in (int(c) for c in args.clients.split(",")):
            result = run_load(base_url, tokens, clients, args.seconds, args.http_client, server)
            result = {
                "bench": "api_poll",
                "page": PAGE,
                **result,
                "queries_per_request": queries[PAGE],
            }
            print(json.dumps(result), flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
