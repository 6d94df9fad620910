"""HTTP feed URLs against a real pytest-httpserver on loopback."""

from __future__ import annotations

import gzip

import pytest
from werkzeug import Response

from sources.transports import ConnectionSettings, TransientTransportError, TransportError, get_transport
from tests.sources.transports.conftest import FEED


def feed_settings(httpserver, path="/feeds/inventory.csv", **changes) -> ConnectionSettings:
    return ConnectionSettings(kind="http", url=httpserver.url_for(path), timeout=5, **changes)


def basic_auth_feed(request):
    auth = request.authorization
    if auth is None or (auth.username, auth.password) != ("feeds", "s3cret-http"):
        return Response("who are you?", status=401, headers={"WWW-Authenticate": 'Basic realm="feeds"'})
    return Response(FEED, content_type="text/csv")


def test_lists_the_feed_under_its_file_name_and_fetches_it(httpserver):
    httpserver.expect_request("/feeds/inventory.csv").respond_with_data(FEED, content_type="text/csv")

    with get_transport(feed_settings(httpserver)) as transport:
        assert [entry.name for entry in transport.list_files("*.csv")] == ["inventory.csv"]
        assert transport.list_files("*.xlsx") == []
        assert transport.fetch("inventory.csv") == FEED


def test_basic_auth_gets_the_feed_and_a_wrong_password_is_wrong_credentials(httpserver):
    httpserver.expect_request("/feeds/inventory.csv").respond_with_handler(basic_auth_feed)
    good = feed_settings(httpserver, username="feeds", password="s3cret-http")
    bad = feed_settings(httpserver, username="feeds", password="guess")

    assert get_transport(good).fetch("inventory.csv") == FEED
    verdict = get_transport(bad).test()
    with pytest.raises(TransportError) as raised:
        get_transport(bad).fetch("inventory.csv")

    assert not verdict.ok
    assert verdict.message.startswith("Wrong credentials: the feed server answered HTTP 401")
    assert not isinstance(raised.value, TransientTransportError)
    assert "guess" not in raised.value.message


def test_bearer_token_and_extra_headers_are_sent(httpserver):
    httpserver.expect_request(
        "/feeds/inventory.csv", headers={"Authorization": "Bearer t0ken", "X-Api-Key": "k3y"}
    ).respond_with_data(FEED)
    settings = feed_settings(httpserver, options={"token": "t0ken", "headers": {"X-Api-Key": "k3y"}})

    assert get_transport(settings).fetch("inventory.csv") == FEED


def test_a_forbidden_answer_is_wrong_credentials(httpserver):
    httpserver.expect_request("/feeds/inventory.csv").respond_with_data("no", status=403)

    verdict = get_transport(feed_settings(httpserver)).test()

    assert verdict.message.startswith("Wrong credentials: the feed server answered HTTP 403")


def test_a_missing_feed_is_feed_url_not_found_and_the_query_string_stays_secret(httpserver):
    httpserver.expect_request("/feeds/gone.csv").respond_with_data("nothing here", status=404)
    settings = feed_settings(httpserver, "/feeds/gone.csv?key=s3cret-in-url")

    verdict = get_transport(settings).test()
    with get_transport(settings) as transport:
        assert not transport.exists("gone.csv")

    assert not verdict.ok
    assert verdict.message == f"Feed URL not found (HTTP 404): {httpserver.url_for('/feeds/gone.csv')}"
    assert "s3cret" not in verdict.message


def test_server_errors_are_transient(httpserver):
    httpserver.expect_request("/feeds/inventory.csv").respond_with_data(
        "busy", status=503, headers={"Retry-After": "120"}
    )

    with pytest.raises(TransientTransportError) as raised:
        get_transport(feed_settings(httpserver)).fetch("inventory.csv")

    assert raised.value.message.startswith("The feed server answered HTTP 503")
    assert raised.value.details == {"status": 503, "retry_after": "120"}


def test_an_internal_server_error_is_transient(httpserver):
    httpserver.expect_request("/feeds/inventory.csv").respond_with_data("oops", status=500)

    with pytest.raises(TransientTransportError, match="HTTP 500"):
        get_transport(feed_settings(httpserver)).fetch("inventory.csv")


def test_a_feed_over_the_limit_is_refused_by_its_length(httpserver):
    httpserver.expect_request("/feeds/inventory.csv").respond_with_data(FEED)

    with pytest.raises(TransportError, match="larger than the limit of 10 bytes"):
        get_transport(feed_settings(httpserver, max_bytes=10)).fetch("inventory.csv")


def test_a_compressed_feed_is_limited_by_what_it_unpacks_to(httpserver):
    body = b"sku;quantity\n" + b"USD-1;5\n" * 20_000
    packed = gzip.compress(body)
    httpserver.expect_request("/feeds/inventory.csv").respond_with_data(packed, headers={"Content-Encoding": "gzip"})
    settings = feed_settings(httpserver, max_bytes=len(packed) * 2)

    with pytest.raises(TransportError, match="larger than the limit"):
        get_transport(settings).fetch("inventory.csv")


def test_a_feed_without_length_is_cut_off_at_the_limit(httpserver):
    def chunked(request):
        return Response((b"x" * 1000 for _ in range(100)), content_type="text/csv")

    httpserver.expect_request("/feeds/inventory.csv").respond_with_handler(chunked)

    with pytest.raises(TransportError, match="larger than the limit"):
        get_transport(feed_settings(httpserver, max_bytes=5000)).fetch("inventory.csv")


def test_test_connection_describes_what_the_feed_serves(httpserver):
    httpserver.expect_request("/feeds/inventory.csv").respond_with_data(FEED, content_type="text/csv; charset=utf-8")

    verdict = get_transport(feed_settings(httpserver)).test()

    assert verdict.ok
    assert verdict.message == (
        f"Feed reachable at {httpserver.url_for('/feeds/inventory.csv')}: HTTP 200, text/csv, {len(FEED)} bytes"
    )


def test_an_unreachable_feed_is_transient_with_a_plain_verdict(closed_port):
    settings = ConnectionSettings(kind="http", url=f"http://127.0.0.1:{closed_port}/feed.csv", timeout=2)

    verdict = get_transport(settings).test()

    assert verdict.message == f"Host unreachable: connection refused on 127.0.0.1:{closed_port}"
    with pytest.raises(TransientTransportError):
        get_transport(settings).fetch("feed.csv")


def test_a_feed_that_never_answers_times_out(silent_port):
    settings = ConnectionSettings(kind="http", url=f"http://127.0.0.1:{silent_port}/feed.csv", timeout=0.3)

    verdict = get_transport(settings).test()

    assert verdict.message == f"Timed out after 0.3 s talking to 127.0.0.1:{silent_port}"


def test_only_the_feed_itself_can_be_fetched_and_nothing_stored(httpserver):
    transport = get_transport(feed_settings(httpserver))

    with pytest.raises(TransportError, match="serves one feed, inventory.csv"):
        transport.fetch("other.csv")
    with pytest.raises(TransportError, match="cannot store files"):
        transport.put("inventory.csv", b"")
    with pytest.raises(TransportError, match="cannot move files"):
        transport.move("inventory.csv", "archive")
    assert (transport.can_put, transport.can_move) == (False, False)


def test_a_url_that_is_not_http_is_refused():
    verdict = get_transport(ConnectionSettings(kind="http", url="file:///etc/passwd")).test()

    assert verdict.message == "The feed URL must start with http:// or https://"
