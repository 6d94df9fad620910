"""The registry: every connection kind with bytes to move has a transport that follows the protocol."""

from __future__ import annotations

import pytest

from flxhub.exceptions import ApplicationError, TransientError
from sources.transports import ConnectionSettings, Transport, get_transport
from sources.transports.base import TRANSPORTS, TransientTransportError, TransportError


@pytest.mark.parametrize("kind", sorted(TRANSPORTS))
def test_each_kind_gets_a_transport_that_follows_the_protocol(kind):
    transport = get_transport(ConnectionSettings(kind=kind, host="127.0.0.1", path="/in", url="http://127.0.0.1/f"))

    assert isinstance(transport, Transport)
    assert transport.kind in kind


def test_transport_errors_belong_to_the_application_hierarchy():
    assert issubclass(TransportError, ApplicationError)
    assert issubclass(TransientTransportError, TransientError)
    assert issubclass(TransientTransportError, TransportError)
    assert not issubclass(TransportError, TransientError)


def test_settings_keep_secrets_out_of_their_repr():
    settings = ConnectionSettings(
        kind="sftp", password="pw-1", private_key="-----BEGIN KEY-----", passphrase="pp-1", options={"token": "tk-1"}
    )

    assert not any(secret in repr(settings) for secret in ("pw-1", "BEGIN KEY", "pp-1", "tk-1"))
