"""Test Connection on a US Direct REST connection asks the protocol and stores the verdict."""

import pytest

from orders.integrations.simulators.usdirect import running_simulator
from orders.integrations.usdirect_setup import usdirect_source_setup
from sources.models import Connection
from sources.services.connections import connection_test


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("api_token", "ok", "says"),
    [("demo-api-token", True, "API token and reseller token accepted"), ("tok-XYZZY-old", False, "rotated")],
)
def test_rest_connection_test_goes_through_the_protocol(api_token, ok, says):
    with running_simulator() as server:
        source = usdirect_source_setup(
            name="US Direct",
            base_url=server.base_url,
            api_token=api_token,
            reseller_token="demo-reseller-token",
            schedules=False,
        )
        api = Connection.objects.get(source=source, kind=Connection.Kind.REST)
        verdict = connection_test(connection_id=api.pk)
    api.refresh_from_db()
    assert (verdict.ok, api.last_test_ok) == (ok, ok)
    assert says in verdict.message and api.last_test_message == verdict.message
    assert "XYZZY" not in verdict.message  # the token never shows in a verdict
