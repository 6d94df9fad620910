"""Files an operator uploaded, kept in a local folder: list, read, store and archive them there."""

from __future__ import annotations

import contextlib
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, BinaryIO

from sources.transports.base import (
    CHUNK_BYTES,
    BaseTransport,
    RemoteFile,
    TransportError,
    archive_name,
    check_name,
    matches,
    read_chunks,
    temporary_name,
)


class UploadTransport(BaseTransport):
    """Files in the local folder ``settings.path`` (where uploads are stored).

    Names are plain file names; archive folders are relative to the folder and must stay inside it.
    Nothing outside the folder can be read or written, symbolic links included.
    """

    kind = "upload"

    @property
    def folder(self) -> Path:
        if not self.settings.path:
            raise TransportError("No upload folder is configured", code="transport_not_found")
        return Path(self.settings.path)

    def describe(self) -> str:
        return str(self.folder)

    def _home(self) -> Path:
        """Return the folder, resolved; raise TransportError when it does not exist."""
        folder = self.folder
        if not folder.is_dir():
            raise TransportError(f"Folder {folder} does not exist", code="transport_not_found")
        return folder.resolve()

    def _inside(self, relative: str) -> Path:
        """Return ``relative`` resolved inside the folder; refuse anything that would lead out of it."""
        home = self._home()
        target = (home / relative).resolve()
        if target != home and home not in target.parents:
            raise TransportError(f"{relative!r} is outside the upload folder", code="transport_bad_name")
        return target

    def _file(self, name: str) -> Path:
        path = self._inside(check_name(name))
        if not path.is_file():
            raise TransportError(f"File {name} does not exist in {self.folder}", code="transport_not_found")
        return path

    def list_files(self, pattern: str = "*") -> list[RemoteFile]:
        home = self._home()
        entries = []
        for entry in os.scandir(home):
            if entry.is_file(follow_symlinks=False) and matches(entry.name, pattern):
                info = entry.stat(follow_symlinks=False)
                entries.append(RemoteFile(entry.name, info.st_size, datetime.fromtimestamp(info.st_mtime, UTC)))
        return sorted(entries, key=lambda entry: (entry.modified, entry.name))

    def exists(self, name: str) -> bool:
        return self._inside(check_name(name)).is_file()

    def download(self, name: str) -> IO[bytes]:
        path = self._file(name)
        with path.open("rb") as local:
            return self.spool(iter(lambda: local.read(CHUNK_BYTES), b""), name, size=path.stat().st_size)

    def put(self, name: str, data: bytes | BinaryIO) -> None:
        target = self._inside(check_name(name))
        partial = target.with_name(temporary_name(name))
        try:
            with partial.open("xb") as local:
                shutil.copyfileobj(read_chunks(data), local, CHUNK_BYTES)
                local.flush()
                os.fsync(local.fileno())
            os.replace(partial, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()
            raise

    def move(self, name: str, folder: str) -> str:
        source = self._file(name)
        destination = self._inside(folder)
        destination.mkdir(parents=True, exist_ok=True)
        target = destination / archive_name(name, taken=(destination / name).exists())
        os.replace(source, target)
        return str(target)

    def check(self) -> tuple[str, dict[str, Any]]:
        files = self.list_files()
        plural = "" if len(files) == 1 else "s"
        return f"Upload folder {self.folder} has {len(files)} file{plural}", {"files": len(files)}
