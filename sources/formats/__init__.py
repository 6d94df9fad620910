"""Feed formats: bytes ⇄ records, pure functions (no database, no Django models).

Every reader streams: it yields one :class:`Record` at a time and never holds the feed in a list.
``read_records(format_name, source, options)`` picks the reader from a small registry, so an
integration stores only the format's name and its options; other packages (e.g. X12) add their
readers with :func:`register_format`.

Row numbers, everywhere in this package:

- ``Record.row`` is the 1-based number of the *data* record (the header row is not counted), the
  number shown to operators in row errors;
- ``Record.line`` is the 1-based physical position where the record starts: the file line for CSV
  and JSON Lines (header and blank lines counted, a quoted newline makes a record span lines), the
  sheet row for XLSX, and the array index + 1 for a JSON array.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import IO, Any, NamedTuple

from flxhub.exceptions import ApplicationError


class FormatError(ApplicationError):
    """The feed cannot be read; ``message`` says what is wrong and where (line/row)."""

    code = "format_error"


class Record(NamedTuple):
    """One record of a feed: its position and its values.

    ``values`` is a dict keyed by header (CSV/XLSX with a header row, JSON objects) or a list by
    0-based column index (no header row). ``error`` is set when the record itself is malformed
    (e.g. more cells than the header); the mapping turns it into a row error for that row only.
    """

    row: int
    line: int
    values: dict[str, Any] | list[Any]
    error: str | None = None


Source = bytes | bytearray | memoryview | IO[bytes]
Reader = Callable[[Source, dict[str, Any]], Iterator[Record]]

_READERS: dict[str, Reader] = {}


def register_format(name: str, reader: Reader) -> None:
    """Register ``reader(source, options) -> iterator of Record`` under ``name``."""
    _READERS[name] = reader


def format_names() -> list[str]:
    """Return the names of the registered formats."""
    _register_builtin()
    return sorted(_READERS)


def read_records(format_name: str, source: Source, options: dict[str, Any] | None = None) -> Iterator[Record]:
    """Stream the records of ``source`` (bytes or a binary file object) in ``format_name``.

    The returned iterator may carry reader details (``headers``, ``encoding``, ``notes``...); see the
    reader of each format. Raises FormatError for an unknown format or an unreadable feed.
    """
    _register_builtin()
    try:
        reader = _READERS[format_name]
    except KeyError:
        raise FormatError(
            f"unknown feed format {format_name!r}; known formats: {', '.join(sorted(_READERS))}",
            details={"format": format_name},
        ) from None
    return reader(source, dict(options or {}))


def _register_builtin() -> None:
    if "csv" in _READERS:
        return
    from . import csv, json, xlsx

    _READERS.setdefault("csv", csv.read_csv)
    _READERS.setdefault("xlsx", xlsx.read_xlsx)
    _READERS.setdefault("json", json.read_json)
    _READERS.setdefault("jsonl", json.read_json_lines)
