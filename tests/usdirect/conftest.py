"""A US Direct simulator on loopback for every test here, and the connection settings that reach it."""

import pytest

from orders.integrations.simulators.usdirect import running_simulator
from sources.transports import ConnectionSettings

API_TOKEN = "demo-api-token"
RESELLER_TOKEN = "demo-reseller-token"


@pytest.fixture
def simulator():
    with running_simulator(api_token=API_TOKEN, reseller_token=RESELLER_TOKEN) as server:
        yield server


def api_settings(server, *, api_token=API_TOKEN, reseller_token=RESELLER_TOKEN, timeout=5.0) -> ConnectionSettings:
    """The settings connection_settings() builds for a ``rest`` connection with these secrets."""
    options = {"protocol": "usdirect", "api_token": api_token}
    if reseller_token:
        options["reseller_token"] = reseller_token
    return ConnectionSettings(kind="rest", url=server.base_url, timeout=timeout, options=options)


def canonical_fr(number="54007-1", **changes) -> dict:
    """A canonical FR as the Send FR runner renders it (sources.mapping.kinds send_fr keys plus lines)."""
    fr = {
        "fr_number": number,
        "order_number": number.rsplit("-", 1)[0],
        "shipping_method": "ground",
        "source_shipping_code": "UPS-GND",
        "ship_to_name": "Grace Hopper",
        "ship_to_company": "",
        "ship_to_address1": "1 Compiler Way",
        "ship_to_address2": "Suite 9",
        "ship_to_city": "Arlington",
        "ship_to_state": "VA",
        "ship_to_postal_code": "22201",
        "ship_to_country": "US",
        "ship_to_phone": "555-0100",
        "lines": [{"sku": "PRJ-M", "quantity": 1}, {"sku": "HL-400", "quantity": 2}],
    }
    fr.update(changes)
    return fr
