"""The US Direct protocol against the simulator on loopback: every call, every failure the guide lists."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import requests

from orders.integrations import usdirect
from orders.integrations.rest import get_rest_protocol
from orders.integrations.usdirect import UsDirectError, UsDirectIncompleteAnswer
from sources.transports import ConnectionSettings, TransientTransportError

from .conftest import API_TOKEN, api_settings, canonical_fr

protocol = usdirect.PROTOCOL


def api_requests(server, path=None):
    return [r for r in server.state.snapshot()["requests"] if path is None or r["path"] == path]


def test_the_protocol_is_registered_as_usdirect():
    assert get_rest_protocol("usdirect") is protocol


# Test Connection


def test_test_connection_with_good_credentials_names_the_account(simulator):
    ok, message = protocol.test(api_settings(simulator))

    assert ok
    assert message == (
        f"Connected to US Direct at {simulator.base_url} as account flxhub-demo; API token and reseller token accepted."
    )


def test_test_connection_without_reseller_token_passes_but_warns_about_invoices(simulator):
    ok, message = protocol.test(api_settings(simulator, reseller_token=""))

    assert ok
    assert "no reseller token yet, so Get Invoice will not work" in message


def test_test_connection_with_a_wrong_api_token_says_it_is_wrong_or_rotated(simulator):
    ok, message = protocol.test(api_settings(simulator, api_token="old-token"))

    assert not ok
    assert message.startswith("US Direct refused the API token (HTTP 401): it is wrong or was rotated.")
    assert "old-token" not in message


def test_test_connection_when_the_supplier_rotated_every_token(simulator):
    simulator.state.configure(bad_credentials=True)

    ok, message = protocol.test(api_settings(simulator))

    assert not ok
    assert "wrong or was rotated" in message


def test_test_connection_without_integration_access_says_whom_to_ask(simulator):
    simulator.state.configure(integration_access=False)

    ok, message = protocol.test(api_settings(simulator))

    assert not ok
    assert "integration access is not enabled for this account" in message
    assert "account manager" in message


def test_test_connection_with_a_wrong_reseller_token_fails(simulator):
    ok, message = protocol.test(api_settings(simulator, reseller_token="stale"))

    assert not ok
    assert "US Direct refused the reseller token" in message


def test_test_connection_to_a_closed_port_says_unreachable(simulator):
    settings = api_settings(simulator)
    settings.url = "http://127.0.0.1:9"

    ok, message = protocol.test(settings)

    assert not ok
    assert "connection refused" in message


# Send FR


def test_send_maps_the_fr_to_a_us_direct_order(simulator):
    result = protocol.send_fr(api_settings(simulator), canonical_fr())

    [order] = simulator.state.snapshot()["orders"]
    assert result.outcome == "accepted"
    assert result.source_reference == order["order_id"] == "USD-ORD-000001"
    assert order["po_number"] == "54007-1"
    assert order["ship_to"] == {
        "name": "Grace Hopper",
        "address1": "1 Compiler Way",
        "address2": "Suite 9",
        "city": "Arlington",
        "state": "VA",
        "postal_code": "22201",
        "country": "US",
        "phone": "555-0100",
    }
    assert order["shipping_code"] == "UPS-GND"
    assert [(i["item_number"], i["quantity"]) for i in order["items"]] == [("PRJ-M", 1), ("HL-400", 2)]


def test_send_uses_the_mapped_shipping_code(simulator):
    protocol.send_fr(api_settings(simulator), canonical_fr(shipping_method="express", source_shipping_code="FEDEX-EXP"))

    [shipment] = protocol.get_shipments(api_settings(simulator), ["54007-1"])
    assert simulator.state.snapshot()["orders"][0]["shipping_code"] == "FEDEX-EXP"
    assert (shipment.carrier, shipment.method) == ("FedEx", "FEDEX-EXP")


def test_send_accepts_a_body_already_in_us_direct_shape(simulator):
    body = usdirect.order_body(canonical_fr())

    assert protocol.send_fr(api_settings(simulator), body).outcome == "accepted"
    assert simulator.state.snapshot()["orders"][0]["po_number"] == "54007-1"


def test_an_order_the_supplier_only_received_is_not_acknowledged_yet(simulator):
    simulator.state.configure(order_status="received")

    result = protocol.send_fr(api_settings(simulator), canonical_fr())

    assert result.outcome == "received"
    assert protocol.get_acks(api_settings(simulator), ["54007-1"]) == []


@pytest.mark.parametrize(
    ("change", "label"),
    [
        ({"ship_to_postal_code": ""}, "Ship To Zip (the order's shipping postal code)"),
        ({"ship_to_address1": "  "}, "Ship To Address (the order's shipping address line 1)"),
        ({"ship_to_name": None}, "Ship To Name"),
        ({"source_shipping_code": ""}, "Shipping Code (the source's shipping-method map"),
        ({"lines": [{"sku": "", "quantity": 1}]}, "Item Number on line 1 (the line's source SKU)"),
        ({"lines": [{"sku": "HL-400", "quantity": 0}]}, "Quantity on line 1"),
        ({"lines": []}, "Items (the FR's lines)"),
    ],
)
def test_a_missing_required_field_is_refused_with_the_guide_s_name_and_nothing_is_sent(simulator, change, label):
    result = protocol.send_fr(api_settings(simulator), canonical_fr(**change))

    assert result.outcome == "rejected"
    assert result.message.startswith("FR 54007-1 was not sent to US Direct: a required order field is empty")
    assert label in result.message
    assert api_requests(simulator) == []


def test_every_missing_field_is_named_at_once(simulator):
    result = protocol.send_fr(api_settings(simulator), canonical_fr(ship_to_city="", ship_to_state=""))

    assert "Ship To City" in result.message and "Ship To State" in result.message


def test_a_shipping_code_us_direct_does_not_know_is_refused_before_sending(simulator):
    result = protocol.send_fr(api_settings(simulator), canonical_fr(source_shipping_code="GROUND"))

    assert result.outcome == "rejected"
    assert "Shipping Code 'GROUND' is not one of UPS-GND, FEDEX-EXP, USPS-PRIORITY" in result.message
    assert api_requests(simulator) == []


def test_the_simulator_refuses_an_empty_required_field_with_the_guide_s_error():
    from orders.integrations.simulators.usdirect import SimulatorState

    state = SimulatorState()
    body = usdirect.order_body(canonical_fr(ship_to_postal_code=""))

    assert state.create_order(body) == (
        422,
        {
            "error": {
                "code": "missing_required_field",
                "message": "Required field 'Ship To Zip' is empty.",
                "field": "ship_to.postal_code",
            }
        },
    )


def test_an_item_the_supplier_does_not_sell_is_rejected_naming_the_field(simulator):
    result = protocol.send_fr(api_settings(simulator), canonical_fr(lines=[{"sku": "NOPE-1", "quantity": 1}]))

    assert result.outcome == "rejected"
    assert result.message.startswith("US Direct refused FR 54007-1: Item Number (items[0].item_number):")
    assert "'NOPE-1' is not in the US Direct catalogue" in result.message


def test_sending_the_same_fr_twice_creates_one_order(simulator):
    first = protocol.send_fr(api_settings(simulator), canonical_fr())
    second = protocol.send_fr(api_settings(simulator), canonical_fr())

    assert second == first
    assert len(simulator.state.snapshot()["orders"]) == 1


def test_find_fr_finds_a_sent_fr_and_not_an_unsent_one(simulator):
    protocol.send_fr(api_settings(simulator), canonical_fr())

    assert protocol.find_fr(api_settings(simulator), "54007-1").source_reference == "USD-ORD-000001"
    assert protocol.find_fr(api_settings(simulator), "54999-1") is None


def test_send_with_rotated_credentials_fails_the_run_not_the_fr(simulator):
    with pytest.raises(UsDirectError) as raised:
        protocol.send_fr(api_settings(simulator, api_token="rotated"), canonical_fr())

    assert raised.value.code == "usdirect_auth_failed"
    assert "wrong or was rotated" in raised.value.message
    assert simulator.state.snapshot()["orders"] == []


def test_send_without_integration_access_says_so(simulator):
    simulator.state.configure(integration_access=False)

    with pytest.raises(UsDirectError) as raised:
        protocol.send_fr(api_settings(simulator), canonical_fr())

    assert raised.value.code == "usdirect_access_disabled"


def test_a_server_error_is_transient_and_a_retry_sends_once(simulator):
    simulator.state.configure(fail_status=500, fail_times=1)

    with pytest.raises(TransientTransportError) as raised:
        protocol.send_fr(api_settings(simulator), canonical_fr())
    retried = protocol.send_fr(api_settings(simulator), canonical_fr())

    assert raised.value.message == "US Direct answered HTTP 500 to POST /v1/orders: try again later"
    assert retried.outcome == "accepted"
    assert len(simulator.state.snapshot()["orders"]) == 1


def test_a_slow_answer_times_out_as_a_transient_error(simulator):
    simulator.state.configure(delay_seconds=1.0)

    with pytest.raises(TransientTransportError) as raised:
        protocol.send_fr(api_settings(simulator, timeout=0.2), canonical_fr())

    assert raised.value.code == "transport_timeout"
    assert "Timed out after 0.2 s" in raised.value.message


def test_an_answer_that_is_not_json_is_a_clear_error(httpserver):
    httpserver.expect_request("/v1/orders/54007-1").respond_with_data("<html>maintenance</html>")
    settings = ConnectionSettings(kind="rest", url=httpserver.url_for("/"), timeout=5, options={"api_token": "t"})

    with pytest.raises(UsDirectError) as raised:
        protocol.find_fr(settings, "54007-1")

    assert raised.value.message == "US Direct answered GET /v1/orders/{po_number} with something that is not JSON."


# Acknowledgements


def test_an_accepted_order_is_an_ack_of_the_whole_fr(simulator):
    protocol.send_fr(api_settings(simulator), canonical_fr())

    [ack] = protocol.get_acks(api_settings(simulator), ["54007-1", "54999-1"])

    assert (ack.fr_number, ack.lines, ack.source_reference) == ("54007-1", [], "USD-ORD-000001")


def test_an_order_beyond_stock_is_acknowledged_with_backordered_lines(simulator):
    protocol.send_fr(api_settings(simulator), canonical_fr(lines=[{"sku": "CST-1", "quantity": 10}]))

    [ack] = protocol.get_acks(api_settings(simulator), ["54007-1"])

    assert [(line.sku, line.accepted, line.backordered) for line in ack.lines] == [("CST-1", 8, 2)]


# Shipments


def test_shipments_carry_tracking_number_status_and_ship_date(simulator):
    protocol.send_fr(api_settings(simulator), canonical_fr())

    [shipment] = protocol.get_shipments(api_settings(simulator), ["54007-1"])

    assert shipment.fr_number == "54007-1"
    assert shipment.tracking_number.startswith("1ZUSD") and len(shipment.tracking_number) == 16
    assert shipment.status == "shipped"
    assert shipment.carrier == "UPS" and shipment.method == "UPS-GND"
    assert isinstance(shipment.shipped_at, datetime) and shipment.shipped_at.tzinfo is not None
    assert abs((datetime.now(UTC) - shipment.shipped_at).total_seconds()) < 60
    assert [(item.sku, item.quantity) for item in shipment.items] == [("PRJ-M", 1), ("HL-400", 2)]


def test_no_shipment_before_the_supplier_s_delay(simulator):
    simulator.state.configure(shipment_delay_seconds=3600)
    protocol.send_fr(api_settings(simulator), canonical_fr())

    assert protocol.get_shipments(api_settings(simulator), ["54007-1"]) == []


@pytest.mark.parametrize(
    ("omitted", "named"),
    [
        (["tracking_number"], "lacks tracking number"),
        (["status"], "lacks status"),
        (["ship_date"], "lacks ship date"),
        (["tracking_number", "ship_date"], "lacks tracking number, ship date"),
    ],
)
def test_shipment_data_missing_tracking_fields_is_a_clear_error(simulator, omitted, named):
    protocol.send_fr(api_settings(simulator), canonical_fr())
    protocol.send_fr(api_settings(simulator), canonical_fr("54008-1"))
    simulator.state.configure(omit_shipment_fields=omitted)

    with pytest.raises(UsDirectIncompleteAnswer) as raised:
        protocol.get_shipments(api_settings(simulator), ["54007-1", "54008-1"])

    assert raised.value.code == "usdirect_shipment_incomplete"
    assert f"PO 54007-1 {named}; PO 54008-1 {named}" in raised.value.message
    assert "were not recorded" in raised.value.message
    assert raised.value.results == []


def test_shipments_are_read_across_pages_and_po_number_chunks(simulator, monkeypatch):
    monkeypatch.setattr(usdirect, "PER_PAGE", 2)
    monkeypatch.setattr(usdirect, "PO_NUMBERS_PER_CALL", 3)
    numbers = [f"5410{n}-1" for n in range(7)]
    for number in numbers:
        protocol.send_fr(api_settings(simulator), canonical_fr(number, lines=[{"sku": "HL-400", "quantity": 1}]))

    shipments = protocol.get_shipments(api_settings(simulator), numbers)

    assert sorted(s.fr_number for s in shipments) == numbers
    # 3 chunks (3 + 3 + 1 PO numbers), the first two over two pages each.
    assert len(api_requests(simulator, "/v1/shipments")) == 5


# Invoices


def test_invoices_are_fetched_by_po_number_with_the_reseller_token(simulator):
    protocol.send_fr(api_settings(simulator), canonical_fr())

    [invoice] = protocol.get_invoices(api_settings(simulator), ["54007-1"])

    assert invoice.fr_number == "54007-1"
    assert invoice.invoice_number == "USD-INV-000001"
    assert invoice.total == Decimal("53.00") + 2 * Decimal("16.90")
    assert invoice.charges == Decimal("0.00")
    assert invoice.invoice_date.date() == datetime.now(UTC).date()
    assert [(line.sku, line.quantity, line.unit_cost) for line in invoice.lines] == [
        ("PRJ-M", 1, Decimal("53.00")),
        ("HL-400", 2, Decimal("16.90")),
    ]


def test_get_invoice_without_the_reseller_token_asks_for_it_and_sends_nothing(simulator):
    protocol.send_fr(api_settings(simulator), canonical_fr())
    before = len(api_requests(simulator))

    with pytest.raises(UsDirectError) as raised:
        protocol.get_invoices(api_settings(simulator, reseller_token=""), ["54007-1"])

    assert raised.value.code == "usdirect_reseller_token_missing"
    assert raised.value.message.startswith("Get Invoice needs the US Direct reseller token")
    assert len(api_requests(simulator)) == before


def test_the_simulator_refuses_invoices_without_the_reseller_header(simulator):
    answer = requests.get(
        f"{simulator.base_url}/v1/invoices", headers={"Authorization": f"Bearer {API_TOKEN}"}, timeout=5
    )

    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "reseller_token_required"


def test_a_wrong_reseller_token_is_refused_clearly(simulator):
    with pytest.raises(UsDirectError) as raised:
        protocol.get_invoices(api_settings(simulator, reseller_token="stale"), ["54007-1"])

    assert raised.value.code == "usdirect_reseller_token_rejected"
    assert "US Direct refused the reseller token (HTTP 403)" in raised.value.message


def test_an_invoice_whose_po_number_matches_no_fr_is_a_clear_error(simulator):
    protocol.send_fr(api_settings(simulator), canonical_fr())
    simulator.state.configure(invoice_po_mismatch=True)

    with pytest.raises(UsDirectIncompleteAnswer) as raised:
        protocol.get_invoices(api_settings(simulator), ["54007-1"])

    assert raised.value.code == "usdirect_invoice_unmatched"
    assert "invoice USD-INV-000001 for PO 54007" in raised.value.message
    assert "matched by the Flx PO number (the FR number, e.g. 54007-1)" in raised.value.message


def test_no_invoice_before_the_order_ships(simulator):
    simulator.state.configure(shipment_delay_seconds=3600)
    protocol.send_fr(api_settings(simulator), canonical_fr())

    assert protocol.get_invoices(api_settings(simulator), ["54007-1"]) == []


def test_a_rate_limit_is_transient_and_keeps_retry_after(simulator):
    simulator.state.configure(fail_status=503)

    with pytest.raises(TransientTransportError) as raised:
        protocol.get_invoices(api_settings(simulator), ["54007-1"])

    assert raised.value.details == {"status": 503, "retry_after": "1"}


def test_send_reads_the_runner_s_fr_payload_shape(simulator):
    payload = {
        "number": "54011-1",
        "order_number": "54011",
        "shipping_method": "priority",
        "shipping_code": "USPS-PRIORITY",
        "ship_to": {
            "name": "Ada Lovelace",
            "company": "",
            "address1": "12 Analytical St",
            "address2": "",
            "city": "Springfield",
            "state": "IL",
            "postal_code": "62701",
            "country": "US",
            "phone": "",
            "email": "ada@example.com",
        },
        "lines": [{"line_number": 1, "sku": "IWB-750", "upc": "", "mpn": "", "title": "Bottle", "quantity": 3}],
    }

    result = protocol.send_fr(api_settings(simulator), payload)

    [order] = simulator.state.snapshot()["orders"]
    assert result.outcome == "accepted"
    assert (order["po_number"], order["shipping_code"]) == ("54011-1", "USPS-PRIORITY")
    assert order["ship_to"]["postal_code"] == "62701"
    assert [(i["item_number"], i["quantity"]) for i in order["items"]] == [("IWB-750", 3)]
