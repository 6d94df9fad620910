"""A real SFTP server on loopback with an inventory feed, for the onboarding tests (loaded with ``pytest_plugins``).

It reuses the transport tests' server (tests/sources/transports/servers.py) with its own fixtures, so those tests'
conftest stays theirs.
"""

from __future__ import annotations

import pytest

from tests.sources.transports import servers

SFTP_USER, SFTP_PASSWORD = "acme-feeds", "s3cret-sftp-onboarding"
FEED_ROWS = [
    ("sku", "title", "brand", "cost", "quantity"),
    *[(f"AC-{n:03d}", f"Anvil {n}", "Acme", f"{10 + n}.50", str(n % 7)) for n in range(1, 41)],
]


def feed_bytes(rows=FEED_ROWS) -> bytes:
    return "".join(",".join(row) + "\n" for row in rows).encode()


@pytest.fixture(scope="session")
def onboarding_host_key():
    import asyncssh

    return asyncssh.generate_private_key("ssh-ed25519")


@pytest.fixture
def onboarding_sftp(tmp_path, onboarding_host_key):
    """An SFTP server whose ``/outgoing`` folder holds ``inventory_20250101.csv`` (40 variants) and a stray file."""
    root = tmp_path / "sftp-onboarding"
    (root / "outgoing").mkdir(parents=True)
    (root / "outgoing" / "inventory_20250101.csv").write_bytes(feed_bytes())
    (root / "outgoing" / "readme.txt").write_bytes(b"not a feed")
    with servers.SFTPServerThread(root, SFTP_USER, SFTP_PASSWORD, onboarding_host_key) as info:
        yield info
