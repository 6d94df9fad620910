"""The US Direct feed through the real HTTP transport and the built-in template; the simulator's own hooks."""

import socket
import subprocess
import sys

import pytest
import requests

from orders.integrations.usdirect import PROTOCOL
from sources.builtin_templates import builtin_template
from sources.formats import read_records
from sources.mapping import map_records
from sources.transports import ConnectionSettings, TransportError, get_transport
from tests.conftest import REPO_ROOT

from .conftest import API_TOKEN, api_settings, canonical_fr


def feed_settings(server, **changes) -> ConnectionSettings:
    """What connection_settings() builds for the feed connection: the token travels as a bearer header."""
    return ConnectionSettings(
        kind="http", url=server.feed_url, timeout=5, options={"token": API_TOKEN, **changes.pop("options", {})}
    )


def map_feed(data: bytes):
    errors = []
    rows = list(map_records(builtin_template("us_direct_inventory"), read_records("csv", data), errors.append))
    return rows, errors


def test_the_feed_downloads_through_the_http_transport_and_maps_with_the_us_direct_template(simulator):
    with get_transport(feed_settings(simulator)) as transport:
        [remote] = transport.list_files("*.csv")
        data = transport.fetch(remote.name)

    rows, errors = map_feed(data)

    assert errors == []
    assert len(rows) == len(simulator.state.snapshot()["catalogue"])
    first = rows[0].data
    assert (first["sku"], first["master_sku"], first["title"]) == ("TRS-8", "USD-TRS-8", "Trail Running Shoe 8")
    assert (str(first["cost"]), first["quantity"]) == ("40.00", 25)
    assert all(row.data["master_sku"] == f"USD-{row.data['sku']}" for row in rows)


def test_the_feed_url_may_carry_the_token_instead_of_a_header(simulator):
    settings = ConnectionSettings(kind="http", url=f"{simulator.feed_url}?token={API_TOKEN}", timeout=5)

    data = get_transport(settings).fetch("feed.csv")

    assert data.startswith(b"Product SKU,Product Name,Pricing,Quantity\r\n")


def test_the_feed_with_a_wrong_token_is_wrong_credentials_without_leaking_it(simulator):
    settings = ConnectionSettings(kind="http", url=f"{simulator.feed_url}?token=leaked-secret", timeout=5)

    verdict = get_transport(settings).test()
    with pytest.raises(TransportError) as raised:
        get_transport(settings).fetch("feed.csv")

    assert not verdict.ok
    assert verdict.message == f"Wrong credentials: the feed server answered HTTP 401 for {simulator.feed_url}"
    assert "leaked-secret" not in raised.value.message


def test_rows_missing_a_required_field_are_row_errors_and_the_rest_map(simulator):
    simulator.state.catalogue = [
        {"sku": "GOOD-1", "name": "Good", "price": "4.50", "quantity": "3"},
        {"sku": "", "name": "No SKU", "price": "1.00", "quantity": "1"},
        {"sku": "NONAME-1", "name": "", "price": "1.00", "quantity": "1"},
        {"sku": "NOPRICE-1", "name": "No price", "price": "", "quantity": "1"},
        {"sku": "NOQTY-1", "name": "No quantity", "price": "2.00", "quantity": ""},
        {"sku": "BADQTY-1", "name": "Bad quantity", "price": "2.00", "quantity": "lots"},
    ]

    rows, errors = map_feed(get_transport(feed_settings(simulator)).fetch("feed.csv"))

    assert [row.data["master_sku"] for row in rows] == ["USD-GOOD-1"]
    assert {(e.row, e.field) for e in errors} >= {
        (2, "sku"),
        (3, "title"),
        (4, "cost"),
        (5, "quantity"),
        (6, "quantity"),
    }
    assert {e.sku for e in errors if e.row > 2} == {"NONAME-1", "NOPRICE-1", "NOQTY-1", "BADQTY-1"}


def test_a_feed_server_error_is_transient(simulator):
    simulator.state.configure(fail_status=500)

    with pytest.raises(TransportError) as raised:
        get_transport(feed_settings(simulator)).fetch("feed.csv")

    assert raised.value.code == "transport_server_error"


def test_an_order_takes_stock_out_of_the_next_feed(simulator):
    PROTOCOL.send_fr(api_settings(simulator), canonical_fr(lines=[{"sku": "HL-400", "quantity": 4}]))

    rows, _ = map_feed(get_transport(feed_settings(simulator)).fetch("feed.csv"))

    assert {row.data["sku"]: row.data["quantity"] for row in rows}["HL-400"] == 26


# The simulator's test hooks and command line


def test_switches_change_over_http_and_an_unknown_switch_is_refused(simulator):
    changed = requests.post(f"{simulator.base_url}/_sim/config", json={"bad_credentials": True}, timeout=5)
    unknown = requests.post(f"{simulator.base_url}/_sim/config", json={"explode": True}, timeout=5)
    account = requests.get(f"{simulator.base_url}/v1/account", headers={"Authorization": f"Bearer {API_TOKEN}"})

    assert changed.status_code == 200 and changed.json()["bad_credentials"] is True
    assert unknown.status_code == 400 and "unknown switches: explode" in unknown.json()["error"]["message"]
    assert account.status_code == 401 and account.json()["error"]["code"] == "invalid_token"


def test_reset_forgets_orders_and_switches(simulator):
    simulator.state.configure(fail_status=500)
    simulator.state.orders["X-1"] = {}

    requests.post(f"{simulator.base_url}/_sim/reset", timeout=5)

    snapshot = requests.get(f"{simulator.base_url}/_sim/state", timeout=5).json()
    assert snapshot["orders"] == [] and snapshot["config"]["fail_status"] == 0


def test_the_catalogue_can_be_replaced_over_http(simulator):
    requests.post(
        f"{simulator.base_url}/_sim/catalogue", json=[{"sku": "ONLY-1", "name": "Only", "price": "1", "quantity": 2}]
    )

    data = get_transport(feed_settings(simulator)).fetch("feed.csv")

    assert data == b"Product SKU,Product Name,Pricing,Quantity\r\nONLY-1,Only,1,2\r\n"


def test_the_simulator_runs_from_the_command_line_with_its_switches():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "orders.integrations.simulators.usdirect", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--api-token", "cli-token", "--no-integration-access"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        banner = process.stdout.readline()  # printed once the socket listens
        answer = requests.get(
            f"http://127.0.0.1:{port}/v1/account", headers={"Authorization": "Bearer cli-token"}, timeout=5
        )
    finally:
        process.terminate()
        process.wait(timeout=10)

    assert banner.startswith(f"US Direct simulator on http://127.0.0.1:{port}")
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "integration_access_disabled"
