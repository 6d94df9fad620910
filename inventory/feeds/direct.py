"""A source's first import on PostgreSQL: the mapped rows COPY straight into the variant table.

A source without variants has nothing to diff, update or archive, so its rows need not pass through a stage:
each mapped row becomes a whole new variant row in Python (the values the stage merge's INSERT would compute)
and is copied into the table inside one transaction, while PostgreSQL writes the rows and their indexes on the
other core. What the stage merge would report as a row error, the table refuses here (a repeated SKU, a value
too long or too large, a missing SKU), and so does the plan's SKU limit: then the transaction rolls back, the
result is put back as it was, and the caller applies the feed through the stage, which says which rows and why.
Feeds with parents go through the stage too (their variants need the parents' ids).

Progress is written by a ``ProgressRelay`` thread: the transaction's own writes are invisible until it commits.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from itertools import chain
from typing import Any

import psycopg
from django.db import DataError, IntegrityError, connection, transaction
from django.utils import timezone

from sources.models import GlobalSettings, Source

from .common import PROGRESS_EVERY, FeedRequest, FeedResult, lock_global_settings
from .lines import CsvLayout
from .pipeline import MappedFeed
from .progress import ProgressRelay
from .variants_sql import (
    JSON_EMPTY,
    NUMERIC_TARGETS,
    PRODUCT_VARIANT,
    STAMPED,
    TEXT_TARGETS,
    VARIANT,
    default_value,
    link_products,
    variant_fields,
)

COPY_LINES = 1000  # rows per write to the COPY stream
REFUSED = (IntegrityError, DataError, psycopg.IntegrityError, psycopg.DataError)


class _Refused(Exception):
    """The direct path cannot apply this feed as it is: the stage path must, and say why."""


def apply_first_import(
    request: FeedRequest,
    source: Source,
    result: FeedResult,
    exclusions: dict[str, list[str]],
    layout: CsvLayout | None,
    salt: bytes,
) -> bool:
    """Apply a primary feed to a source that has no variants; False (nothing changed, file rewound) to use the stage."""
    start = request.file.tell()
    saved = copy.deepcopy(result)
    feed = MappedFeed(request, result, salt, layout, record_fingerprints=False)
    rows = iter(feed)
    first = next(rows, None)
    try:
        if first is None or "parent_sku" in first[2]:
            raise _Refused("")  # nothing to copy, or parents: the stage's work
        params = {"source": source.pk}
        with ProgressRelay(request.progress) as relay, transaction.atomic(), connection.cursor() as cursor:
            encode, columns = row_encoder(first[2].keys(), source, exclusions, defaulted=_defaulted_columns(cursor))
            created = _copy_rows(cursor, columns, encode, chain([first], rows), feed, relay)
            feed.finish()
            lock_global_settings()
            cursor.execute(f"SELECT count(*) FROM {VARIANT}")
            if cursor.fetchone()[0] > GlobalSettings.load().sku_limit:
                raise _Refused("the plan's SKU limit")
            linked = _link_new_variants(cursor, params)
    except (_Refused, *REFUSED) as exc:
        _restore(result, saved)
        request.file.seek(start)
        reason = str(exc) if isinstance(exc, _Refused) else "the variant table refused a row"
        if reason:
            result.log.append(f"First import through the stage ({reason}); the row errors say which rows.")
        return False
    if request.progress is not None:
        request.progress(created, None)  # the last report, on this connection now that the rows are committed
    result.counts["created"] += created
    if linked:
        result.log.append(f"Linked {linked} variants to products (by master SKU, then UPC).")
    return True


def _link_new_variants(cursor, params: dict[str, Any]) -> int:
    """``link_products`` for the rows just copied: nothing to look up without a catalog, else statistics first.

    The table's statistics still describe it as it was before the copy (for a new database, empty): the planner
    then expects a row or two of this source and probes the catalog once per copied variant: 1.8-2.5 s for a
    1M-row feed, even with an empty catalog. ANALYZE counts this transaction's own rows (3,000 sampled, ~0.04 s);
    its lock, held to the commit that follows, makes only a VACUUM or another ANALYZE of the table wait.
    """
    cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {PRODUCT_VARIANT})")
    if not cursor.fetchone()[0]:
        return 0
    cursor.execute("SET LOCAL default_statistics_target = 10")
    cursor.execute(f"ANALYZE {VARIANT}")
    return link_products(cursor, params)


def _restore(result: FeedResult, saved: FeedResult) -> None:
    result.counts, result.row_errors, result.row_notes, result.log = (
        saved.counts,
        saved.row_errors,
        saved.row_notes,
        saved.log,
    )


def _copy_rows(cursor, columns: list[str], encode, items: Iterable, feed: MappedFeed, relay: ProgressRelay) -> int:
    done = 0
    lines: list[str] = []
    with cursor.copy(f"COPY {VARIANT} ({', '.join(columns)}) FROM STDIN") as copy_in:
        for _row, digest, data in items:
            line = encode(data, digest)
            if line is None:
                raise _Refused("a row without a SKU")
            lines.append(line)
            done += 1
            if len(lines) >= COPY_LINES:
                copy_in.write("".join(lines))
                lines.clear()
                if done % PROGRESS_EVERY == 0:
                    relay.report(done)
                    # Rows that failed mapping are row errors already; a first import archives nothing.
                    feed.error_rows.clear()
        copy_in.write("".join(lines))
    return done


def copy_text(value: Any) -> str:
    """``value`` in COPY's text format: NULL as \\N, booleans as t/f, text with its specials escaped."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    return str(value).translate(_COPY_ESCAPES)


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _defaulted_columns(cursor) -> frozenset[str]:
    """The variant columns with a default in the database (migration 0005): COPY leaves those out."""
    cursor.execute(
        "SELECT a.attname FROM pg_attribute a JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
        "WHERE a.attrelid = %s::regclass",
        [VARIANT],
    )
    return frozenset(name for (name,) in cursor.fetchall())


def row_encoder(
    targets: Iterable[str], source: Source, exclusions: dict[str, list[str]], defaulted: frozenset[str] = frozenset()
):
    """Return ``(encode, columns)``: ``encode(data, fingerprint)`` gives a new variant as one line of COPY text in
    ``columns`` order (None for a row the stage must judge): the values of the stage merge's INSERT.

    It is generated source, like the mapping's fast path: one expression per column, no loop per field. The
    columns no feed value decides come last, as one constant text, except those left to the table: NULLs, and
    the ``defaulted`` columns (the database's default is the value: the time and the empty JSON, see 0005).
    """
    targets = set(targets)
    now = timezone.now().isoformat()
    namespace: dict[str, Any] = {"dumps": json.dumps, "escape": copy_text, "NULL": "\\N"}
    body = ["def encode(data, digest):", "    get = data.get", "    sku = get('sku')", "    if not sku:"]
    body += ["        return None"]
    columns: list[str] = []
    fields: list[str] = []  # the f-string field of each column, in columns order
    texts: list[str] = []  # variables holding feed text: escaped when one holds a special character
    constants: list[tuple[str, Any]] = []

    def constant(value: Any) -> str:
        name = f"k{len(namespace)}"
        namespace[name] = value
        return name

    def value(column: str, field: str, *lines: str, text: str | None = None) -> None:
        columns.append(column)
        fields.append(field)
        body.extend(f"    {line}" for line in lines)
        if text:
            texts.append(text)

    for model_field in variant_fields():
        name, column = model_field.name, model_field.column
        if name == "sku":
            value(column, "{sku}", text="sku")
        elif name == "master_sku":
            mapped = "get('master_sku') or " if "master_sku" in targets else ""
            value(column, "{master_sku}", f"master_sku = {mapped}{constant(source.sku_prefix)} + sku", text=name)
        elif name == "content_hash":
            value(column, "{digest}")
        elif name in targets and (name in TEXT_TARGETS or name == "status"):
            # COALESCE(s.name, ...): '' for text, active for a status.
            fallback = "active" if name == "status" else ""
            lines = (f"{name} = get({name!r})", f"if {name} is None:", f"    {name} = {fallback!r}")
            value(column, f"{{{name}}}", *lines, text=name)
        elif name == "quantity" and name in targets:
            value(column, "{quantity!s}", "quantity = get('quantity')", "if quantity is None:", "    quantity = 0")
        elif name in NUMERIC_TARGETS and name in targets:
            value(column, f"{{NULL if {name} is None else {name}!s}}", f"{name} = get({name!r})")
        elif name in JSON_EMPTY and name in targets:
            empty = constant(JSON_EMPTY[name])
            lines = (f"{name} = get({name!r})", f"{name} = {empty} if {name} is None else dumps({name})")
            value(column, f"{{{name}}}", *lines, text=name)
        elif name == "is_excluded":
            value(column, "{excluded}", f"excluded = 't' if {_excluded(targets, exclusions, constant)} else 'f'")
        elif column in defaulted and (name in STAMPED or (name in JSON_EMPTY and name not in targets)):
            continue
        elif name == "source":
            constants.append((column, source.pk))
        elif name in STAMPED:
            constants.append((column, now))
        elif (default := default_value(model_field)) is not None:
            constants.append((column, default))
        # else: a NULL, which the table gives a column COPY does not name (one value less to parse per row).
    # Feed text holding a backslash, tab or line end is escaped (rare); checked once over all of it.
    body.append(f"    text = {' + '.join(texts)}")
    body.append("    if '\\\\' in text or '\\t' in text or '\\n' in text or '\\r' in text:")
    body += [f"        {name} = escape({name})" for name in texts]
    tail = constant("".join("\t" + copy_text(value) for _, value in constants) + "\n")
    line = "\\t".join(fields)  # a tab escape in the generated f-string
    body.append(f'    return f"{line}" + {tail}')
    columns += [column for column, _ in constants]
    exec(compile("\n".join(body), "<first import encoder>", "exec"), namespace)  # noqa: S102 - our own source
    return namespace["encode"], columns


def _excluded(targets: set[str], exclusions: dict[str, list[str]], constant) -> str:
    """The exclusion test of ``_Expressions``: lower(value) = ANY(rule values), over the fields the feed maps."""
    tests = []
    for field_name, rule_values in exclusions.items():
        if not rule_values:
            continue
        if field_name == "sku":
            value = "sku"
        elif field_name in TEXT_TARGETS and field_name in targets:
            value = field_name  # already '' for a missing value, like COALESCE(s.field, '')
        else:
            continue
        tests.append(f"{value}.lower() in {constant(frozenset(rule_values))}")
    return "(" + " or ".join(tests) + ")" if tests else "False"
