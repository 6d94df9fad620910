"""Real servers on loopback for the transport tests: FTP/FTPS (pyftpdlib), SFTP (asyncssh), IMAP (dovecot)."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
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

    def __init__(
        self,
        root: Path,
        username: str,
        password: str,
        certificate: SelfSignedCertificate | None = None,
        max_connections: int = 0,
    ):
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
        if max_connections:
            self._server.max_cons = max_connections
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


# --- IMAP (dovecot) ---------------------------------------------------------------------------------------

DOVECOT_CONF = """\
protocols = imap
listen = {host}
base_dir = {folder}/run
state_dir = {folder}/state
instance_name = flxhub-test-{port}
log_path = {folder}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
# Wrong passwords are answered at once: no fixed delay, no growing per-IP penalty (tests fail logins on purpose).
auth_failure_delay = 0
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
mail_location = maildir:{folder}/mail/%u
default_internal_user = {internal_user}
default_login_user = {login_user}
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid={mail_uid} gid={mail_gid} home={folder}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = {host}
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
namespace inbox {{
  inbox = yes
  separator = /
}}
"""


def find_dovecot() -> str | None:
    return shutil.which("dovecot") or shutil.which("dovecot", path="/usr/sbin:/usr/local/sbin")


@dataclass
class IMAPServerInfo:
    host: str
    port: int
    password: str  # any user name logs in with it: each test takes its own mailbox
    log_file: Path


class DovecotServer:
    """Debian's dovecot, configured in a temporary folder: IMAP on a free loopback port, Maildir, no TLS.

    Runs in the foreground (``dovecot -F``) as a child process; stopped with SIGTERM. As root, mail is stored as
    ``nobody`` (dovecot refuses to run mail processes as root); as another user, everything runs as that user.
    """

    def __init__(self, password: str):
        self.password = password
        self._process: subprocess.Popen | None = None
        self._folder: Path | None = None

    def __enter__(self) -> IMAPServerInfo:
        binary = find_dovecot()
        if binary is None:
            raise RuntimeError("dovecot is not installed")
        # Not under pytest's tmp_path: dovecot's unprivileged processes must be able to enter the folder.
        self._folder = folder = Path(tempfile.mkdtemp(prefix="flxhub-dovecot-"))
        folder.chmod(0o755)
        if os.geteuid() == 0:
            internal_user, login_user = "dovecot", "dovenull"
            mail_account = pwd.getpwnam("nobody")
        else:
            internal_user = login_user = pwd.getpwuid(os.geteuid()).pw_name
            mail_account = pwd.getpwuid(os.geteuid())
        (folder / "mail").mkdir()
        os.chown(folder / "mail", mail_account.pw_uid, mail_account.pw_gid)
        port = free_port()
        config = folder / "dovecot.conf"
        config.write_text(
            DOVECOT_CONF.format(
                host=LOOPBACK,
                port=port,
                folder=folder,
                password=self.password,
                internal_user=internal_user,
                login_user=login_user,
                mail_uid=mail_account.pw_uid,
                mail_gid=mail_account.pw_gid,
            )
        )
        log_file = folder / "dovecot.log"
        self._process = subprocess.Popen(
            [binary, "-F", "-c", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=(folder / "stderr.log").open("wb"),
        )
        self._wait_until_listening(port, log_file)
        return IMAPServerInfo(LOOPBACK, port, self.password, log_file)

    def _wait_until_listening(self, port: int, log_file: Path) -> None:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                break
            try:
                with socket.create_connection((LOOPBACK, port), timeout=1) as probe:
                    if probe.recv(64).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.05)
        logs = "\n".join(
            path.read_text(errors="replace") for path in (log_file, self._folder / "stderr.log") if path.exists()
        )
        self.__exit__()
        raise RuntimeError(f"dovecot did not start listening on {LOOPBACK}:{port}:\n{logs}")

    def __exit__(self, *exc_info) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None
