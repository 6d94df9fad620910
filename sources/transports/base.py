"""What every transport shares: connection settings, the Transport protocol, errors, verdicts and the registry.

Transports move bytes between flxhub and a source; they know nothing of the database or of Django models.
A caller builds a ``ConnectionSettings`` (the Connection model does), asks ``get_transport`` for the transport
of its kind and uses it as a context manager::

    with get_transport(settings) as transport:
        for remote_file in transport.list_files("*.csv"):
            data = transport.fetch(remote_file.name)
"""

from __future__ import annotations

import errno
import fnmatch
import importlib
import logging
import posixpath
import socket
import ssl
import tempfile
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any, BinaryIO, Protocol, runtime_checkable

from flxhub.exceptions import ApplicationError, TransientError

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_BYTES = 1024 * 1024 * 1024
# Below this a downloaded file stays in memory; above it the spool moves to a temporary file on disk.
SPOOL_IN_MEMORY_BYTES = 8 * 1024 * 1024
CHUNK_BYTES = 64 * 1024


class TransportError(ApplicationError):
    """A permanent transport failure: retrying will not help until someone changes something."""

    code = "transport_error"
    http_status = 502


class TransientTransportError(TransportError, TransientError):
    """A transport failure worth retrying later: timeouts, resets, busy servers."""

    code = "transport_transient_error"
    http_status = 503


@dataclass
class ConnectionSettings:
    """Everything a transport needs to reach one source; secrets stay out of ``repr``."""

    kind: str
    host: str = ""
    port: int | None = None
    username: str = ""
    password: str = field(default="", repr=False)
    private_key: str = field(default="", repr=False)
    passphrase: str = field(default="", repr=False)
    pinned_host_key: str = ""
    path: str = ""
    url: str = ""
    tls: bool = False
    passive: bool = True
    timeout: float = DEFAULT_TIMEOUT
    max_bytes: int = DEFAULT_MAX_BYTES
    options: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class RemoteFile:
    """One file a transport can fetch: its name (relative to the connection's folder), size and modification time."""

    name: str
    size: int | None = None
    modified: datetime | None = None


@dataclass
class TestVerdict:
    """The answer to Test Connection: ``ok``, one sentence a person understands, and facts worth keeping."""

    __test__ = False  # not a pytest test class

    ok: bool
    message: str
    details: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Transport(Protocol):
    """Moves bytes between flxhub and one source's folder, feed or mailbox."""

    settings: ConnectionSettings
    can_put: bool
    can_move: bool

    def list_files(self, pattern: str = "*") -> list[RemoteFile]:
        """Return the files whose names match the glob ``pattern``, oldest first."""

    def download(self, name: str) -> IO[bytes]:
        """Return the file as a binary stream at position 0 (spooled to disk when large); the caller closes it."""

    def fetch(self, name: str) -> bytes:
        """Return the file's bytes; raises TransportError when it is larger than ``settings.max_bytes``."""

    def put(self, name: str, data: bytes | BinaryIO) -> None:
        """Store ``data`` under ``name`` atomically: readers see the old file or the whole new one, never a part."""

    def move(self, name: str, folder: str) -> str:
        """Move the file into ``folder`` (created if missing) and return its new path."""

    def exists(self, name: str) -> bool:
        """Return whether a file called ``name`` exists."""

    def test(self) -> TestVerdict:
        """Connect, log in and look at the folder; never raises for a transport failure."""

    def close(self) -> None:
        """Close the connection, if one is open."""


class BaseTransport:
    """Shared behaviour: lazy connection, context manager, size-limited spooling, Test Connection."""

    kind = ""
    can_put = True
    can_move = True

    def __init__(self, settings: ConnectionSettings):
        self.settings = settings

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.describe()}>"

    def describe(self) -> str:
        """Say where this transport points, without secrets."""
        return f"{self.settings.host}:{self.port}{self.settings.path}"

    @property
    def port(self) -> int | None:
        return self.settings.port

    def close(self) -> None:
        pass

    def fetch(self, name: str) -> bytes:
        with self.download(name) as stream:
            return stream.read()

    def download(self, name: str) -> IO[bytes]:
        raise NotImplementedError

    def put(self, name: str, data: bytes | BinaryIO) -> None:
        raise TransportError(f"{self.kind.upper()} connections cannot store files", code="transport_unsupported")

    def move(self, name: str, folder: str) -> str:
        raise TransportError(f"{self.kind.upper()} connections cannot move files", code="transport_unsupported")

    def test(self) -> TestVerdict:
        """Run ``check`` on a fresh connection and turn its outcome into a verdict."""
        self.close()
        try:
            message, details = self.check()
        except TransportError as error:
            return TestVerdict(ok=False, message=error.message, details={"code": error.code, **error.details})
        finally:
            self.close()
        return TestVerdict(ok=True, message=message, details=details)

    def check(self) -> tuple[str, dict[str, Any]]:
        """Connect, log in and look at the folder; return a success message and details, or raise TransportError."""
        raise NotImplementedError

    def connected_message(self, protocol: str, folder: str, file_count: int) -> str:
        """Return the Test Connection sentence for a successful login to a folder of ``file_count`` files."""
        plural = "" if file_count == 1 else "s"
        user = self.settings.username or "anonymous"
        return (
            f"Connected to {self.settings.host}:{self.port} over {protocol} as {user}; "
            f"folder {folder} has {file_count} file{plural}"
        )

    def spool(self, chunks: Iterable[bytes], name: str, size: int | None = None) -> IO[bytes]:
        """Copy ``chunks`` into a spooled temporary file, refusing more than ``settings.max_bytes``."""
        self.check_size(name, size)
        spooled = new_spool()
        try:
            written = 0
            for chunk in chunks:
                written += len(chunk)
                self.check_size(name, written)
                spooled.write(chunk)
        except BaseException:
            spooled.close()
            raise
        spooled.seek(0)
        return spooled

    def check_size(self, name: str, size: int | None) -> None:
        """Raise TransportError when ``size`` is known and over ``settings.max_bytes``."""
        if size is not None and size > self.settings.max_bytes:
            raise FileTooLarge(name, self.settings.max_bytes)


class FileTooLarge(TransportError):
    code = "transport_file_too_large"

    def __init__(self, name: str, max_bytes: int):
        super().__init__(
            f"{name} is larger than the limit of {format_size(max_bytes)}",
            details={"name": name, "max_bytes": max_bytes},
        )


def new_spool() -> tempfile.SpooledTemporaryFile:
    return tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY_BYTES, mode="w+b")


def read_chunks(data: bytes | BinaryIO) -> BinaryIO:
    """Return ``data`` as a readable binary stream (bytes are wrapped; streams are returned as they are)."""
    if isinstance(data, bytes | bytearray | memoryview):
        spooled = new_spool()
        spooled.write(data)
        spooled.seek(0)
        return spooled
    return data


def tls_context(options: dict[str, Any]) -> ssl.SSLContext:
    """Return a TLS client context: the system's trust store plus ``options["ca_cert"]`` (PEM text), checking
    certificates and host names unless ``options["verify_tls"]`` is false."""
    context = ssl.create_default_context(cadata=options.get("ca_cert") or None)
    if not options.get("verify_tls", True):
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def check_name(name: str) -> str:
    """Return ``name`` if it is a plain file name (no folder part, no ``..``); raise TransportError otherwise."""
    if not name or name in {".", ".."} or "/" in name or "\\" in name or "\x00" in name:
        raise TransportError(f"Not a plain file name: {name!r}", code="transport_bad_name")
    return name


def matches(name: str, pattern: str) -> bool:
    """Return whether ``name`` matches the glob ``pattern`` (case-sensitive, as on the servers)."""
    return fnmatch.fnmatchcase(name, pattern or "*")


def join_folder(base: str, folder: str) -> str:
    """Return ``folder`` resolved against the connection's folder ``base`` (an absolute folder stays absolute)."""
    return posixpath.normpath(posixpath.join(base or ".", folder))


def archive_name(name: str, taken: bool) -> str:
    """Return the name to archive ``name`` under: a UTC timestamp goes before the extension when it is ``taken``."""
    if not taken:
        return name
    stem, dot, extension = name.rpartition(".")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{stem}.{stamp}{dot}{extension}" if stem else f"{name}.{stamp}"


def temporary_name(name: str) -> str:
    """Return a hidden, unique name beside ``name`` for an upload in progress."""
    return f".{name}.{uuid.uuid4().hex[:12]}.part"


def format_size(size: int) -> str:
    """Return ``size`` in bytes as a person reads it: ``512 bytes``, ``1.5 MiB``."""
    if size < 1024:
        return f"{size} bytes"
    scaled = float(size)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        scaled /= 1024
        if scaled < 1024 or unit == "TiB":
            break
    return f"{scaled:.1f} {unit}"


def network_error(error: BaseException, *, host: str, port: int | None, timeout: float) -> TransportError:
    """Translate a socket-level failure while talking to ``host:port`` into a TransportError a person understands."""
    where = f"{host}:{port}"
    if isinstance(error, TransportError):
        return error
    if isinstance(error, TimeoutError | socket.timeout):
        return TransientTransportError(f"Timed out after {timeout:g} s talking to {where}", code="transport_timeout")
    if isinstance(error, socket.gaierror):
        return TransportError(f"Host not found: {host}", code="transport_host_not_found")
    if isinstance(error, ConnectionRefusedError):
        return TransientTransportError(f"Host unreachable: connection refused on {where}", code="transport_unreachable")
    if isinstance(error, ssl.SSLCertVerificationError):
        return TransportError(
            f"The server's TLS certificate is not trusted ({error.verify_message}) on {where}",
            code="transport_tls_untrusted",
        )
    if isinstance(error, ssl.SSLError):
        return TransientTransportError(f"TLS failed on {where}: {error.reason or error}", code="transport_tls_failed")
    if isinstance(error, ConnectionError | EOFError):
        return TransientTransportError(f"The connection to {where} was closed or reset", code="transport_reset")
    if isinstance(error, OSError) and error.errno in {errno.EHOSTUNREACH, errno.ENETUNREACH}:
        return TransientTransportError(f"Host unreachable: no route to {where}", code="transport_unreachable")
    detail = error.strerror if isinstance(error, OSError) and error.strerror else str(error) or type(error).__name__
    return TransientTransportError(f"Network error talking to {where}: {detail}", code="transport_network_error")


# Each kind names the class that serves it; modules are imported on first use so an FTP run
# does not pay for paramiko, and a new transport is one line here.
TRANSPORTS: dict[str, str] = {
    "ftp": "sources.transports.ftp.FTPTransport",
    "ftps": "sources.transports.ftp.FTPTransport",
    "sftp": "sources.transports.sftp.SFTPTransport",
    "http": "sources.transports.http.HTTPTransport",
    "imap": "sources.transports.imap.IMAPTransport",
    "upload": "sources.transports.upload.UploadTransport",
}


def get_transport(settings: ConnectionSettings) -> BaseTransport:
    """Return the transport for ``settings.kind``; raise TransportError for a kind nobody serves."""
    try:
        dotted = TRANSPORTS[settings.kind]
    except KeyError:
        raise TransportError(
            f"No transport for connection kind {settings.kind!r}", code="transport_unknown_kind"
        ) from None
    module_name, _, class_name = dotted.rpartition(".")
    transport_class = getattr(importlib.import_module(module_name), class_name)
    return transport_class(settings)
