"""CSV feeds: encoding and delimiter detection, streaming records, and a writer for file drops.

Options of :func:`read_csv` (all optional):

- ``encoding``: force a codec; otherwise a BOM decides (UTF-8, UTF-16, UTF-32), then UTF-8 if the
  first 64 KiB decode as UTF-8, then cp1252, then latin-1 (the fallbacks add a note to ``notes``).
- ``delimiter``: one of ``,`` ``;`` ``\\t`` ``|``; otherwise sniffed from the first lines.
- ``header`` (default True): the first row names the columns and records are dicts; with False,
  records are lists indexed from 0.
- ``skip_rows`` (default 0): rows to drop before the header (or before the data when there is no
  header), e.g. a title line or a header you want to ignore for index-based mapping.
- ``quotechar`` (default ``"``).

Blank rows and rows whose cells are all empty are skipped (spreadsheet exports end with them); they
still count for ``Record.line``.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

from . import FormatError, Record, Source

SAMPLE_BYTES = 64 * 1024
DELIMITERS = (",", ";", "\t", "|")

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


class _PrefixedStream(io.RawIOBase):
    """A raw stream that replays already-read bytes before the rest of a non-seekable stream."""

    def __init__(self, prefix: bytes, rest: IO[bytes]):
        self._prefix = memoryview(prefix)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._prefix:
            n = min(len(buffer), len(self._prefix))
            buffer[:n] = self._prefix[:n]
            self._prefix = self._prefix[n:]
            return n
        data = self._rest.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        return n


def open_binary(source: Source, sample_size: int = SAMPLE_BYTES) -> tuple[bytes, IO[bytes]]:
    """Return the first ``sample_size`` bytes of ``source`` and a binary stream of all of it."""
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        return data[:sample_size], io.BytesIO(data)
    if source.seekable():
        start = source.tell()
        sample = source.read(sample_size)
        source.seek(start)
        return sample, source
    sample = source.read(sample_size)
    return sample, io.BufferedReader(_PrefixedStream(sample, source))


def detect_encoding(sample: bytes, notes: list[str]) -> str:
    """Guess the text encoding of a feed from its first bytes; fallbacks are explained in ``notes``."""
    for bom, encoding in _BOMS:
        if sample.startswith(bom):
            return encoding
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError as exc:
        where = f"byte 0x{sample[exc.start]:02x} at offset {exc.start}"
    for fallback in ("cp1252", "latin-1"):
        try:
            sample.decode(fallback)
        except UnicodeDecodeError:
            continue
        notes.append(f"the file is not UTF-8 ({where}); read it as {fallback}. Set the encoding if that is wrong.")
        return fallback
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


def sniff_delimiter(text: str) -> str | None:
    """Return the candidate delimiter that splits the sample's rows into the most consistent columns."""
    cut = max(text.rfind("\n"), text.rfind("\r"))
    if cut > 0:
        text = text[:cut]
    best: tuple[int, int, int] | None = None
    chosen = None
    for rank, delimiter in enumerate(DELIMITERS):
        widths = []
        try:
            for cells in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
                if cells:
                    widths.append(len(cells))
                if len(widths) >= 20:
                    break
        except csv.Error:
            continue
        if not widths or widths[0] < 2:
            continue
        consistent = sum(1 for width in widths if width == widths[0])
        score = (consistent, widths[0], -rank)
        if best is None or score > best:
            best, chosen = score, delimiter
    return chosen


class CsvReader:
    """Iterator of :class:`Record` over a CSV feed, with what it detected.

    Attributes: ``encoding``, ``delimiter``, ``headers`` (None without a header row) and ``notes``
    (human-readable remarks such as an encoding fallback). Raises FormatError on construction for
    an empty or non-text file, and while iterating for undecodable bytes or broken quoting.
    """

    def __init__(self, source: Source, options: Mapping[str, Any]):
        self.notes: list[str] = []
        sample, stream = open_binary(source)
        stripped = sample.strip(b" \t\r\n")
        if not stripped or stripped in {bom for bom, _ in _BOMS}:
            raise FormatError("the CSV file is empty", details={"line": 1})
        if sample.startswith(b"PK\x03\x04"):
            raise FormatError("this is a ZIP/XLSX file, not CSV; choose the xlsx format", details={"line": 1})
        self.encoding: str = options.get("encoding") or detect_encoding(sample, self.notes)
        if "\x00" in _decode_sample(sample, self.encoding):
            raise FormatError(
                "the file contains NUL bytes: it is binary or UTF-16 without a BOM; set the encoding",
                details={"line": 1},
            )
        delimiter = options.get("delimiter")
        if delimiter is None:
            delimiter = sniff_delimiter(_decode_sample(sample, self.encoding))
            if delimiter is None:
                delimiter = ","
                self.notes.append("found a single column; no , ; tab or | delimiter splits the rows")
        elif delimiter not in DELIMITERS:
            raise FormatError(f"unsupported delimiter {delimiter!r}; use one of , ; tab |")
        self.delimiter: str = delimiter
        # surrogateescape + a per-line check (not strict decoding): TextIOWrapper decodes ahead in
        # chunks, so a strict error would point at the wrong line.
        self._text = io.TextIOWrapper(stream, encoding=self.encoding, errors="surrogateescape", newline="")
        lines = self._text if self.encoding == "latin-1" else _checked_lines(self._text, self.encoding)
        self._reader = csv.reader(lines, delimiter=delimiter, quotechar=options.get("quotechar", '"'))
        self.headers: list[str] | None = None
        for _ in range(int(options.get("skip_rows", 0))):
            self._next_cells()
        if options.get("header", True):
            cells = self._next_nonblank()
            if cells is None:
                raise FormatError("the CSV file is empty", details={"line": 1})
            self.headers = _clean_headers(cells, self._reader.line_num)
        self._records = self._generate()

    def __iter__(self) -> Iterator[Record]:
        # A for loop gets the generator itself: no Python-level __next__ call per row.
        return self._records

    def __next__(self) -> Record:
        return next(self._records)

    def _next_cells(self) -> list[str] | None:
        try:
            return next(self._reader)
        except StopIteration:
            return None
        except csv.Error as exc:
            raise FormatError(f"line {self._reader.line_num}: {exc}", details={"line": self._reader.line_num}) from None
        except UnicodeDecodeError as exc:
            byte = exc.object[exc.start : exc.start + 1].hex()
            raise _decode_error(byte, self.encoding, self._reader.line_num) from None

    def _next_nonblank(self) -> list[str] | None:
        while (cells := self._next_cells()) is not None:
            if any(cells):
                return cells
        return None

    def _generate(self) -> Iterator[Record]:
        reader = self._reader
        headers = self.headers
        width = len(headers) if headers is not None else 0
        row = 0
        previous = reader.line_num
        new_record = tuple.__new__
        try:
            for cells in reader:
                line = previous + 1
                previous = reader.line_num
                if not cells or (not cells[0] and not any(cells)):
                    continue
                row += 1
                if headers is None:
                    yield new_record(Record, (row, line, cells, None))
                elif len(cells) > width and any(cell.strip() for cell in cells[width:]):
                    message = f"line {line}: {len(cells)} cells but the header has {width} columns"
                    yield Record(row, line, dict(zip(headers, cells)), message)  # noqa: B905 - extra cells reported
                else:
                    # tuple.__new__ and zip without strict= halve the per-row cost of this hot loop.
                    yield new_record(Record, (row, line, dict(zip(headers, cells)), None))  # noqa: B905
        except csv.Error as exc:
            raise FormatError(f"line {reader.line_num}: {exc}", details={"line": reader.line_num}) from None
        except UnicodeDecodeError as exc:
            raise _decode_error(exc.object[exc.start : exc.start + 1].hex(), self.encoding, reader.line_num) from None


def read_csv(source: Source, options: Mapping[str, Any] | None = None) -> CsvReader:
    """Stream the records of a CSV feed; see the module docstring for ``options``."""
    return CsvReader(source, options or {})


def _decode_sample(sample: bytes, encoding: str) -> str:
    try:
        return codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
    except (UnicodeDecodeError, LookupError) as exc:
        raise FormatError(f"cannot decode the file as {encoding}: {exc}", details={"line": 1}) from None


_UNDECODED = re.compile("[\udc80-\udcff]")


def _checked_lines(text: IO[str], encoding: str) -> Iterator[str]:
    """Yield the lines of ``text``; raise FormatError at the first line holding undecodable bytes."""
    search = _UNDECODED.search
    for number, line in enumerate(text, start=1):
        # An undecodable byte is a non-ASCII surrogate: ASCII lines (most of a feed) skip the regex.
        if not line.isascii() and search(line):
            byte = ord(search(line).group()) - 0xDC00
            raise _decode_error(f"{byte:02x}", encoding, number)
        yield line


def _decode_error(byte: str, encoding: str, line: int) -> FormatError:
    return FormatError(
        f"line {line}: byte 0x{byte} is not valid {encoding}; the start of the file looked like {encoding}. "
        "Set the encoding (e.g. cp1252) to read it.",
        details={"line": line},
    )


def _clean_headers(cells: list[str], line: int) -> list[str]:
    headers = []
    for index, cell in enumerate(cells):
        name = cell.strip().lstrip("\ufeff").strip()
        headers.append(name or f"column_{index + 1}")
    seen: set[str] = set()
    for name in headers:
        if name in seen:
            raise FormatError(
                f"line {line}: the header names column {name!r} twice; rename one or map by column index",
                details={"line": line, "column": name},
            )
        seen.add(name)
    return headers


def format_cell(value: Any, decimal_comma: bool = False) -> str:
    """Render one value as CSV text: None → empty, Decimal/number as plain digits, dates as ISO."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal | float | int):
        text = format(value, "f") if isinstance(value, Decimal) else str(value)
        return text.replace(".", ",") if decimal_comma else text
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def write_csv(
    rows: Iterable[Mapping[str, Any] | Sequence[Any]], headers: Sequence[str], options: Mapping[str, Any] | None = None
) -> bytes:
    """Return CSV bytes with a header row, then ``rows`` (dicts keyed by header, or sequences).

    Options: ``delimiter`` (default ``,``), ``encoding`` (default utf-8), ``bom`` (default False),
    ``line_terminator`` (default CRLF, as RFC 4180 says), ``decimal_comma`` (default False),
    ``header`` (default True).
    """
    options = options or {}
    decimal_comma = bool(options.get("decimal_comma", False))
    buffer = io.StringIO()
    writer = csv.writer(
        buffer, delimiter=options.get("delimiter", ","), lineterminator=options.get("line_terminator", "\r\n")
    )
    if options.get("header", True):
        writer.writerow(headers)
    for row in rows:
        cells = [row.get(name) for name in headers] if isinstance(row, Mapping) else row
        writer.writerow([format_cell(cell, decimal_comma) for cell in cells])
    encoding = options.get("encoding", "utf-8")
    if options.get("bom") and encoding.lower().replace("_", "-") in {"utf-8", "utf8"}:
        encoding = "utf-8-sig"
    return buffer.getvalue().encode(encoding)
