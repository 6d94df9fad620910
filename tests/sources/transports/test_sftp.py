"""SFTP against a real asyncssh server: host key pinning and private key logins."""

from __future__ import annotations

import dataclasses

import pytest

from sources.transports import TransportError, get_transport
from sources.transports.sftp import fingerprint, parse_pinned_host_key
from tests.sources.transports import servers
from tests.sources.transports.conftest import FEED


def test_first_test_without_a_pin_reports_the_host_key_to_pin(sftp_settings, sftp_server):
    verdict = get_transport(dataclasses.replace(sftp_settings, pinned_host_key="")).test()

    assert verdict.ok, verdict.message
    assert verdict.details["host_key"] == sftp_server.host_key
    assert verdict.details["host_key_pinned"] is False
    assert verdict.details["host_key_fingerprint"].startswith("SHA256:")
    assert "seen for the first time" in verdict.message

    pinned = dataclasses.replace(sftp_settings, pinned_host_key=verdict.details["host_key"])
    with get_transport(pinned) as transport:
        assert transport.fetch("inventory.csv") == FEED


def test_without_a_pin_only_test_connection_may_connect(sftp_settings):
    with pytest.raises(TransportError, match="No host key is pinned") as raised:
        get_transport(dataclasses.replace(sftp_settings, pinned_host_key="")).list_files()

    assert raised.value.code == "transport_host_key_unpinned"


def test_a_changed_host_key_is_refused(sftp_settings, sftp_server, ssh_keys, tmp_path):
    # The server that answers on the pinned address now has another key: the old server is replaced.
    moved = servers.SFTPServerThread(tmp_path / "sftp", "feeds", "s3cret-sftp", ssh_keys.other_server_key)
    with moved as impostor:
        settings = dataclasses.replace(sftp_settings, port=impostor.port)

        verdict = get_transport(settings).test()
        with pytest.raises(TransportError) as raised:
            get_transport(settings).fetch("inventory.csv")

    pinned = parse_pinned_host_key(sftp_server.host_key)[1]
    offered = parse_pinned_host_key(impostor.host_key)[1]
    assert not verdict.ok
    assert verdict.message == (
        f"The server's host key has changed since it was pinned: pinned {pinned}, offered {offered} "
        "— refusing to connect"
    )
    assert verdict.details["offered_fingerprint"] == offered
    assert raised.value.code == "transport_host_key_changed"


def test_a_pin_may_be_a_fingerprint_or_a_known_hosts_line(sftp_settings, sftp_server):
    key_type, blob = sftp_server.host_key.split()
    for pin in (parse_pinned_host_key(sftp_server.host_key)[1], f"[127.0.0.1]:22 {key_type} {blob} comment"):
        assert get_transport(dataclasses.replace(sftp_settings, pinned_host_key=pin)).test().ok


def test_an_unreadable_pin_is_a_clear_error(sftp_settings):
    verdict = get_transport(dataclasses.replace(sftp_settings, pinned_host_key="not a key")).test()

    assert not verdict.ok
    assert verdict.message.startswith("The pinned host key cannot be read")


def test_fingerprint_matches_openssh_form():
    # The SHA-256 of no bytes, in base64 without the trailing "=", as OpenSSH prints fingerprints.
    assert fingerprint(b"") == "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"


@pytest.mark.parametrize("key_name", ["ed25519_private", "ecdsa_private", "rsa_private"])
def test_logs_in_with_a_private_key(sftp_settings, ssh_keys, key_name):
    settings = dataclasses.replace(sftp_settings, password="", private_key=getattr(ssh_keys, key_name))

    with get_transport(settings) as transport:
        assert transport.fetch("inventory.csv") == FEED


def test_an_encrypted_private_key_needs_its_passphrase(sftp_settings, ssh_keys):
    settings = dataclasses.replace(sftp_settings, password="", private_key=ssh_keys.encrypted_private)

    missing = get_transport(settings).test()
    wrong = get_transport(dataclasses.replace(settings, passphrase="guess")).test()
    right = get_transport(dataclasses.replace(settings, passphrase=ssh_keys.passphrase)).test()

    assert (missing.ok, missing.message) == (False, "The private key is encrypted: enter its passphrase")
    assert (wrong.ok, wrong.message) == (False, "The private key's passphrase is wrong")
    assert right.ok, right.message


def test_a_key_the_server_does_not_know_is_refused(sftp_settings, ssh_keys):
    settings = dataclasses.replace(sftp_settings, password="", private_key=ssh_keys.unknown_private)

    verdict = get_transport(settings).test()

    assert (verdict.ok, verdict.message) == (False, "The server refused the private key for user feeds")


def test_text_that_is_no_key_is_a_clear_error(sftp_settings):
    verdict = get_transport(dataclasses.replace(sftp_settings, private_key="-----BEGIN NONSENSE-----")).test()

    assert not verdict.ok
    assert verdict.message.startswith("The private key cannot be read")


def test_a_session_lost_mid_transfer_is_a_transient_error_whatever_paramiko_raises(sftp_settings):
    """A dropped connection can surface as EOFError, SSHException or an OSError without errno ("Socket is
    closed"); all three mean the network, not a refusal by the server, so the run is retried."""
    from sources.transports import TransientTransportError

    with get_transport(sftp_settings) as transport:
        sftp = transport.connect()
        sftp.get_channel().close()  # the channel goes away under the session, as when the server aborts
        with pytest.raises(TransientTransportError):
            transport.put("after-drop.csv", b"sku\nA\n")
