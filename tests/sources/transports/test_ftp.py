"""FTP specifics: FTPS really encrypts, and its certificate is checked."""

from __future__ import annotations

import dataclasses

import pytest

from sources.transports import TransientTransportError, TransportError, get_transport
from tests.sources.transports import servers
from tests.sources.transports.conftest import FEED, login_settings


def test_ftps_lists_and_fetches_over_tls(ftps_settings):
    with get_transport(ftps_settings) as transport:
        transport.list_files()
        assert transport.fetch("inventory.csv") == FEED
        connection = transport.connect()
        assert connection.sock.version().startswith("TLS")
        assert connection._prot_p  # the data channel is encrypted too


def test_ftps_refuses_an_untrusted_certificate(ftps_settings):
    verdict = get_transport(dataclasses.replace(ftps_settings, options={})).test()

    assert not verdict.ok
    assert verdict.message.startswith("The server's TLS certificate is not trusted")


def test_ftps_may_skip_certificate_checks_when_told(ftps_settings):
    assert get_transport(dataclasses.replace(ftps_settings, options={"verify_tls": False})).test().ok


def test_plain_ftp_client_is_turned_away_by_a_tls_only_server(ftps_settings):
    verdict = get_transport(dataclasses.replace(ftps_settings, kind="ftp")).test()

    assert (verdict.ok, verdict.message) == (
        False,
        "The server requires FTPS (FTP over TLS): switch the connection to FTPS",
    )


def test_ftps_against_a_plain_ftp_server_says_tls_is_not_offered(ftp_settings):
    verdict = get_transport(dataclasses.replace(ftp_settings, kind="ftps")).test()

    assert (verdict.ok, verdict.message) == (False, "The server does not offer FTPS (it refused AUTH TLS)")


def test_an_unknown_kind_is_a_clear_error(ftp_settings):
    with pytest.raises(TransportError, match="No transport for connection kind 'gopher'"):
        get_transport(dataclasses.replace(ftp_settings, kind="gopher"))


def test_a_busy_server_is_transient(tmp_path):
    root = tmp_path / "busy"
    (root / "in").mkdir(parents=True)
    with servers.FTPServerThread(
        root, "feeds", "pw", max_connections=2
    ) as server:  # the listening socket counts as one
        settings = login_settings("ftp", server)
        with get_transport(settings) as first:
            first.list_files()

            verdict = get_transport(settings).test()
            with pytest.raises(TransientTransportError) as raised:
                get_transport(settings).list_files()

    assert not verdict.ok
    assert verdict.message.startswith("The FTP server is busy, try again later: 421")
    assert raised.value.code == "transport_busy"
