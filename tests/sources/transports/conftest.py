"""Fixtures that start real servers on loopback for the transport tests; none of them touches the database."""

from __future__ import annotations

import os
import socket
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

from sources.transports import ConnectionSettings
from tests.sources.transports import servers

FEED = b"sku;quantity\nUSD-1;5\nUSD-2;0\n"


@pytest.fixture(scope="session")
def certificate(tmp_path_factory) -> servers.SelfSignedCertificate:
    return servers.make_self_signed_certificate(tmp_path_factory.mktemp("tls"))


def seed_folder(root: Path) -> None:
    """Give a server root an ``in`` folder with two feeds and a stray file the tests' patterns leave out."""
    (root / "in").mkdir(parents=True)
    (root / "in" / "inventory.csv").write_bytes(FEED)
    (root / "in" / "prices.csv").write_bytes(b"sku;cost\nUSD-1;9,50\n")
    (root / "in" / "readme.txt").write_bytes(b"not a feed")


@pytest.fixture
def ftp_server(tmp_path):
    root = tmp_path / "ftp"
    seed_folder(root)
    with servers.FTPServerThread(root, "feeds", "s3cret-ftp") as info:
        yield info


@pytest.fixture
def ftps_server(tmp_path, certificate):
    try:
        import OpenSSL  # noqa: F401 -- pyftpdlib's TLS handler needs pyOpenSSL
    except ImportError:
        pytest.fail("The FTPS test server needs pyOpenSSL: pip install pyopenssl (a dev dependency)")
    root = tmp_path / "ftps"
    seed_folder(root)
    with servers.FTPServerThread(root, "feeds", "s3cret-ftps", certificate=certificate) as info:
        yield info


def login_settings(kind: str, server, **changes) -> ConnectionSettings:
    """Return settings that log in to a test ``server`` with its user and password, a 5 s timeout and ``changes``."""
    fields = {"username": getattr(server, "username", ""), "password": server.password, "path": "/in", "timeout": 5}
    return ConnectionSettings(kind=kind, host=server.host, port=server.port, **{**fields, **changes})


@pytest.fixture
def ftp_settings(ftp_server) -> ConnectionSettings:
    return login_settings("ftp", ftp_server)


@pytest.fixture
def ftps_settings(ftps_server, certificate) -> ConnectionSettings:
    return login_settings("ftps", ftps_server, options={"ca_cert": certificate.certificate_pem})


@dataclass
class SSHKeys:
    """Key material for the SFTP tests, made once per session (RSA generation is slow)."""

    server_key: object
    other_server_key: object
    other_server_host_key: str
    ed25519_private: str
    ecdsa_private: str
    rsa_private: str
    encrypted_private: str
    passphrase: str
    unknown_private: str
    client_public_keys: list


@pytest.fixture(scope="session")
def ssh_keys() -> SSHKeys:
    import asyncssh

    ed25519 = asyncssh.generate_private_key("ssh-ed25519")
    ecdsa = asyncssh.generate_private_key("ecdsa-sha2-nistp256")
    rsa = asyncssh.generate_private_key("ssh-rsa", key_size=2048)
    encrypted = asyncssh.generate_private_key("ssh-ed25519")
    other_server_key = asyncssh.generate_private_key("ssh-ed25519")
    with warnings.catch_warnings():
        # Few key-derivation rounds keep the tests fast; bcrypt warns that this is weak, which is fine for a test key.
        warnings.simplefilter("ignore", UserWarning)
        encrypted_private = encrypted.export_private_key("openssh", passphrase="open sesame", rounds=4).decode()
    return SSHKeys(
        server_key=asyncssh.generate_private_key("ssh-ed25519"),
        other_server_key=other_server_key,
        other_server_host_key=" ".join(other_server_key.export_public_key("openssh").decode().split()[:2]),
        ed25519_private=ed25519.export_private_key("openssh").decode(),
        ecdsa_private=ecdsa.export_private_key("pkcs1-pem").decode(),
        rsa_private=rsa.export_private_key("pkcs1-pem").decode(),
        encrypted_private=encrypted_private,
        passphrase="open sesame",
        unknown_private=asyncssh.generate_private_key("ssh-ed25519").export_private_key("openssh").decode(),
        client_public_keys=[ed25519, ecdsa, rsa, encrypted],
    )


@pytest.fixture
def sftp_server(tmp_path, ssh_keys):
    root = tmp_path / "sftp"
    seed_folder(root)
    with servers.SFTPServerThread(
        root, "feeds", "s3cret-sftp", ssh_keys.server_key, client_keys=ssh_keys.client_public_keys
    ) as info:
        yield info


@pytest.fixture
def sftp_settings(sftp_server) -> ConnectionSettings:
    return login_settings("sftp", sftp_server, pinned_host_key=sftp_server.host_key)


@pytest.fixture
def upload_settings(tmp_path) -> ConnectionSettings:
    root = tmp_path / "upload"
    seed_folder(root)
    return ConnectionSettings(kind="upload", path=str(root / "in"))


@dataclass
class FileServer:
    """A transport's settings and the local folder its server serves as ``settings.path``, to look behind its back."""

    settings: ConnectionSettings
    folder: Path


@pytest.fixture(params=["ftp", "ftps", "sftp", "upload"])
def file_server(request) -> FileServer:
    """Each transport that keeps files in a folder, against its real server."""
    settings = request.getfixturevalue(f"{request.param}_settings")
    if request.param == "upload":
        return FileServer(settings, Path(settings.path))
    server = request.getfixturevalue(f"{request.param}_server")
    return FileServer(settings, server.root / "in")


@pytest.fixture(params=["ftp", "ftps", "sftp", "imap"])
def network_settings(request) -> ConnectionSettings:
    """Each transport that logs in to a server over the network."""
    return request.getfixturevalue(f"{request.param}_settings")


@pytest.fixture(params=["ftp", "ftps", "sftp"])
def user_list_settings(request) -> ConnectionSettings:
    """Each transport whose test server knows only its one user (dovecot's test setup lets any user name in)."""
    return request.getfixturevalue(f"{request.param}_settings")


@pytest.fixture
def silent_port():
    """A loopback port that accepts connections and never says a word, to make clients time out."""
    with socket.socket() as listener:
        listener.bind((servers.LOOPBACK, 0))
        listener.listen(8)
        yield listener.getsockname()[1]


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on: connecting is refused."""
    return servers.free_port()


@pytest.fixture(scope="session")
def dovecot():
    """Debian's dovecot on loopback for the whole session; each test logs in as its own user, to its own mailbox."""
    if servers.find_dovecot() is None:
        if os.environ.get("FLXHUB_SKIP_DOVECOT") == "1":
            pytest.skip("dovecot is not installed and FLXHUB_SKIP_DOVECOT=1")
        pytest.fail(
            "dovecot is not installed: the IMAP tests need Debian's dovecot-imapd "
            "(apt-get install -y dovecot-imapd, listed in .ci/apt-packages.txt); set FLXHUB_SKIP_DOVECOT=1 to skip them"
        )
    with servers.DovecotServer(password="s3cret-imap") as info:
        yield info


@pytest.fixture
def imap_settings(dovecot) -> ConnectionSettings:
    return login_settings("imap", dovecot, username=f"feeds-{uuid.uuid4().hex[:12]}", path="INBOX")
