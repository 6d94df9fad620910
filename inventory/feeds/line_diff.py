"""Which rows of a re-sent CSV feed changed since the last apply: row fingerprints against the variants' (PostgreSQL).

Every data row is fingerprinted raw (``lines.fingerprint_values``) and compared with the fingerprints the source's
variants carry (``content_hash``: the fingerprint of the row that last applied each one). A row whose fingerprint
no variant carries changed, or is new; so does every copy of a row repeated byte for byte (the merge reports the
repeats). A variant whose fingerprint no row carries is *gone*: the only variants a full feed may archive.

The comparison runs in the client, in a Python set of the rows' fingerprints, at C speed (no Python code per row).
The variants' ids and fingerprints come from one query, in 16 parts (~1.5 MB each for a million variants): it is sent
before the file is read and read after, so PostgreSQL scans the variants on one core while Python hashes the rows
on the other. Nothing per row goes to the server, and it joins no rows with rows. Memory: the fingerprint and byte
offset of each row (16 bytes a row) and the set (~65 MB for a million rows; ~85 MB while it grows).
"""

from __future__ import annotations

import binascii
import operator
import sys
from array import array
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import compress
from typing import IO

from django.db import DatabaseError, connection
from psycopg import pq

from .lines import CsvLayout, CsvRows, digest_values, fingerprint_values
from .variants_sql import VARIANT

PARTS = 16  # the variants come in this many rows: a few MB each at a time, whatever the source's size
_NO_FINGERPRINT = "0" * 16  # value 0, which no row is given (see diff_lines)

# The source's variants in PARTS rows: their ids as big-endian 64-bit integers, and their fingerprints in hex in the
# same order (two aggregates of one pass over the same rows), or zeros for a variant without one (never applied by
# a CSV row, or since written otherwise). Grouped by a joined series, not by ``id % PARTS`` itself: the planner
# expects as many groups as the series has rows and hashes them, where it would expect one group per variant and
# sort them all.
_VARIANT_FINGERPRINTS = f"""
    SELECT string_agg(int8send(id), ''::bytea),
           string_agg(CASE WHEN length(content_hash) = 16 THEN content_hash ELSE '{_NO_FINGERPRINT}' END, '')
    FROM generate_series(0, {PARTS - 1}) part JOIN {VARIANT} ON id % {PARTS} = part
    WHERE source_id = $1
    GROUP BY part
"""


@dataclass
class LineDiff:
    """The diff of a feed's data rows (numbered from 1 as the reader numbers them) against the source's variants."""

    total: int  # data rows
    changed: array  # rows no variant carries, or repeated, ascending
    gone: array  # ids of the variants no row carries
    starts: array  # byte offset of each data row (index row - 1)
    fingerprints: array  # fingerprint value of each data row (index row - 1)

    def unchanged_rows_carrying(self, values: set[int]) -> dict[int, list[int]]:
        """The unchanged rows carrying each of the fingerprint ``values`` (a pass over every row: for rare look-ups)."""
        rows: dict[int, list[int]] = {}
        changed = self.changed
        for row, value in enumerate(self.fingerprints, 1):
            if value in values:
                at = bisect_left(changed, row)
                if at == len(changed) or changed[at] != row:
                    rows.setdefault(value, []).append(row)
        return rows


def diff_lines(file: IO[bytes], layout: CsvLayout, salt: bytes, source_id: int) -> LineDiff | None:
    """Fingerprint the data rows of ``file`` (read from its position, then rewound) and diff them with the
    variants of ``source_id``; None when a stored fingerprint cannot be read (then every row must be mapped).

    Runs on Django's connection, which must be free: nothing else may use it until this returns.
    """
    start = file.tell()
    with _SentQuery(_VARIANT_FINGERPRINTS, [str(source_id)]) as variants:
        try:
            line_values, starts = fingerprint_values(CsvRows(file, layout), salt)
        finally:
            file.seek(start)
        total = len(line_values)
        uncarried = set(line_values)  # once every variant is through: the rows' values no variant carries, and more
        repeated = len(uncarried) < total
        zero = 0 in uncarried  # the value of "no fingerprint" on the variants' side: that row has changed
        uncarried.discard(0)
        gone = array("q")
        for ids, hexes in variants.rows():
            try:
                values = digest_values(bytearray(binascii.unhexlify(hexes)))
            except binascii.Error:
                return None
            part_ids = _big_endian_ids(ids)
            if 0 in values:
                gone.extend(compress(part_ids, map(operator.not_, values)))
                part_ids = array("q", compress(part_ids, values))
                values = array("Q", compress(values, values))
            # One pass takes out the values a row carries and puts in those none does (a variant's value is unique:
            # it is the fingerprint of the row that made its SKU). Only if one was put in is the part looked at again.
            size = len(uncarried)
            uncarried.symmetric_difference_update(values)
            if size - len(uncarried) != len(values):
                gone.extend(compress(part_ids, map(uncarried.__contains__, values)))
    # The rows' values left are those no variant carries; the gone variants' values, also left, are on no row.
    uncarried = set(uncarried)  # a small table: the emptied one keeps its million-row size
    if zero:
        uncarried.add(0)
    if repeated:
        uncarried |= _repeated(line_values)
    changed = array("q", compress(range(1, total + 1), map(uncarried.__contains__, line_values)))
    return LineDiff(total=total, changed=changed, gone=gone, starts=starts, fingerprints=line_values)


def _repeated(values: array) -> set[int]:
    """The values found more than once in ``values``."""
    seen: set[int] = set()
    repeated: set[int] = set()
    for value in values:
        if value in seen:
            repeated.add(value)
        else:
            seen.add(value)
    return repeated


def _big_endian_ids(data: bytes) -> array:
    ids = array("q")
    ids.frombytes(data)
    if sys.byteorder == "little":
        ids.byteswap()
    return ids


class _SentQuery:
    """A query sent on Django's connection without waiting for it; ``rows()`` then reads its rows one at a time
    (binary values). Leaving the block reads whatever is left, so the connection is free again."""

    def __init__(self, sql: str, params: list[str]):
        self.sql, self.params = sql, params
        self._pgconn = None

    def __enter__(self) -> _SentQuery:
        connection.ensure_connection()
        pgconn = connection.connection.pgconn
        pgconn.send_query_params(self.sql.encode(), [param.encode() for param in self.params], result_format=1)
        pgconn.set_single_row_mode()
        self._pgconn = pgconn
        return self

    def rows(self) -> Iterator[tuple[bytes | None, ...]]:
        while self._pgconn is not None and (result := self._pgconn.get_result()) is not None:
            if result.status == pq.ExecStatus.SINGLE_TUPLE:
                yield tuple(result.get_value(0, column) for column in range(result.nfields))
            elif result.status != pq.ExecStatus.TUPLES_OK:
                message = result.error_message.decode(errors="replace")
                self._drain()
                raise DatabaseError(message)

    def _drain(self) -> None:
        pgconn, self._pgconn = self._pgconn, None
        if pgconn is not None:
            while pgconn.get_result() is not None:
                pass

    def __exit__(self, *exc_info) -> None:
        self._drain()
