"""Real servers on loopback for the transport tests: FTP/FTPS (pyftpdlib), SFTP (asyncssh), IMAP (dovecot)."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """Return a TCP port on loopback that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


@dataclass
class SelfSignedCertificate:
    certificate_pem: str
    key_pem: str
    certificate_file: Path
    key_file: Path


def make_self_signed_certificate(folder: Path) -> SelfSignedCertificate:
    """Write a fresh self-signed certificate for 127.0.0.1 and localhost (and its key) into ``folder``."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "flxhub test server")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(LOOPBACK)), x509.DNSName("localhost")]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certificate_pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    folder.mkdir(parents=True, exist_ok=True)
    certificate_file, key_file = folder / "server.crt", folder / "server.key"
    certificate_file.write_text(certificate_pem)
    key_file.write_text(key_pem)
    return SelfSignedCertificate(certificate_pem, key_pem, certificate_file, key_file)


# --- FTP / FTPS -------------------------------------------------------------------------------------------


@dataclass
class FTPServerInfo:
    host: str
    port: int
    username: str
    password: str
    root: Path


class FTPServerThread:
    """A pyftpdlib server on a free loopback port, served by its own IOLoop in a daemon thread."""

    def __init__(self, root: Path, username: str, password: str, certificate: SelfSignedCertificate | None = None):
        from pyftpdlib.authorizers import DummyAuthorizer
        from pyftpdlib.ioloop import IOLoop
        from pyftpdlib.servers import FTPServer

        authorizer = DummyAuthorizer()
        authorizer.add_user(username, password, str(root), perm="elradfmwMT")
        # pyftpdlib pauses 3 s after a failed login to slow down guessing; tests need no such pause.
        common = {"authorizer": authorizer, "auth_failed_timeout": 0.01}
        if certificate is None:
            from pyftpdlib.handlers import FTPHandler

            handler = type("TestFTPHandler", (FTPHandler,), {**common, "banner": "flxhub test FTP"})
        else:
            from pyftpdlib.handlers import TLS_FTPHandler

            handler = type(
                "TestFTPSHandler",
                (TLS_FTPHandler,),
                {
                    **common,
                    "banner": "flxhub test FTPS",
                    "certfile": str(certificate.certificate_file),
                    "keyfile": str(certificate.key_file),
                    "tls_control_required": True,
                    "tls_data_required": True,
                    "ssl_context": None,
                },
            )
        self._server = FTPServer((LOOPBACK, 0), handler, ioloop=IOLoop())
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="test-ftp-server", daemon=True)
        self.info = FTPServerInfo(LOOPBACK, self._server.address[1], username, password, root)

    def _serve(self) -> None:
        while not self._stop.is_set():
            self._server.ioloop.loop(0.05, blocking=False)
        self._server.close_all()

    def __enter__(self) -> FTPServerInfo:
        self._thread.start()
        return self.info

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


# --- SFTP -------------------------------------------------------------------------------------------------


@dataclass
class SFTPServerInfo:
    host: str
    port: int
    username: str
    password: str
    root: Path
    host_key: str  # "<type> <base64>", as a connection pins it


class SFTPServerThread:
    """An asyncssh SFTP server chrooted to ``root`` on a free loopback port, in a thread with its own event loop.

    It accepts ``username`` with ``password``, or any of ``client_keys`` (asyncssh public keys).
    """

    def __init__(self, root: Path, username: str, password: str, host_key, client_keys=()):
        self._root = root
        self._username, self._password = username, password
        self._host_key = host_key
        self._client_keys = list(client_keys)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="test-sftp-server", daemon=True)
        self._acceptor = None

    async def _listen(self):
        import asyncssh

        username, password = self._username, self._password

        class PasswordServer(asyncssh.SSHServer):
            def begin_auth(self, user: str) -> bool:
                return True

            def password_auth_supported(self) -> bool:
                return True

            def validate_password(self, user: str, offered: str) -> bool:
                return user == username and offered == password

        authorized = (
            asyncssh.import_authorized_keys(
                "".join(key.export_public_key("openssh").decode() for key in self._client_keys)
            )
            if self._client_keys
            else None
        )
        return await asyncssh.listen(
            LOOPBACK,
            0,
            server_host_keys=[self._host_key],
            server_factory=PasswordServer,
            authorized_client_keys=authorized,
            sftp_factory=lambda channel: asyncssh.SFTPServer(channel, chroot=str(self._root)),
            allow_scp=False,
        )

    def __enter__(self) -> SFTPServerInfo:
        self._thread.start()
        self._acceptor = asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(timeout=10)
        public = self._host_key.export_public_key("openssh").decode().split()
        return SFTPServerInfo(
            LOOPBACK, self._acceptor.get_port(), self._username, self._password, self._root, " ".join(public[:2])
        )

    def __exit__(self, *exc_info) -> None:
        async def stop():
            self._acceptor.close()
            await self._acceptor.wait_closed()
            # Sessions a test left open would otherwise die with the loop, mid-task.
            others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in others:
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)

        if self._acceptor is not None:
            asyncio.run_coroutine_threadsafe(stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
