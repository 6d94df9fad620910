"""Stream a feed through its reader and mapping template: (original row, fingerprint, canonical dict) per row."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any

from sources.formats import format_names, read_records
from sources.mapping import RowError, compile_template
from sources.models import Source

from .common import FeedRequest, FeedResult, RowNote, exclusion_values, feed_salt
from .lines import (
    CsvLayout,
    CsvRows,
    FeedStream,
    RowHashes,
    csv_layout,
    fingerprints,
    hashed_records,
    records_at,
)


def prepare(request: FeedRequest, source: Source) -> tuple[dict[str, list[str]], CsvLayout | None, bytes]:
    """Return the exclusion rules, the CSV layout (None: not split by bytes) and the fingerprint salt of a feed."""
    exclusions = exclusion_values(source.pk)
    layout = csv_layout(request.file, request.format_options) if request.file_format == "csv" else None
    header = b""
    if layout is not None:
        start = request.file.tell()
        header = CsvRows(request.file, layout).preamble
        request.file.seek(start)
    return exclusions, layout, feed_salt(request=request, source=source, exclusions=exclusions, extra=header)


def open_records(file_format: str, file: IO[bytes], options: dict[str, Any]) -> Iterable[Any]:
    """The records of ``file``; an X12 846 is read by the local adapter unless the x12 package registers a reader."""
    if file_format == "x12" and "x12" not in format_names():
        from .x12_846 import read_846_records

        return read_846_records(file, options)
    return read_records(file_format, file, options)


def only_rows(items: Iterable[tuple[int, bytes]], wanted: Sequence[int]) -> Iterator[tuple[int, bytes]]:
    """Keep the items whose row is in ``wanted`` (ascending)."""
    wanted_rows = iter(wanted)
    next_row = next(wanted_rows, None)
    for item in items:
        if next_row is None:
            return
        if item[0] == next_row:
            yield item
            next_row = next(wanted_rows, None)


class MappedFeed:
    """Iterate (original row, fingerprint, data) over a feed, reporting row errors into ``result``.

    With a CSV ``layout`` the rows are read raw and fingerprinted by bytes (``rows`` limits them to the
    changed ones); otherwise each record's values are fingerprinted, unless ``record_fingerprints`` is False
    (the PostgreSQL paths diff CSV files only: a fingerprint of an XLSX or JSON record is never read there, and
    taking it costs a repr and an MD5 per record). ``error_rows`` collects (row, sku) of rows that failed
    mapping but named a SKU, so a full feed does not archive a variant whose row is merely bad.
    """

    def __init__(
        self,
        request: FeedRequest,
        result: FeedResult,
        salt: bytes,
        layout: CsvLayout | None,
        rows: Sequence[int] | None = None,
        starts: Sequence[int] | None = None,
        *,
        record_fingerprints: bool = True,
    ):
        self.request, self.result, self.salt, self.layout, self.rows = request, result, salt, layout, rows
        self.hashed = layout is not None or record_fingerprints
        self.starts = starts  # byte offset of every data row (from the diff): read only the changed ones
        self.hashes = RowHashes()
        self.error_rows: list[tuple[int, str]] = []
        self.mapper = compile_template(request.spec, "inventory")

    def _records(self) -> Iterable[Any]:
        request = self.request
        if self.layout is None:
            records = open_records(request.file_format, request.file, request.format_options)
            return hashed_records(records, self.salt, self.hashes) if self.hashed else records
        csv_rows = CsvRows(request.file, self.layout)
        raw: Iterable[tuple[int, bytes]]
        if self.rows is None:
            raw = csv_rows
        elif self.starts is not None:
            raw = records_at(request.file, self.layout.quote, self.rows, self.starts)
        else:
            raw = only_rows(csv_rows, self.rows)
        items = fingerprints(raw, self.salt)
        stream = io.BufferedReader(FeedStream(csv_rows.preamble, items, self.hashes), 256 * 1024)
        return read_records("csv", stream, self.layout.reader_options(request.format_options))

    def _on_error(self, error: RowError) -> None:
        row = self.hashes.original_row(error.row)
        self.result.error(RowNote(row, error.sku, error.field, error.value, error.message))
        if error.sku:
            self.error_rows.append((row, error.sku))

    def __iter__(self) -> Iterator[tuple[int, str, dict[str, Any]]]:
        if not self.hashed:
            for mapped in self.mapper.map(self._records(), self._on_error):
                yield mapped[0], "", mapped[2]
            return
        take = self.hashes.take
        for mapped in self.mapper.map(self._records(), self._on_error):
            digest, row = take(mapped[0], mapped[1])
            yield row, digest, mapped[2]

    def finish(self) -> None:
        """Add the mapping's counts to the result; call after iterating."""
        counts = self.mapper.counts
        self.result.counts["read"] += counts.read
        self.result.counts["skipped"] += counts.skipped
        if not self.hashes.aligned:
            self.result.log.append(
                "Row fingerprints were not stored for part of this file (unusual line ends); "
                "the next run maps every row again."
            )
