"""Login and reachability verdicts shared by the transports that log in over the network (FTP(S), SFTP, IMAP)."""

from __future__ import annotations

import dataclasses

import pytest

from sources.transports import TransientTransportError, TransportError, get_transport


def test_wrong_password_is_a_permanent_error_and_a_plain_verdict(network_settings):
    settings = dataclasses.replace(network_settings, password="not-the-password")

    verdict = get_transport(settings).test()

    assert not verdict.ok
    assert verdict.message == "Wrong username or password"
    assert "not-the-password" not in repr(verdict)
    with pytest.raises(TransportError) as raised:
        get_transport(settings).list_files()
    assert not isinstance(raised.value, TransientTransportError)


def test_unknown_user_gets_the_same_verdict(user_list_settings):
    verdict = get_transport(dataclasses.replace(user_list_settings, username="nobody")).test()

    assert (verdict.ok, verdict.message) == (False, "Wrong username or password")


def test_refused_port_is_unreachable_and_transient(network_settings, closed_port):
    settings = dataclasses.replace(network_settings, port=closed_port)

    verdict = get_transport(settings).test()

    assert not verdict.ok
    assert verdict.message == f"Host unreachable: connection refused on 127.0.0.1:{closed_port}"
    with pytest.raises(TransientTransportError):
        get_transport(settings).list_files()


def test_a_server_that_never_answers_times_out(network_settings, silent_port):
    settings = dataclasses.replace(network_settings, port=silent_port, timeout=0.3)

    verdict = get_transport(settings).test()

    assert not verdict.ok
    assert verdict.message.startswith("Timed out after 0.3 s")
    assert verdict.details["code"] == "transport_timeout"


def test_secrets_stay_out_of_the_settings_repr(network_settings):
    assert network_settings.password not in repr(network_settings)
    assert network_settings.password not in repr(get_transport(network_settings))
