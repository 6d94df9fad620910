"""The PostgreSQL fast path: stream → map → COPY into temporary stage tables → set-based merge in one transaction.

No ORM instance is built per row. A CSV feed re-sent with few changes is diffed before it is mapped: pass 1
fingerprints every raw row and compares them with the variants' ``content_hash`` (``line_diff``); rows whose
fingerprint some variant carries are unchanged and are neither parsed nor mapped; pass 2 maps only the others
into ``flx_stage``, and the variants no row carries go into ``flx_gone``. The merge then
updates rows whose values are distinct (``IS DISTINCT FROM``), inserts new ones (anti-join), archives the
missing ones and links products — every count comes from a statement's row count.

The stage tables are session temporaries created outside the transaction (so progress can be written while
the feed streams in) and dropped at the end; only the merge runs inside ``transaction.atomic()``, so a failure
or a feed-safety hold leaves inventory exactly as it was.
"""

from __future__ import annotations

import contextlib
import json
from array import array
from itertools import chain
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from sources.models import Source

from .common import (
    INHERITED_TARGETS,
    MAX_STORED_ROW_ERRORS,
    PARENT_TARGETS,
    PQS_TARGETS,
    PROGRESS_EVERY,
    FeedRequest,
    FeedResult,
    RowNote,
    check_feed_safety,
    lock_global_settings,
    sku_room,
)
from .direct import apply_first_import
from .line_diff import LineDiff, diff_lines
from .lines import CsvLayout
from .pipeline import MappedFeed, prepare
from .variants_sql import (
    JSON_TARGETS,
    NUMERIC_TARGETS,
    PARENT,
    STAMPED,
    TEXT_TARGETS,
    VARIANT,
    default_sql,
    link_products,
    variant_fields,
)

# Canonical targets the stage can hold, in stage-column order, with their stage types.
STAGE_TYPES = {
    "sku": "text",
    "master_sku": "text",
    "parent_sku": "text",
    "description": "text",
    "upc": "text",
    "ean": "text",
    "mpn": "text",
    "title": "text",
    "brand": "text",
    "category": "text",
    "options": "jsonb",
    "attributes": "jsonb",
    "images": "jsonb",
    "cost": "numeric",
    "msrp": "numeric",
    "map_price": "numeric",
    "shipping_cost": "numeric",
    "dropship_fee": "numeric",
    "quantity": "bigint",
    "status": "text",
    "weight": "numeric",
    "length": "numeric",
    "width": "numeric",
    "height": "numeric",
}
LIMITS = {"sku": 255, "master_sku": 255, "mpn": 120, "title": 500, "brand": 200, "category": 300, "parent_sku": 255}
MAX_MONEY = 10**10  # numeric(14, 4)
MAX_MEASURE = 10**8  # numeric(12, 4)
MAX_QUANTITY = 2**31 - 1
ANALYZE_AFTER = 50_000  # rows written by one apply
WORK_MEM = "256MB"  # server memory of this session while it applies a feed (a 1M-row hash table needs ~150 MB)
DIFF_AT_MOST = 0.5  # above this share of changed rows, mapping everything is cheaper than diffing


def apply_postgres(request: FeedRequest, source: Source, result: FeedResult) -> None:
    """Apply ``request`` to ``source`` on PostgreSQL; fill ``result``. Raises RunHeld (nothing applied)."""
    exclusions, layout, salt = prepare(request, source)
    if request.kind == "primary" and not _has_variants(source):
        if apply_first_import(request, source, result, exclusions, layout, salt):
            _analyze_after(result)
            return
    with connection.cursor() as cursor:
        stage = _Stage(cursor, request, source, result, exclusions)
        # A large stage and the archive without a diff hash-join up to a million rows; 4 MB would spill them to disk.
        cursor.execute(f"SET work_mem = '{WORK_MEM}'")
        # Compiling a plan to machine code takes 0.1-0.2 s, more than most statements here run (the diff's scan too).
        # Parallel workers: see line_diff.diff_lines (and none of the writing statements here can have any).
        cursor.execute("SET jit = off; SET max_parallel_workers_per_gather = 0")
        try:
            changed = None
            if layout is not None and request.kind == "primary" and stage.has_fingerprints():
                changed = stage.diff_lines(layout, salt)
            feed = MappedFeed(request, result, salt, layout, changed, stage.starts, record_fingerprints=False)
            stage.load(feed)
            feed.finish()
            result.counts["read"] += stage.unchanged_lines
            with transaction.atomic():
                stage.merge()
        finally:
            stage.drop()
            cursor.execute("RESET work_mem; RESET jit; RESET max_parallel_workers_per_gather")
    _analyze_after(result)


def _has_variants(source: Source) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {VARIANT} WHERE source_id = %s)", [source.pk])
        return cursor.fetchone()[0]


def _analyze_after(result: FeedResult) -> None:
    if result.counts["created"] + result.counts["archived"] + result.counts["updated"] >= ANALYZE_AFTER:
        # Fresh statistics let the next run's joins use the (source, sku) index instead of scanning: the table's
        # row count, this source's share, and that a SKU is (nearly) unique. A 3,000-row sample of every column
        # takes 0.04 s on 1M variants. Every column: autovacuum may not have analysed the table yet, and without
        # statistics for sku the planner expected 5,000 variants per (source, sku) and chose to scan them.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL default_statistics_target = 10")
            cursor.execute(f"ANALYZE {VARIANT}")


class _Stage:
    def __init__(self, cursor, request: FeedRequest, source: Source, result: FeedResult, exclusions):
        self.cursor, self.request, self.source, self.result = cursor, request, source, result
        self.exclusions = {name: values for name, values in exclusions.items() if values}
        self.targets: list[str] = []
        self.lines: LineDiff | None = None  # the diff of this feed's rows, when it ran (flx_gone holds its gone)
        self.starts: array | None = None  # byte offset of each data row, when the diff ran
        self.unchanged_lines = 0
        self.staged_ok = 0
        self.existed = False
        self.active: int | None = None
        self.by_index = False
        self.params: dict[str, Any] = {"source": source.pk, "prefix": source.sku_prefix, "now": timezone.now()}
        self.cursor.execute("DROP TABLE IF EXISTS flx_stage, flx_parents, flx_gone")

    # -- loading ----------------------------------------------------------------------------------

    def has_fingerprints(self) -> bool:
        self.cursor.execute(
            f"SELECT EXISTS (SELECT 1 FROM {VARIANT} WHERE source_id = %s AND content_hash <> '')", [self.source.pk]
        )
        return self.cursor.fetchone()[0]

    def diff_lines(self, layout: CsvLayout, salt: bytes) -> array | None:
        """Pass 1: diff the raw rows with the variants (see line_diff); return the changed rows, or None when most
        rows changed. The variants no row carries go into flx_gone."""
        diff = diff_lines(self.request.file, layout, salt, self.source.pk)
        if diff is None:
            self.result.log.append("The variants' row fingerprints could not be read; mapping every row.")
            return None
        total, changed = diff.total, diff.changed
        if len(changed) > total * DIFF_AT_MOST:
            self.result.log.append(f"{len(changed)} of {total} rows changed; mapping every row.")
            return None
        self.cursor.execute("CREATE TEMP TABLE flx_gone (id bigint)")
        if diff.gone:
            with self.cursor.copy("COPY flx_gone (id) FROM STDIN") as copy:
                copy.write("\n".join(map(str, diff.gone)) + "\n")
        self.cursor.execute("ANALYZE flx_gone")
        self.lines = diff
        self.starts = diff.starts
        self.unchanged_lines = total - len(changed)
        self.result.log.append(f"{total} rows: {len(changed)} changed since the last apply, mapping only those.")
        return changed

    def load(self, feed: MappedFeed) -> None:
        """Pass 2: COPY the mapped rows into flx_stage (and first rows of parents into flx_parents)."""
        rows = iter(feed)
        first = next(rows, None)
        data_keys = first[2] if first is not None else {"sku": None}
        if "sku" not in data_keys:
            from flxhub.exceptions import ApplicationError

            raise ApplicationError("The mapping template maps no sku; every inventory row needs one.", code="no_sku")
        self.targets = [target for target in STAGE_TYPES if target in data_keys]
        if self.request.kind == "secondary":
            self.targets = [target for target in self.targets if target == "sku" or target in PQS_TARGETS]
        columns = ", ".join(f"{target} {STAGE_TYPES[target]}" for target in self.targets)
        self.cursor.execute(f"CREATE TEMP TABLE flx_stage (row integer, hash text, ok boolean, {columns})")
        with_parents = "parent_sku" in self.targets
        if with_parents:
            self.cursor.execute(
                "CREATE TEMP TABLE flx_parents (parent_sku text, title text, description text, brand text, "
                "category text, options jsonb, attributes jsonb, images jsonb)"
            )
        copy_sql = f"COPY flx_stage (row, hash, ok, {', '.join(self.targets)}) FROM STDIN"
        targets = self.targets
        json_at = [index + 3 for index, target in enumerate(targets) if target in JSON_TARGETS]
        blanks = [None] * (len(targets) - 1)
        dumps = json.dumps
        parents_seen: set[str] = set()
        parents: list[tuple] = []
        done = 0
        pending = [first] if first is not None else []
        progress = self.request.progress
        exhausted = first is None
        while True:
            with self.cursor.copy(copy_sql) as copy:
                write = copy.write_row
                count = 0
                for item in chain(pending, rows):
                    row, digest, data = item
                    values = [row, digest, True, *map(data.get, targets)]
                    for index in json_at:
                        if values[index] is not None:
                            values[index] = dumps(values[index])
                    write(values)
                    if with_parents:
                        parent_sku = data.get("parent_sku")
                        if parent_sku and parent_sku not in parents_seen and _parent_values(data):
                            parents_seen.add(parent_sku)
                            parents.append(_parent_row(parent_sku, data, dumps))
                    if feed.error_rows:
                        # Rows that failed mapping still name their SKU: staged as not-ok, so not archived.
                        for error_row, sku in feed.error_rows:
                            write([error_row, "", False, sku, *blanks])
                        feed.error_rows.clear()
                    count += 1
                    if count >= PROGRESS_EVERY:
                        break
                else:
                    exhausted = True
                pending = []
                if exhausted and feed.error_rows:
                    for error_row, sku in feed.error_rows:
                        write([error_row, "", False, sku, *blanks])
                    feed.error_rows.clear()
            done += count
            self.staged_ok += count
            if parents:
                with self.cursor.copy("COPY flx_parents FROM STDIN") as copy:
                    for parent in parents:
                        copy.write_row(parent)
                parents.clear()
            if progress is not None:
                progress(done, None)
            if exhausted:
                break

    # -- merging (inside the caller's transaction) ------------------------------------------------

    def merge(self) -> None:
        result, request = self.result, self.request
        lock_global_settings()
        self.existed = bool(self._count(f"SELECT EXISTS (SELECT 1 FROM {VARIANT} WHERE source_id = %(source)s)"))
        if self.existed:
            # Statistics for the joins with the source's variants; a first import only scans the stage.
            self.cursor.execute("ANALYZE flx_stage")
            self._plan_joins()
        else:
            self.active = 0
        # A first import comes here only with parents, or after the direct copy (see direct.py) was refused: so
        # the checks run up front, rather than after an insert of every row that fails.
        self._invalidate()
        if self.existed or request.kind == "secondary":
            self._dedupe()
        # Else the unique (source, sku) index finds repeated SKUs while inserting (see _insert).
        exprs = _Expressions(self.targets, request.kind, self.exclusions)
        self.params.update(exprs.params)
        zeroed = 0
        if self.existed and not request.force:
            zeroed = self._zeroed(exprs)
        rows = self.staged_ok + (self.unchanged_lines if request.kind == "primary" else 0)
        if zeroed or not rows:
            self._active()  # before anything is written: feed safety compares with it
        if request.kind == "secondary":
            updated = self._update(exprs)
            unknown = self._unknown()
            result.counts["skipped"] += unknown
            result.counts["updated"] += updated
            result.counts["unchanged"] += self.staged_ok - updated - unknown + self.unchanged_lines
            self._check_safety(affected=zeroed, rows=rows)
            return
        if "parent_sku" in self.targets:
            self._merge_parents()
        # Archive first: feed safety then knows what it archived, and the active count before (see _active).
        archived, archived_active = self._archive() if request.full and self.existed else (0, 0)
        if archived_active and self.active is None:
            self.active = self._active() + archived_active
        self._check_safety(affected=archived_active + zeroed, rows=rows)
        updated = self._update(exprs) if self.existed else 0
        created, over_limit = self._insert(exprs)
        linked = self._link_products()
        if self.existed and self.staged_ok > updated + created + over_limit:
            # Only a staged row that neither updated nor created a variant can hold a fingerprint to refresh.
            self._refresh_fingerprints()
        counts = result.counts
        counts["created"] += created
        counts["updated"] += updated
        counts["archived"] += archived
        counts["unchanged"] += self.staged_ok - updated - created - over_limit + self.unchanged_lines
        if linked:
            result.log.append(f"Linked {linked} variants to products (by master SKU, then UPC).")

    def _active(self) -> int:
        """How many of the source's variants are active (counted once: it scans them all)."""
        if self.active is None:
            self.active = self._count(
                f"SELECT count(*) FROM {VARIANT} WHERE source_id = %(source)s AND status = 'active'"
            )
        return self.active

    def _plan_joins(self) -> None:
        """Decide whether the stage joins the source's variants through their indexes (``by_index``).

        A re-sent feed stages only its changed lines; left to itself the planner hashes that stage and scans
        every variant of the source once per statement (≈ 0.3-0.5 s each on a million variants). Statements
        whose only nested loop starts from the stage turn hash and merge joins off (``_joins_by_index``); the
        others say it with LATERAL. Turning them off for the whole merge is not safe: with a stale estimate of
        the variants the planner then loops over them and scans the stage for each one (minutes).
        """
        size = self.unchanged_lines + self.staged_ok if self.lines is not None else self._active()
        self.by_index = self.staged_ok * 20 < size

    def _variant_of_stage_row(self) -> str:
        """SQL joining each stage row ``s`` to its variant ``v``: through the (source, sku) index when by_index.

        LATERAL with OFFSET 0 is not flattened into a plain join, so the planner cannot turn it into a hash join.
        """
        if self.by_index:
            return (
                f"CROSS JOIN LATERAL (SELECT * FROM {VARIANT} v WHERE v.source_id = %(source)s AND v.sku = s.sku "
                "OFFSET 0) v"
            )
        return f"JOIN {VARIANT} v ON v.source_id = %(source)s AND v.sku = s.sku"

    @contextlib.contextmanager
    def _joins_by_index(self):
        """Hash and merge joins off for the statements inside, when ``by_index`` (see _plan_joins)."""
        if not self.by_index:
            yield
            return
        self.cursor.execute("SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off")
        yield  # a failure rolls the transaction back, and SET LOCAL with it
        self.cursor.execute("SET LOCAL enable_hashjoin = on; SET LOCAL enable_mergejoin = on")

    def _check_safety(self, *, affected: int, rows: int) -> None:
        """Feed safety; the source's active count is only needed when something would be lost, or nothing read."""
        active = self._active() if affected or not rows else 0
        check_feed_safety(request=self.request, source=self.source, active=active, affected=affected, rows=rows)

    def _count(self, sql: str) -> int:
        self.cursor.execute(sql, self.params)
        return self.cursor.fetchone()[0]

    def _not_ok(self, sql: str, message) -> int:
        """Run an UPDATE … SET ok = false … RETURNING row, sku[, detail]; report each row; return how many."""
        self.cursor.execute(sql, self.params)
        rows = self.cursor.fetchall()
        for returned in rows:
            self.result.error(RowNote(returned[0], returned[1], "sku", returned[1], message(returned)))
        self.staged_ok -= len(rows)
        return len(rows)

    def _invalidate(self) -> None:
        """Validate what the database would refuse (too long, too large) as row errors, not a failed run."""
        checks = [f"length({target}) > {size}" for target, size in LIMITS.items() if target in self.targets]
        measures = ("weight", "length", "width", "height")
        checks += [
            f"{target} >= {MAX_MEASURE if target in measures else MAX_MONEY}"
            for target in NUMERIC_TARGETS
            if target in self.targets
        ]
        if "quantity" in self.targets:
            checks.append(f"quantity > {MAX_QUANTITY}")
        checks.append("sku IS NULL OR sku = ''")
        self._not_ok(
            f"UPDATE flx_stage SET ok = false WHERE ok AND ({' OR '.join(checks)}) RETURNING row, sku",
            lambda returned: (
                "a value is too long or too large for inventory (SKU up to 255 characters, title 500, "
                "prices below 10,000,000,000, quantity up to 2,147,483,647)"
            ),
        )

    def _dedupe(self) -> None:
        """Report every row repeating an earlier row's SKU; only the first row of a SKU is applied."""
        self.cursor.execute("SELECT EXISTS (SELECT sku FROM flx_stage WHERE ok GROUP BY sku HAVING count(*) > 1)")
        if self.cursor.fetchone()[0]:
            self._not_ok(
                """
                UPDATE flx_stage s SET ok = false FROM (
                    SELECT row, min(row) OVER (PARTITION BY sku) AS first FROM flx_stage
                    WHERE ok AND sku IN (SELECT sku FROM flx_stage WHERE ok GROUP BY sku HAVING count(*) > 1)
                ) d
                WHERE s.row = d.row AND d.row <> d.first
                RETURNING s.row, s.sku, d.first
                """,
                lambda returned: f"SKU {returned[1]} repeats row {returned[2]}; only the first row of a SKU is applied",
            )
        if self.lines is None:
            return
        # A changed row whose SKU is also on an unchanged row: the unchanged row's variant carries its fingerprint
        # (it is not among the gone ones, whose fingerprint no row has), and the diff knows the rows carrying it.
        # (Rows repeated byte for byte are all staged: the search above reported them.)
        self.cursor.execute(
            f"""
            SELECT s.row, s.sku, v.content_hash FROM flx_stage s {self._variant_of_stage_row()}
            WHERE s.ok AND NOT EXISTS (SELECT 1 FROM flx_gone g WHERE g.id = v.id)
            """,
            self.params,
        )
        found = self.cursor.fetchall()
        if not found:
            return
        carrying = self.lines.unchanged_rows_carrying({content_hash for _, _, content_hash in found})
        pairs = [
            (row, sku, unchanged_row)
            for row, sku, content_hash in found
            for unchanged_row in carrying.get(content_hash, ())
        ]
        later_rows = []
        for row, sku, unchanged_row in pairs:
            later, first = (row, unchanged_row) if unchanged_row < row else (unchanged_row, row)
            message = f"SKU {sku} repeats row {first}; only the first row of a SKU is applied"
            self.result.error(RowNote(later, sku, "sku", sku, message))
            if later == row:
                later_rows.append(row)
            else:
                self.unchanged_lines -= 1
        if later_rows:
            self.cursor.execute("UPDATE flx_stage SET ok = false WHERE row = ANY(%s)", [later_rows])
            self.staged_ok -= len(later_rows)

    def _zeroed(self, exprs: _Expressions) -> int:
        status = exprs.update.get("status", "v.status")
        quantity = exprs.update.get("quantity", "v.quantity")
        return self._count(
            f"""
            SELECT count(*) FROM flx_stage s {exprs.parent_join}
            {self._variant_of_stage_row()}
            WHERE s.ok AND v.status = 'active'
              AND ({status} IN ('archived', 'discontinued') OR ({quantity} = 0 AND v.quantity > 0))
            """
        )

    def _merge_parents(self) -> None:
        self.cursor.execute(
            f"""
            INSERT INTO {PARENT} (source_id, parent_sku, title, description, brand, category, options, attributes,
                                  images, updated_at)
            SELECT %(source)s, parent_sku, '', '', '', '', '[]', '{{}}', '[]', %(now)s
            FROM (SELECT DISTINCT parent_sku FROM flx_stage WHERE ok AND parent_sku <> '') new
            ON CONFLICT (source_id, parent_sku) DO NOTHING
            """,
            self.params,
        )
        created = self.cursor.rowcount
        values = {
            "title": "COALESCE(NULLIF(f.title, ''), p.title)",
            "description": "COALESCE(NULLIF(f.description, ''), p.description)",
            "brand": "COALESCE(NULLIF(f.brand, ''), p.brand)",
            "category": "COALESCE(NULLIF(f.category, ''), p.category)",
            "options": "COALESCE(f.options, p.options)",
            "attributes": "COALESCE(f.attributes, p.attributes)",
            "images": "COALESCE(f.images, p.images)",
        }
        self.cursor.execute(
            f"""
            UPDATE {PARENT} p SET {", ".join(f"{name} = {expr}" for name, expr in values.items())}, updated_at = %(now)s
            FROM flx_parents f
            WHERE p.source_id = %(source)s AND p.parent_sku = f.parent_sku
              AND ({", ".join(f"p.{name}" for name in values)}) IS DISTINCT FROM ({", ".join(values.values())})
            """,
            self.params,
        )
        self.result.log.append(f"Parents: {created} created, {self.cursor.rowcount} updated.")

    def _update(self, exprs: _Expressions) -> int:
        sets = ", ".join(f"{column} = {expr}" for column, expr in exprs.update.items())
        compare_columns = ", ".join(f"v.{column}" for column in exprs.update)
        compare_values = ", ".join(exprs.update.values())
        quantity = exprs.update.get("quantity")
        stamp = (
            f", quantity_updated_at = CASE WHEN v.quantity IS DISTINCT FROM {quantity} THEN %(now)s "
            "ELSE v.quantity_updated_at END"
            if quantity
            else ""
        )
        fingerprint = "''" if self.request.kind == "secondary" else "s.hash"
        with self._joins_by_index():
            self.cursor.execute(
                f"""
                UPDATE {VARIANT} v SET {sets}, content_hash = {fingerprint}, updated_at = %(now)s{stamp}
                FROM flx_stage s {exprs.parent_join}
                WHERE s.ok AND v.source_id = %(source)s AND v.sku = s.sku
                  AND ({compare_columns}) IS DISTINCT FROM ({compare_values})
                """,
                self.params,
            )
            return self.cursor.rowcount

    def _unknown(self) -> int:
        """Secondary feeds never create: note the rows whose SKU the source does not have."""
        self.cursor.execute(
            f"""
            SELECT s.row, s.sku, count(*) OVER () FROM flx_stage s
            WHERE s.ok AND NOT EXISTS (SELECT 1 FROM {VARIANT} v WHERE v.source_id = %(source)s AND v.sku = s.sku)
            ORDER BY s.row LIMIT {MAX_STORED_ROW_ERRORS}
            """,
            self.params,
        )
        rows = self.cursor.fetchall()
        for row, sku, _ in rows:
            message = f"SKU {sku} is not in this source's inventory; a secondary feed only updates existing variants"
            self.result.note(RowNote(row, sku, "sku", sku, message))
        return rows[0][2] if rows else 0

    def _insert(self, exprs: _Expressions) -> tuple[int, int]:
        """Insert the new variants the plan's SKU limit has room for; report the others. Return (created, over)."""
        missing = f"""
            FROM flx_stage s {exprs.parent_join}
            WHERE s.ok AND NOT EXISTS (SELECT 1 FROM {VARIANT} v WHERE v.source_id = %(source)s AND v.sku = s.sku)
        """
        if self.existed:
            new_rows = missing
            with self._joins_by_index():  # NOT EXISTS on the (source, sku) index: a nested loop can only start at s
                new_count = self._count(f"SELECT count(*) {new_rows}")
            if not new_count:
                return 0, 0  # nothing to insert: no need to count every source's variants for the SKU limit
        else:
            new_rows = f"FROM flx_stage s {exprs.parent_join} WHERE s.ok"
            new_count = self.staged_ok
        limit, room = sku_room()
        columns = ", ".join(exprs.insert)
        values = ", ".join(exprs.insert.values())
        order = f"ORDER BY s.row LIMIT {room}" if new_count > room else ""
        insert = f"INSERT INTO {VARIANT} ({columns}) SELECT {values} {new_rows} {order}"
        if self.existed:
            with self._joins_by_index():
                self.cursor.execute(insert, self.params)
        else:
            # A first import skips the search for repeated SKUs (a pass over the whole stage): the unique index
            # refuses a repeated one, and only then are they reported and the insert run again without them.
            try:
                with transaction.atomic():
                    self.cursor.execute(insert, self.params)
            except IntegrityError:
                self._dedupe()
                new_count = self.staged_ok
                order = f"ORDER BY s.row LIMIT {room}" if new_count > room else ""
                insert = f"INSERT INTO {VARIANT} ({columns}) SELECT {values} {new_rows} {order}"
                self.cursor.execute(insert, self.params)
        created = self.cursor.rowcount
        over = new_count - created
        if over > 0:
            self.cursor.execute(
                f"SELECT s.row, s.sku {missing} ORDER BY s.row LIMIT {MAX_STORED_ROW_ERRORS}", self.params
            )
            message = f"not imported: the plan's SKU limit of {limit} variants is reached"
            for row, sku in self.cursor.fetchall():
                self.result.error(RowNote(row, sku, "sku", sku, message))
            self.result.counts["error"] += over - min(over, MAX_STORED_ROW_ERRORS)
            self.result.log.append(
                f"SKU limit: {over} new variants were not imported (plan limit {limit}); see the row errors."
            )
        return created, over

    def _archive(self) -> tuple[int, int]:
        """Archive the variants missing from the feed; return (archived, of which were active)."""
        present = "NOT EXISTS (SELECT 1 FROM flx_stage s WHERE s.sku = v.sku)"
        if self.lines is not None:
            # The diff already found the variants no line of this feed carries: look only at those.
            variants = (
                f"flx_gone g CROSS JOIN LATERAL (SELECT * FROM {VARIANT} v WHERE v.id = g.id OFFSET 0) v"
                if self.by_index  # by primary key, not a scan of the table (see _variant_of_stage_row)
                else f"flx_gone g JOIN {VARIANT} v ON v.id = g.id"
            )
        else:
            variants = f"{VARIANT} v"
            # Stale statistics can make the planner probe the unindexed stage once per variant (hours on 1M
            # rows); a hash anti-join is right at every size here.
            self.cursor.execute("SET LOCAL enable_nestloop = off; SET LOCAL enable_hashjoin = on")
        self.cursor.execute(
            f"""
            WITH gone AS (
                SELECT v.id, v.status FROM {variants}
                WHERE v.source_id = %(source)s AND (v.status <> 'archived' OR v.quantity <> 0) AND {present}
            ), archived AS (
                UPDATE {VARIANT} v SET status = 'archived', quantity = 0, content_hash = '', updated_at = %(now)s,
                    quantity_updated_at = CASE WHEN v.quantity <> 0 THEN %(now)s ELSE v.quantity_updated_at END
                FROM gone WHERE v.id = gone.id
                RETURNING gone.status
            )
            SELECT count(*), count(*) FILTER (WHERE status = 'active') FROM archived
            """,
            self.params,
        )
        archived, active = self.cursor.fetchone()
        if self.lines is None:
            self.cursor.execute(f"SET LOCAL enable_nestloop = on; SET LOCAL enable_hashjoin = {not self.by_index}")
        return archived, active

    def _link_products(self) -> int:
        return link_products(self.cursor, self.params)

    def _refresh_fingerprints(self) -> None:
        """Rows whose bytes changed but values did not: keep their new fingerprint so the next diff skips them."""
        with self._joins_by_index():
            self.cursor.execute(
                f"""
                UPDATE {VARIANT} v SET content_hash = s.hash FROM flx_stage s
                WHERE s.ok AND s.hash <> '' AND v.source_id = %(source)s AND v.sku = s.sku
                  AND v.content_hash IS DISTINCT FROM s.hash
                """,
                self.params,
            )

    def drop(self) -> None:
        self.cursor.execute("DROP TABLE IF EXISTS flx_stage, flx_parents, flx_gone")


def _parent_values(data: dict[str, Any]) -> bool:
    return any(data.get(target) for target in PARENT_TARGETS)


def _parent_row(parent_sku: str, data: dict[str, Any], dumps) -> tuple:
    options = data.get("options")
    attributes = data.get("attributes")
    images = data.get("images")
    return (
        parent_sku,
        data.get("title"),
        data.get("description"),
        data.get("brand"),
        data.get("category"),
        dumps(list(options)) if options else None,
        dumps(attributes) if attributes else None,
        dumps(images) if images else None,
    )


class _Expressions:
    """The SQL value of each variant column from a stage row ``s`` (and its parent ``p``), for UPDATE and INSERT."""

    def __init__(self, targets: list[str], kind: str, exclusions: dict[str, list[str]]):
        self.params: dict[str, Any] = {}
        with_parent = "parent_sku" in targets
        self.parent_join = (
            f"LEFT JOIN {PARENT} p ON p.source_id = %(source)s AND p.parent_sku = s.parent_sku" if with_parent else ""
        )
        update: dict[str, str] = {}
        insert_values: dict[str, str] = {}
        if kind == "secondary":
            for target in PQS_TARGETS:
                if target in targets:
                    update[target] = f"COALESCE(s.{target}, v.{target})"
            if not update:
                update["quantity"] = "v.quantity"  # a template mapping only SKUs changes nothing
            self.update, self.insert = update, {}
            return
        for target in TEXT_TARGETS:
            if target in targets:
                if target in INHERITED_TARGETS and with_parent:
                    update[target] = f"COALESCE(NULLIF(s.{target}, ''), p.{target}, '')"
                else:
                    update[target] = f"COALESCE(s.{target}, '')"
        for target in NUMERIC_TARGETS:
            if target in targets:
                update[target] = f"s.{target}"
        for target, empty in JSON_TARGETS.items():
            if target in targets:
                update[target] = f"COALESCE(s.{target}, {empty})"
        if "master_sku" in targets:
            update["master_sku"] = "COALESCE(NULLIF(s.master_sku, ''), %(prefix)s || s.sku)"
        else:
            update["master_sku"] = "%(prefix)s || s.sku"
        update["status"] = "COALESCE(s.status, 'active')" if "status" in targets else "'active'"
        if with_parent:
            update["parent_id"] = "p.id"
        insert_values.update(update)
        if "quantity" in targets:
            update["quantity"] = "COALESCE(s.quantity, v.quantity)"
            insert_values["quantity"] = "COALESCE(s.quantity, 0)"
        excluded = []
        for field_name, values in exclusions.items():
            source_value = "s.sku" if field_name == "sku" else update.get(field_name)
            if source_value is None:
                continue
            self.params[f"exclude_{field_name}"] = values
            excluded.append(f"lower({source_value}) = ANY(%(exclude_{field_name})s)")
        update["is_excluded"] = f"({' OR '.join(excluded)})" if excluded else "false"
        insert_values["is_excluded"] = update["is_excluded"]
        self.update = update
        self.insert = _insert_columns(insert_values)


def _insert_columns(values: dict[str, str]) -> dict[str, str]:
    """Every column of a new variant: the mapped value, or the model's default."""
    columns: dict[str, str] = {}
    for model_field in variant_fields():
        name, column = model_field.name, model_field.column
        if name in values or column in values:
            columns[column] = values.get(name, values.get(column))
        elif name == "source":
            columns[column] = "%(source)s"
        elif name == "sku":
            columns[column] = "s.sku"
        elif name == "content_hash":
            columns[column] = "s.hash"
        elif name in STAMPED:
            columns[column] = "%(now)s"
        else:
            columns[column] = default_sql(model_field)
    return columns
