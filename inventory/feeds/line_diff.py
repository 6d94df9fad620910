"""Which rows of a re-sent CSV feed changed since the last apply: row fingerprints against the variants' (PostgreSQL).

Every data row is fingerprinted raw (``lines.fingerprint_values``) and compared with the fingerprints the source's
variants carry (``content_hash``: the fingerprint of the row that last applied each one). A row whose fingerprint
no variant carries changed, or is new; so does every copy of a row repeated byte for byte (the merge reports the
repeats). A variant whose fingerprint no row carries is *gone*: the only variants a full feed may archive.

The comparison runs in the client, at C speed (no Python code per row), one part of the fingerprints at a time (by
their first hex digit: ``lines.fingerprint_part``), in sets small enough for the CPU's cache. The variants' ids and
fingerprints come from one query, one row per part: it is sent before the file is read and read after, so
PostgreSQL scans the variants on one core while Python hashes the rows on the other. Nothing per row goes to the
server, and it joins no rows with rows. Memory: the fingerprint, number and byte offset of each row (24 bytes a
row), one part of the variants at a time, and a set of one part.
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

from .lines import (
    FINGERPRINT_PARTS,
    CsvLayout,
    CsvRows,
    digest_values,
    fingerprint_part,
    fingerprint_value,
    fingerprint_values,
)
from .variants_sql import VARIANT

_UNFINGERPRINTED = FINGERPRINT_PARTS  # the part of the variants without a fingerprint

# The value of the first hex digit of a content_hash (0-9: 48-57, a-f: 97-102), without a function per character;
# anything else gives a part too, where reading the fingerprint then fails (see diff_lines).
_FIRST_HEX_DIGIT = "(ascii(v.content_hash) + (ascii(v.content_hash) >> 6) * 9) & 15"

# One row per part: the part, the ids of its variants as big-endian 64-bit integers, and their fingerprints in hex
# in the same order (two aggregates of one pass over the same rows). The part is that of lines.fingerprint_part; a
# variant without a fingerprint (never applied by a CSV row, or since written otherwise) is in part 16, the gone
# ones of every full feed, whose content_hash is not sent. The parts are a joined series, not the expression itself:
# the planner then expects 17 groups and hashes them, where it would expect one group per variant and sort them all.
_VARIANT_FINGERPRINTS = f"""
    SELECT part,
           string_agg(int8send(v.id), ''::bytea),
           string_agg(v.content_hash, '') FILTER (WHERE part < {_UNFINGERPRINTED})
    FROM {VARIANT} v
    JOIN generate_series(0, {_UNFINGERPRINTED}) part ON part = CASE
        WHEN octet_length(v.content_hash) = 16 THEN {_FIRST_HEX_DIGIT} ELSE {_UNFINGERPRINTED}
    END
    WHERE v.source_id = $1
    GROUP BY part
"""


@dataclass
class LineDiff:
    """The diff of a feed's data rows (numbered from 1 as the reader numbers them) against the source's variants."""

    total: int  # data rows
    changed: array  # rows no variant carries, or repeated, ascending
    gone: array  # ids of the variants no row carries
    starts: array  # byte offset of each data row (index row - 1)
    values: list[array]  # the fingerprint values of the rows of each part
    numbers: list[array]  # the numbers of those rows

    def unchanged_rows_carrying(self, fingerprints: set[str]) -> dict[str, list[int]]:
        """The unchanged rows carrying each of the stored ``fingerprints`` (a pass over their parts: rare look-ups)."""
        rows: dict[str, list[int]] = {}
        changed = self.changed
        for fingerprint in fingerprints:
            value, part = fingerprint_value(fingerprint), fingerprint_part(fingerprint)
            for row, row_value in zip(self.numbers[part], self.values[part], strict=True):
                if row_value == value:
                    at = bisect_left(changed, row)
                    if at == len(changed) or changed[at] != row:
                        rows.setdefault(fingerprint, []).append(row)
        return rows


def diff_lines(file: IO[bytes], layout: CsvLayout, salt: bytes, source_id: int) -> LineDiff | None:
    """Fingerprint the data rows of ``file`` (read from its position, then rewound) and diff them with the
    variants of ``source_id``; None when a stored fingerprint cannot be read (then every row must be mapped).

    Runs on Django's connection, which must be free: nothing else may use it until this returns. Parallel workers
    should be off in its session: they would take the core that hashes the rows, to shorten a scan that ends sooner.
    """
    start = file.tell()
    with _SentQuery(_VARIANT_FINGERPRINTS, [str(source_id)]) as variants:
        try:
            values, numbers, starts = fingerprint_values(CsvRows(file, layout), salt)
        finally:
            file.seek(start)
        total = len(starts)
        changed = bytearray(total)  # 1 at index row - 1 for a changed row: sorted without a list of them all
        gone = array("q")
        unseen = set(range(FINGERPRINT_PARTS))
        for part_bytes, ids, hexes in variants.rows():
            part = int.from_bytes(part_bytes, "big")
            if part == _UNFINGERPRINTED:
                gone.extend(_big_endian_ids(ids))
                continue
            unseen.discard(part)
            try:
                variant_values = digest_values(bytearray(binascii.unhexlify(hexes)))
            except binascii.Error:
                return None
            for row in _diff_part(values[part], numbers[part], variant_values, _big_endian_ids(ids), gone):
                changed[row - 1] = 1
    for part in unseen:  # no variant has a fingerprint in this part: its rows all changed
        for row in numbers[part]:
            changed[row - 1] = 1
    return LineDiff(
        total=total,
        changed=array("q", compress(range(1, total + 1), changed)),
        gone=gone,
        starts=starts,
        values=values,
        numbers=numbers,
    )


def _diff_part(values: array, rows: array, variant_values: array, variant_ids: array, gone: array) -> Iterator[int]:
    """Add the ids of the part's gone variants to ``gone``; return the part's changed rows."""
    remaining = set(values)  # once the variants are taken out: the rows' values no variant carries
    repeated = len(remaining) < len(values)
    carried = list(map(remaining.__contains__, variant_values))
    if not all(carried):
        gone.extend(compress(variant_ids, map(operator.not_, carried)))
    remaining.difference_update(variant_values)
    if repeated:
        remaining |= _repeated(values)
    return compress(rows, map(remaining.__contains__, values)) if remaining else ()


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
