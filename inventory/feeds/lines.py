"""Raw CSV records and row fingerprints: what lets a re-sent feed skip parsing and mapping its unchanged rows.

A row's fingerprint is a keyed 8-byte BLAKE2b of the row's raw bytes (line end excluded), in hex; the key is the
salt, which covers the template, the header and the other settings that decide what the row becomes
(``common.feed_salt``). It is stored as the variant's ``content_hash`` when the row is applied, so the next feed
finds its unchanged rows by fingerprint alone. BLAKE2b is built into Python: for a 100-byte row it costs half of
OpenSSL's MD5, whose per-call setup dominates. A diff compares the low 60 bits as integers
(``fingerprint_value``): the chance that a changed row takes the fingerprint of one of a million stored ones is
1 in 10^12, and a 60-bit int is a 32-byte Python object (a diff holds a million of them).

The reader of ``sources.formats`` numbers rows and lines itself; every fingerprint is checked against the
reader's (row, line) before it is used, and a file the byte-level split does not understand (a lone CR, an
encoding that is not ASCII-compatible) simply stores no fingerprints, so its next run maps every row.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import sys
from array import array
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

from sources.formats.csv import detect_encoding, sniff_delimiter

SAMPLE_BYTES = 64 * 1024
_WIDE_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)


@dataclass(frozen=True)
class CsvLayout:
    """How to split a CSV file into raw records the same way the CSV reader will."""

    encoding: str
    delimiter: bytes
    quote: bytes
    skip_rows: int
    header: bool

    def reader_options(self, options: dict[str, Any]) -> dict[str, Any]:
        """The reader's options, pinned to what was detected here so both agree."""
        return {**options, "encoding": self.encoding, "delimiter": self.delimiter.decode()}


def csv_layout(file: IO[bytes], options: dict[str, Any]) -> CsvLayout | None:
    """Detect encoding and delimiter like the CSV reader; None when the file cannot be split by bytes."""
    start = file.tell()
    sample = file.read(SAMPLE_BYTES)
    file.seek(start)
    if not sample or sample.startswith(_WIDE_BOMS):
        return None
    encoding = options.get("encoding") or detect_encoding(sample, [])
    if codecs.lookup(encoding).name not in ("utf-8", "utf-8-sig", "cp1252", "iso8859-1", "ascii"):
        return None
    delimiter = options.get("delimiter")
    if delimiter is None:
        try:
            text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(sample, final=False)
        except LookupError:
            return None
        delimiter = sniff_delimiter(text) or ","
    quote = options.get("quotechar", '"')
    if len(delimiter) != 1 or len(quote) != 1:
        return None
    return CsvLayout(
        encoding=encoding,
        delimiter=delimiter.encode(),
        quote=quote.encode(),
        skip_rows=int(options.get("skip_rows", 0)),
        header=bool(options.get("header", True)),
    )


def raw_records(file: IO[bytes], quote: bytes = b'"') -> Iterator[bytes]:
    """Yield the file's physical records with their line ends; a quoted newline keeps a record whole."""
    pending = b""
    for line in file:
        if pending:
            pending += line
            if pending.count(quote) & 1:
                continue
            yield pending
            pending = b""
        elif line.count(quote) & 1:
            pending = line
        else:
            yield line
    if pending:
        yield pending


class CsvRows:
    """The raw records of a CSV file: a preamble (skipped rows and header), then data rows numbered like the reader."""

    def __init__(self, file: IO[bytes], layout: CsvLayout):
        self.layout = layout
        start = file.tell()
        self.records = raw_records(file, layout.quote)  # every record after the preamble, blank ones too
        # Only a record starting with a delimiter, a quote or a line end can be blank: one byte test for the rest.
        self.maybe_blank = frozenset(layout.delimiter + layout.quote + b"\r\n")
        preamble = []
        for _ in range(layout.skip_rows):
            record = next(self.records, None)
            if record is None:
                break
            preamble.append(record)
        if layout.header:
            for record in self.records:
                preamble.append(record)
                if not self.is_blank(record):
                    break
        self.preamble = b"".join(preamble)
        self.data_start = start + len(self.preamble)  # byte offset of the first record after the preamble

    def is_blank(self, record: bytes) -> bool:
        """True for a record the reader skips: no cells, or only empty ones."""
        return not record.rstrip(b"\r\n").replace(self.layout.quote, b"").replace(self.layout.delimiter, b"")

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        """Yield (row, record) for each data row, row numbered from 1 as the reader numbers it."""
        row = 0
        is_blank, maybe_blank = self.is_blank, self.maybe_blank
        for record in self.records:
            if record[0] in maybe_blank and is_blank(record):
                continue
            row += 1
            yield row, record


def records_at(
    file: IO[bytes], quote: bytes, rows: Iterable[int], starts: Sequence[int]
) -> Iterator[tuple[int, bytes]]:
    """Yield (row, record) for ``rows``, reading each record at its byte offset ``starts[row - 1]``."""
    for row in rows:
        file.seek(starts[row - 1])
        yield row, next(raw_records(file, quote))


def _fingerprint_hasher(salt: bytes):
    """A fresh keyed 8-byte BLAKE2b per call; its hex digest is the fingerprint."""
    return hashlib.blake2b(digest_size=8, key=salt).copy


def fingerprints(rows: Iterable[tuple[int, bytes]], salt: bytes) -> Iterator[tuple[int, bytes, str]]:
    """Yield (row, record, fingerprint) for raw rows."""
    hasher = _fingerprint_hasher(salt)
    for row, record in rows:
        digest = hasher()
        digest.update(record.rstrip(b"\r\n"))
        yield row, record, digest.hexdigest()


FINGERPRINT_PARTS = 16  # fingerprint_values splits rows by the first hex digit of their fingerprint


def fingerprint_part(fingerprint: str) -> int:
    """The part of a stored fingerprint (a ``content_hash``), as ``fingerprint_values`` splits rows."""
    return int(fingerprint[0], 16)


def fingerprint_values(rows: CsvRows, salt: bytes) -> tuple[list[array], list[array], array]:
    """Fingerprint the data rows of ``rows``: return the fingerprint values (``fingerprint_value``) and the row numbers
    of the rows of each part (``fingerprint_part``), and the byte offset of every row (index row - 1).

    Parts let a diff compare 16 small sets, each of which stays in the CPU's cache, rather than one set of every row.
    """
    hasher = _fingerprint_hasher(salt)
    digests = [bytearray() for _ in range(FINGERPRINT_PARTS)]
    add_digest = [part.extend for part in digests]
    numbers = [array("q") for _ in range(FINGERPRINT_PARTS)]
    add_number = [part.append for part in numbers]
    starts = array("q")
    add_start = starts.append
    # The loop of CsvRows.__iter__, with the byte offsets, inlined: it is most of a re-sent feed's time.
    position = rows.data_start
    is_blank, maybe_blank = rows.is_blank, rows.maybe_blank
    row = 0
    for record in rows.records:
        at = position
        position += len(record)
        if record[0] in maybe_blank and is_blank(record):
            continue
        digest = hasher()
        digest.update(record.rstrip(b"\r\n"))
        value = digest.digest()
        part = value[0] >> 4
        add_digest[part](value)
        row += 1
        add_number[part](row)
        add_start(at)
    return [digest_values(part) for part in digests], numbers, starts


_LOW_NIBBLE = bytes(value & 0x0F for value in range(256))
_VALUE_MASK = (1 << 60) - 1


def digest_values(digests: bytearray) -> array:
    """The values of consecutive 8-byte fingerprints (``digests`` is overwritten): each read as a big-endian
    integer without its top 4 bits, at C speed."""
    digests[0::8] = digests[0::8].translate(_LOW_NIBBLE)
    values = array("Q")
    values.frombytes(digests)
    if sys.byteorder == "little":
        values.byteswap()
    return values


def fingerprint_value(fingerprint: str) -> int:
    """The value of a stored fingerprint (a ``content_hash``), as ``fingerprint_values`` gives it."""
    return int(fingerprint, 16) & _VALUE_MASK


class RowHashes:
    """Fingerprints waiting for the reader to reach their rows, checked against its (row, line)."""

    def __init__(self) -> None:
        self.pending: deque[tuple[int, int, str, int]] = deque()  # (row, line, fingerprint, original row)
        self.aligned = True

    def take(self, row: int, line: int) -> tuple[str, int]:
        """Return (fingerprint, original row) of the reader's ``row`` starting at ``line``; '' if they disagree."""
        pending = self.pending
        while pending and pending[0][0] < row:
            pending.popleft()
        if pending and pending[0][0] == row and pending[0][1] == line:
            entry = pending.popleft()
            return entry[2], entry[3]
        self.aligned = False
        return "", row

    def original_row(self, row: int) -> int:
        """The original row number of the reader's ``row`` (for row errors), without consuming it."""
        pending = self.pending
        while pending and pending[0][0] < row:
            pending.popleft()
        if pending and pending[0][0] == row:
            return pending[0][3]
        return row


class FeedStream(io.RawIOBase):
    """A readable stream of the preamble and the chosen raw rows, noting each row's position for RowHashes."""

    def __init__(self, preamble: bytes, rows: Iterable[tuple[int, bytes, str]], hashes: RowHashes):
        self._rows = iter(rows)
        self._hashes = hashes
        self._buffer = memoryview(preamble)
        self._line = 1 + preamble.count(b"\n")
        self._row = 0

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        wanted = len(target)
        chunks = [self._buffer] if self._buffer else []
        size = len(self._buffer)
        append = self._hashes.pending.append
        while size < wanted:
            item = next(self._rows, None)
            if item is None:
                break
            original, record, digest = item
            self._row += 1
            append((self._row, self._line, digest, original))
            self._line += record.count(b"\n")
            chunks.append(record)
            size += len(record)
        data = b"".join(chunks)
        n = min(wanted, len(data))
        target[:n] = data[:n]
        self._buffer = memoryview(data)[n:]
        return n


def hashed_records(records: Iterable[Any], salt: bytes, hashes: RowHashes) -> Iterator[Any]:
    """Pass records through, fingerprinting each one's values (formats without raw rows: XLSX, JSON, X12)."""
    hasher = _fingerprint_hasher(salt)
    append = hashes.pending.append
    for record in records:
        digest = hasher()
        digest.update(repr(record[2]).encode("utf-8", "surrogatepass"))
        append((record[0], record[1], digest.hexdigest(), record[0]))
        yield record
