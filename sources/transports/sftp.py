"""SFTP with paramiko: password or private key login, and the server's host key pinned, never trusted blindly."""

from __future__ import annotations

import base64
import contextlib
import errno
import hashlib
import io
import posixpath
import socket
import stat
from datetime import UTC, datetime
from typing import IO, Any, BinaryIO

import paramiko
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from sources.transports.base import (
    CHUNK_BYTES,
    BaseTransport,
    RemoteFile,
    TransientTransportError,
    TransportError,
    archive_name,
    check_name,
    matches,
    network_error,
    read_chunks,
    temporary_name,
)

PRIVATE_KEY_CLASSES = {
    ed25519.Ed25519PrivateKey: paramiko.Ed25519Key,
    ec.EllipticCurvePrivateKey: paramiko.ECDSAKey,
    rsa.RSAPrivateKey: paramiko.RSAKey,
}
# The host key algorithms to ask for first when a key of that type is pinned, so the server offers that very key.
HOST_KEY_ALGORITHMS = {"ssh-rsa": ("rsa-sha2-512", "rsa-sha2-256", "ssh-rsa")}


def host_key_text(key: paramiko.PKey) -> str:
    """Return ``key`` as ``<type> <base64>``, the form ``ConnectionSettings.pinned_host_key`` stores."""
    return f"{key.get_name()} {key.get_base64()}"


def fingerprint(key_blob: bytes) -> str:
    """Return the OpenSSH SHA256 fingerprint (``SHA256:…``) of a public key blob."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(key_blob).digest()).decode().rstrip("=")


def parse_pinned_host_key(pinned: str) -> tuple[str, str]:
    """Return ``(key type, fingerprint)`` of a pin written as ``<type> <base64>``, a known_hosts line or ``SHA256:…``.

    The key type is empty for a bare fingerprint. Raises TransportError when the pin cannot be read.
    """
    tokens = pinned.split()
    if len(tokens) == 1 and tokens[0].startswith("SHA256:"):
        return "", tokens[0]
    for index, token in enumerate(tokens[:-1]):
        if token.startswith(("ssh-", "ecdsa-", "sk-")):
            try:
                blob = base64.b64decode(tokens[index + 1], validate=True)
            except ValueError:
                break
            return token, fingerprint(blob)
    raise TransportError(
        "The pinned host key cannot be read: expected '<key type> <base64>' or 'SHA256:<fingerprint>'",
        code="transport_bad_host_key",
    )


def load_private_key(text: str, passphrase: str = "") -> paramiko.PKey:
    """Return the private key in ``text`` (RSA, ECDSA or Ed25519; PEM, PKCS#8 or OpenSSH format).

    ``passphrase`` decrypts an encrypted key and is ignored for a plain one. The key is decrypted once, by
    cryptography, and handed to the paramiko class of its type (guessing the class would run the slow
    OpenSSH key derivation once per guess).
    """
    data = text.strip().encode() + b"\n"
    password = passphrase.encode() or None
    try:
        key = _load_cryptography_key(data, password)
    except TypeError:
        if password is None:
            raise TransportError(
                "The private key is encrypted: enter its passphrase", code="transport_key_passphrase"
            ) from None
        key = _load_cryptography_key(data, None)
    except (ValueError, UnsupportedAlgorithm):
        if password is not None and _is_encrypted(data):
            raise TransportError("The private key's passphrase is wrong", code="transport_key_passphrase") from None
        raise TransportError(
            "The private key cannot be read: expected an RSA, ECDSA or Ed25519 key in PEM or OpenSSH format",
            code="transport_bad_private_key",
        ) from None
    for key_type, key_class in PRIVATE_KEY_CLASSES.items():
        if isinstance(key, key_type):
            plain = key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
            )
            return key_class.from_private_key(io.StringIO(plain.decode()))
    raise TransportError(
        f"Private keys of type {type(key).__name__} are not supported: use RSA, ECDSA or Ed25519",
        code="transport_bad_private_key",
    )


def _load_cryptography_key(data: bytes, password: bytes | None):
    if b"OPENSSH PRIVATE KEY" in data:
        return serialization.load_ssh_private_key(data, password)
    return serialization.load_pem_private_key(data, password)


def _is_encrypted(data: bytes) -> bool:
    try:
        _load_cryptography_key(data, None)
    except TypeError:
        return True
    except (ValueError, UnsupportedAlgorithm):
        return False
    return False


class SFTPTransport(BaseTransport):
    """Files in one folder of an SFTP server.

    Settings: host, port (22), username, password or private_key (+ passphrase), pinned_host_key, path,
    timeout, max_bytes. Every connection checks the server's host key against ``pinned_host_key``; with no pin
    only Test Connection may connect, and it reports the key in ``details["host_key"]`` for the caller to pin.
    """

    kind = "sftp"

    def __init__(self, settings):
        super().__init__(settings)
        self._ssh: paramiko.Transport | None = None
        self._sftp: paramiko.SFTPClient | None = None
        self._home = ""
        self.host_key: paramiko.PKey | None = None

    @property
    def port(self) -> int:
        return self.settings.port or 22

    def close(self) -> None:
        sftp, ssh, self._sftp, self._ssh = self._sftp, self._ssh, None, None
        if sftp is not None:
            with contextlib.suppress(OSError, EOFError, paramiko.SSHException):
                sftp.close()
        if ssh is not None:
            ssh.close()

    def connect(self, *, allow_unpinned: bool = False) -> paramiko.SFTPClient:
        """Return the SFTP session, connecting, checking the host key, logging in and entering the folder if needed.

        ``allow_unpinned`` lets Test Connection reach a server whose key has not been pinned yet.
        """
        if self._sftp is not None:
            return self._sftp
        settings = self.settings
        pinned_type, pinned_fingerprint = ("", "")
        if settings.pinned_host_key:
            pinned_type, pinned_fingerprint = parse_pinned_host_key(settings.pinned_host_key)
        elif not allow_unpinned:
            raise TransportError(
                f"No host key is pinned for {settings.host}:{self.port}: "
                "run Test Connection and save the host key it reports",
                code="transport_host_key_unpinned",
            )
        with self.errors():
            sock = socket.create_connection((settings.host, self.port), timeout=settings.timeout)
            self._ssh = ssh = paramiko.Transport(sock)
            ssh.banner_timeout = ssh.handshake_timeout = ssh.auth_timeout = settings.timeout
            if pinned_type:
                options = ssh.get_security_options()
                known = options.key_types
                preferred = [name for name in HOST_KEY_ALGORITHMS.get(pinned_type, (pinned_type,)) if name in known]
                options.key_types = [*preferred, *(name for name in known if name not in preferred)]
            # Twice the timeout, so the banner and handshake timeouts fire first and say what was awaited.
            ssh.start_client(timeout=settings.timeout * 2)
            if not ssh.initial_kex_done:
                raise TimeoutError
            self.host_key = ssh.get_remote_server_key()
            offered = fingerprint(self.host_key.asbytes())
            if pinned_fingerprint and offered != pinned_fingerprint:
                raise TransportError(
                    f"The server's host key has changed since it was pinned: pinned {pinned_fingerprint}, "
                    f"offered {offered} — refusing to connect",
                    code="transport_host_key_changed",
                    details={"pinned_fingerprint": pinned_fingerprint, "offered_fingerprint": offered},
                )
            self._log_in(ssh)
            sftp = paramiko.SFTPClient.from_transport(ssh)
            sftp.get_channel().settimeout(settings.timeout)
            if settings.path:
                with self.errors(missing=f"Folder {settings.path} does not exist"):
                    sftp.chdir(settings.path)
            self._home = sftp.normalize(".")
        # Only a session that reached its folder is kept: a half-made one would work in the wrong place.
        self._sftp = sftp
        return sftp

    def _log_in(self, ssh: paramiko.Transport) -> None:
        settings = self.settings
        if settings.private_key:
            key = load_private_key(settings.private_key, settings.passphrase)
            try:
                ssh.auth_publickey(settings.username, key)
            except paramiko.BadAuthenticationType as error:
                raise self._refused_method("key", error.allowed_types) from None
            except paramiko.AuthenticationException:
                raise TransportError(
                    f"The server refused the private key for user {settings.username}", code="transport_auth_failed"
                ) from None
            return
        try:
            try:
                ssh.auth_password(settings.username, settings.password)
            except paramiko.BadAuthenticationType as error:
                if "keyboard-interactive" not in error.allowed_types:
                    raise self._refused_method("password", error.allowed_types) from None
                ssh.auth_interactive(
                    settings.username, lambda title, instructions, prompts: [settings.password] * len(prompts)
                )
        except paramiko.AuthenticationException:
            raise TransportError("Wrong username or password", code="transport_auth_failed") from None

    @staticmethod
    def _refused_method(method: str, allowed: list[str]) -> TransportError:
        return TransportError(
            f"The server does not accept {method} login (it accepts: {', '.join(allowed) or 'nothing'})",
            code="transport_auth_failed",
        )

    @contextlib.contextmanager
    def errors(self, *, missing: str = ""):
        """Translate paramiko and socket errors into TransportErrors; drop the connection after a network failure."""
        try:
            yield
        except TransportError:
            if self._sftp is None:  # failed while connecting
                self.close()
            raise
        except paramiko.SSHException as error:
            self.close()
            # paramiko's reader thread turns socket failures into SSHExceptions; the socket's error says more.
            cause = error.__cause__ or error.__context__
            if isinstance(cause, OSError | EOFError):
                raise network_error(
                    cause, host=self.settings.host, port=self.port, timeout=self.settings.timeout
                ) from None
            raise TransientTransportError(
                f"The SSH session with {self.settings.host}:{self.port} failed: {error}", code="transport_ssh_failed"
            ) from None
        except OSError as error:
            # paramiko turns SFTP status replies into OSErrors: ENOENT, EACCES, or no errno for the rest.
            if error.errno == errno.ENOENT:
                raise TransportError(missing or f"Not found: {error}", code="transport_not_found") from None
            if error.errno == errno.EACCES:
                raise TransportError(
                    f"Permission denied by the SFTP server: {error}", code="transport_refused"
                ) from None
            if error.errno is None and not isinstance(error, TimeoutError):
                if self._session_lost():
                    # paramiko says "Socket is closed" when the connection went away under it: the network.
                    self.close()
                    raise TransientTransportError(
                        f"The connection to {self.settings.host}:{self.port} was lost: {error}", code="transport_reset"
                    ) from None
                raise TransportError(f"The SFTP server refused: {error}", code="transport_refused") from None
            self.close()
            raise network_error(error, host=self.settings.host, port=self.port, timeout=self.settings.timeout) from None
        except EOFError as error:
            self.close()
            raise network_error(error, host=self.settings.host, port=self.port, timeout=self.settings.timeout) from None

    def _session_lost(self) -> bool:
        """Whether the SSH connection or the SFTP channel is gone (a status reply from the server leaves both up)."""
        sftp, ssh = self._sftp, self._ssh
        if ssh is None:
            return False  # nothing to judge by
        return not ssh.is_active() or (sftp is not None and sftp.get_channel().closed)

    def list_files(self, pattern: str = "*") -> list[RemoteFile]:
        sftp = self.connect()
        with self.errors():
            entries = [
                RemoteFile(attributes.filename, attributes.st_size, _modified(attributes))
                for attributes in sftp.listdir_attr(".")
                if stat.S_ISREG(attributes.st_mode or 0) and matches(attributes.filename, pattern)
            ]
        return sorted(entries, key=lambda entry: (entry.modified or datetime.min.replace(tzinfo=UTC), entry.name))

    def exists(self, name: str) -> bool:
        sftp = self.connect()
        with self.errors():
            return self._is_file(sftp, check_name(name))

    @staticmethod
    def _is_file(sftp: paramiko.SFTPClient, path: str) -> bool:
        try:
            return stat.S_ISREG(sftp.stat(path).st_mode or 0)
        except FileNotFoundError:
            return False

    def download(self, name: str) -> IO[bytes]:
        sftp = self.connect()
        missing = f"File {name} does not exist in {self._home}"
        with self.errors(missing=missing):
            attributes = sftp.stat(check_name(name))
            if not stat.S_ISREG(attributes.st_mode or 0):
                raise TransportError(missing, code="transport_not_found")
            self.check_size(name, attributes.st_size)
            with sftp.open(name, "rb") as remote:
                remote.prefetch(attributes.st_size)
                return self.spool(iter(lambda: remote.read(CHUNK_BYTES), b""), name)

    def put(self, name: str, data: bytes | BinaryIO) -> None:
        sftp = self.connect()
        partial = temporary_name(check_name(name))
        try:
            with self.errors():
                with sftp.open(partial, "wb") as remote:
                    remote.set_pipelined(True)
                    stream = read_chunks(data)
                    for chunk in iter(lambda: stream.read(CHUNK_BYTES), b""):
                        remote.write(chunk)
                self._rename_over(sftp, partial, name)
        except BaseException:
            if self._sftp is not None:
                with contextlib.suppress(OSError):
                    sftp.remove(partial)
            raise

    @staticmethod
    def _rename_over(sftp: paramiko.SFTPClient, source: str, target: str) -> None:
        # posix-rename replaces the target in one step; servers without that extension need the target gone first.
        try:
            sftp.posix_rename(source, target)
        except OSError:
            with contextlib.suppress(FileNotFoundError):
                sftp.remove(target)
            sftp.rename(source, target)

    def move(self, name: str, folder: str) -> str:
        sftp = self.connect()
        check_name(name)
        folder = posixpath.normpath(folder)
        with self.errors(missing=f"File {name} does not exist in {self._home}"):
            self._make_folders(sftp, folder)
            target = archive_name(name, taken=self._is_file(sftp, f"{folder}/{name}"))
            sftp.rename(name, f"{folder}/{target}")
            return sftp.normalize(f"{folder}/{target}")

    @staticmethod
    def _make_folders(sftp: paramiko.SFTPClient, folder: str) -> None:
        prefix = "/" if folder.startswith("/") else ""
        for part in folder.strip("/").split("/"):
            prefix = f"{prefix}{part}/"
            try:
                sftp.stat(prefix)
            except FileNotFoundError:
                sftp.mkdir(prefix)

    def check(self) -> tuple[str, dict[str, Any]]:
        self.connect(allow_unpinned=True)
        files = self.list_files()
        key_fingerprint = fingerprint(self.host_key.asbytes())
        details = {
            "files": len(files),
            "folder": self._home,
            "host_key": host_key_text(self.host_key),
            "host_key_fingerprint": key_fingerprint,
            "host_key_pinned": bool(self.settings.pinned_host_key),
        }
        key_note = (
            f"host key {key_fingerprint} matches the pin"
            if self.settings.pinned_host_key
            else f"host key {key_fingerprint} seen for the first time; a passing Test Connection pins it"
        )
        message = f"{self.connected_message('SFTP', self._home, len(files))}; {key_note}"
        return message, details


def _modified(attributes: paramiko.SFTPAttributes) -> datetime | None:
    return datetime.fromtimestamp(attributes.st_mtime, UTC) if attributes.st_mtime is not None else None
