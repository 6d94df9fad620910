"""FTP and FTPS (explicit TLS, protected data channel) with the standard library's ftplib."""

from __future__ import annotations

import contextlib
import ftplib
import posixpath
from datetime import UTC, datetime
from typing import IO, Any, BinaryIO

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
    new_spool,
    read_chunks,
    temporary_name,
    tls_context,
)

NETWORK_ERRORS = (OSError, EOFError, ftplib.error_proto, ftplib.error_reply)


class FTPTransport(BaseTransport):
    """Files in one folder of an FTP or FTPS server.

    Settings: host, port (21), username, password, path (the folder), passive, timeout, max_bytes,
    tls (or kind ``ftps``) for explicit TLS; options ``verify_tls`` (default true) and ``ca_cert``
    (PEM text of a certificate to trust, for a server with a self-signed certificate).
    """

    kind = "ftp"

    def __init__(self, settings):
        super().__init__(settings)
        self._ftp: ftplib.FTP | None = None
        self._home = ""

    @property
    def port(self) -> int:
        return self.settings.port or 21

    @property
    def tls(self) -> bool:
        return self.settings.tls or self.settings.kind == "ftps"

    def close(self) -> None:
        ftp, self._ftp = self._ftp, None
        if ftp is not None and ftp.sock is not None:
            with contextlib.suppress(*NETWORK_ERRORS, ftplib.Error):
                ftp.quit()
        if ftp is not None:
            ftp.close()

    def connect(self) -> ftplib.FTP:
        """Return the open connection, logging in and entering the folder first if there is none."""
        if self._ftp is not None:
            return self._ftp
        settings = self.settings
        if self.tls:
            ftp: ftplib.FTP = ftplib.FTP_TLS(context=tls_context(self.settings.options), timeout=settings.timeout)
        else:
            ftp = ftplib.FTP(timeout=settings.timeout)
        self._ftp = ftp
        try:
            self._log_in(ftp)
        except TransportError:
            # Only a session that reached its folder is kept: a half-made one would work in the wrong place.
            self.close()
            raise
        return ftp

    def _log_in(self, ftp: ftplib.FTP) -> None:
        settings = self.settings
        with self.errors():
            ftp.connect(settings.host, self.port)
            if self.tls:
                with self.errors(refused="The server does not offer FTPS (it refused AUTH TLS)"):
                    ftp.auth()
            ftp.login(settings.username or "anonymous", settings.password)
            if self.tls:
                ftp.prot_p()
            ftp.set_pasv(settings.passive)
            ftp.voidcmd("TYPE I")
            if settings.path:
                with self.errors(missing=f"Folder {settings.path} does not exist"):
                    ftp.cwd(settings.path)
            self._home = ftp.pwd()

    @contextlib.contextmanager
    def errors(self, *, missing: str = "", refused: str = ""):
        """Translate ftplib and socket errors into TransportErrors; drop the connection when it is no longer usable."""
        try:
            yield
        except TransportError:
            raise
        except ftplib.error_perm as error:
            reply = str(error)
            if missing and reply.startswith(("550", "450")):
                raise TransportError(missing, code="transport_not_found") from None
            if not self.tls and ("TLS" in reply or "SSL" in reply):
                self.close()
                raise TransportError(
                    "The server requires FTPS (FTP over TLS): switch the connection to FTPS",
                    code="transport_tls_required",
                ) from None
            if reply.startswith("530"):
                self.close()
                raise TransportError("Wrong username or password", code="transport_auth_failed") from None
            if refused:
                self.close()
            raise TransportError(refused or f"The FTP server refused: {reply}", code="transport_refused") from None
        except ftplib.error_temp as error:
            self.close()
            raise TransientTransportError(
                f"The FTP server is busy, try again later: {error}", code="transport_busy"
            ) from None
        except NETWORK_ERRORS as error:
            self.close()
            if isinstance(error, ftplib.Error):
                raise TransientTransportError(f"The FTP server answered oddly: {error}") from None
            raise network_error(error, host=self.settings.host, port=self.port, timeout=self.settings.timeout) from None

    def list_files(self, pattern: str = "*") -> list[RemoteFile]:
        ftp = self.connect()
        with self.errors():
            try:
                entries = [
                    RemoteFile(name, _int_or_none(facts.get("size")), _ftp_time(facts.get("modify")))
                    for name, facts in ftp.mlsd(facts=["type", "size", "modify"])
                    if facts.get("type") == "file" and matches(name, pattern)
                ]
            except ftplib.error_perm as error:
                if not str(error).startswith(("500", "501", "502")):
                    raise
                entries = self._list_without_mlsd(ftp, pattern)
        return sorted(entries, key=lambda entry: (entry.modified or datetime.min.replace(tzinfo=UTC), entry.name))

    def _list_without_mlsd(self, ftp: ftplib.FTP, pattern: str) -> list[RemoteFile]:
        """List with NLST, SIZE and MDTM for servers that predate MLSD; folders are left out (they have no size)."""
        entries = []
        for name in ftp.nlst():
            name = posixpath.basename(name)
            if not matches(name, pattern):
                continue
            try:
                size = _size(ftp, name)
            except ftplib.error_perm:
                continue
            try:
                modified = _ftp_time(ftp.voidcmd(f"MDTM {name}").split()[-1])
            except ftplib.error_perm:
                modified = None
            entries.append(RemoteFile(name, size, modified))
        return entries

    def exists(self, name: str) -> bool:
        ftp = self.connect()
        with self.errors():
            return self._exists_at(ftp, check_name(name))

    def download(self, name: str) -> IO[bytes]:
        ftp = self.connect()
        with self.errors(missing=f"File {name} does not exist in {self._home}"):
            self.check_size(name, _size(ftp, check_name(name)))
        spooled = new_spool()
        written = 0

        def write(chunk: bytes) -> None:
            nonlocal written
            written += len(chunk)
            self.check_size(name, written)
            spooled.write(chunk)

        try:
            with self.errors(missing=f"File {name} does not exist in {self._home}"):
                ftp.retrbinary(f"RETR {name}", write, blocksize=CHUNK_BYTES)
        except BaseException:
            # An interrupted transfer leaves replies pending on the control connection: start afresh next time.
            self.close()
            spooled.close()
            raise
        spooled.seek(0)
        return spooled

    def put(self, name: str, data: bytes | BinaryIO) -> None:
        ftp = self.connect()
        partial = temporary_name(check_name(name))
        try:
            with self.errors():
                ftp.storbinary(f"STOR {partial}", read_chunks(data), blocksize=CHUNK_BYTES)
                self._rename_over(ftp, partial, name)
        except BaseException:
            if self._ftp is not None:
                with contextlib.suppress(ftplib.Error, *NETWORK_ERRORS):
                    ftp.delete(partial)
            raise

    @staticmethod
    def _rename_over(ftp: ftplib.FTP, source: str, target: str) -> None:
        # Most servers replace the target on RNTO; for those that refuse, delete it first (a brief gap, never a part).
        try:
            ftp.rename(source, target)
        except ftplib.error_perm:
            ftp.delete(target)
            ftp.rename(source, target)

    def move(self, name: str, folder: str) -> str:
        ftp = self.connect()
        check_name(name)
        folder = posixpath.normpath(folder)
        with self.errors():
            self._make_folders(ftp, folder)
            target = archive_name(name, taken=self._exists_at(ftp, f"{folder}/{name}"))
            with self.errors(missing=f"File {name} does not exist in {self._home}"):
                ftp.rename(name, f"{folder}/{target}")
        return posixpath.normpath(posixpath.join(self._home, folder, target))

    def _make_folders(self, ftp: ftplib.FTP, folder: str) -> None:
        """Create ``folder`` and its parents where missing, then check it can be entered."""
        prefix = "/" if folder.startswith("/") else ""
        for part in folder.strip("/").split("/"):
            prefix = f"{prefix}{part}/"
            with contextlib.suppress(ftplib.error_perm):
                ftp.mkd(prefix)
        with self.errors(missing=f"Folder {folder} could not be created in {self._home}"):
            ftp.cwd(folder)
            ftp.cwd(self._home)

    @staticmethod
    def _exists_at(ftp: ftplib.FTP, path: str) -> bool:
        try:
            _size(ftp, path)
        except ftplib.error_perm:
            return False
        return True

    def check(self) -> tuple[str, dict[str, Any]]:
        files = self.list_files()
        message = self.connected_message("FTPS" if self.tls else "FTP", self._home, len(files))
        return message, {"files": len(files), "folder": self._home, "tls": self.tls}


def _size(ftp: ftplib.FTP, path: str) -> int | None:
    """Return the size of ``path``; raise ftplib.error_perm when it is missing or a folder."""
    # Listings switch the session to ASCII, where many servers refuse SIZE.
    ftp.voidcmd("TYPE I")
    return ftp.size(path)


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _ftp_time(value: str | None) -> datetime | None:
    """Parse an FTP timestamp (``YYYYMMDDHHMMSS[.sss]``, always UTC)."""
    if not value:
        return None
    try:
        return datetime.strptime(value[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return None
