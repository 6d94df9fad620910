"""A web process remembers a checked token for a few seconds: polling costs no token query, revocation still bites."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from flxhub.api.auth import TOKEN_CACHE_SECONDS
from orders.services.tokens import api_token_create, api_token_revoke

pytestmark = pytest.mark.django_db
FR_LIST = "/api/v1/fulfillment-requests"
START = datetime(2031, 5, 4, 10, 20, 30, tzinfo=UTC)


def token_queries(client) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(FR_LIST)
    return response.status_code, sum("orders_apitoken" in q["sql"] for q in queries.captured_queries)


def test_a_polling_token_is_looked_up_once_per_cache_window(api, source):
    _, plaintext = api_token_create(kind="source", name="poller", source_id=source.pk)
    client = api(plaintext)
    with time_machine.travel(START, tick=False) as clock:
        assert token_queries(client) == (200, 2)  # the lookup and the last-used stamp
        assert token_queries(client) == (200, 0)
        clock.shift(timedelta(seconds=TOKEN_CACHE_SECONDS))
        assert token_queries(client) == (200, 1)  # checked again; last use is less than a minute old


def test_a_revoked_token_stops_working_within_the_cache_bound(api, source):
    token, plaintext = api_token_create(kind="source", name="leaked", source_id=source.pk)
    client = api(plaintext)
    with time_machine.travel(START, tick=False) as clock:
        assert client.get(FR_LIST).status_code == 200
        api_token_revoke(token_id=token.pk)
        clock.shift(timedelta(seconds=TOKEN_CACHE_SECONDS))
        response = client.get(FR_LIST)
        assert response.status_code == 401 and response.json()["code"] == "token_revoked"


def test_expiry_is_checked_on_every_request_even_for_a_remembered_token(api, source):
    _, plaintext = api_token_create(
        kind="source", name="short", source_id=source.pk, expires_at=START + timedelta(seconds=1)
    )
    client = api(plaintext)
    with time_machine.travel(START, tick=False) as clock:
        assert client.get(FR_LIST).status_code == 200
        clock.shift(timedelta(seconds=1))
        response = client.get(FR_LIST)
        assert response.status_code == 401 and response.json()["code"] == "token_expired"


def test_a_remembered_token_keeps_its_scope_and_rate_limit(api, source, other_source, sent_fr):
    fr = sent_fr()
    _, plaintext = api_token_create(kind="source", name="tight", source_id=source.pk, rate_limit_per_minute=2)
    _, other = api_token_create(kind="source", name="other", source_id=other_source.pk)
    with time_machine.travel(START, tick=False):
        first, second = api(plaintext).get(FR_LIST), api(plaintext).get(FR_LIST)
        assert [row["id"] for row in second.json()["data"]] == [fr.pk]
        assert second.headers["X-RateLimit-Limit"] == "2" and first.status_code == second.status_code == 200
        assert api(plaintext).get(FR_LIST).status_code == 429
        assert api(other).get(f"{FR_LIST}/{fr.pk}").status_code == 404
        assert api(other).get(f"{FR_LIST}/{fr.pk}").status_code == 404  # remembered, still its own source only
