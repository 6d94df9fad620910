"""Variants' source and parent: referential integrity from triggers instead of FOREIGN KEY constraints.

Why: PostgreSQL checks a foreign key with one query per inserted row, at COMMIT for Django's DEFERRABLE INITIALLY
DEFERRED constraints. Measured on a 1,000,000-row INSERT … SELECT into this table: 6.0–6.7 s at COMMIT for the
source_id and parent_id checks (10.2–11.5 s when every row has one of 100,000 parents); the statement trigger below
checks the same rows in 0.31 s (0.56–0.86 s), plus what capturing the inserted rows as a transition table adds to
the INSERT itself.

The guarantees are those of the two constraints, except that a check now runs at the end of each statement instead
of at COMMIT (so rows must be written in order: a source or parent before its variants, variants deleted before
their source or parent):

- a variant's non-NULL source_id / parent_id names an existing sources_source / inventory_inventoryparent row,
  on INSERT (COPY included) and on UPDATE;
- a source or parent cannot be deleted, nor its id changed, while a variant refers to it; TRUNCATE of sources_source
  or inventory_inventoryparent is refused when it leaves a variant pointing at nothing (TRUNCATE with the variants
  in the same statement, as Django's flush does, passes).

Violations raise SQLSTATE 23503 (foreign_key_violation) on PostgreSQL and a constraint error from RAISE(ABORT) on
SQLite: Django raises IntegrityError for both, and the failing statement changes nothing.

PostgreSQL:
- variants, AFTER INSERT FOR EACH STATEMENT with the inserted rows as a transition table: the distinct source and
  parent ids, then each referenced row locked FOR KEY SHARE (as PostgreSQL's own RI does); fewer rows locked than
  ids means an id is missing (or its row was deleted meanwhile): raise, naming the column and a missing id.
- variants, BEFORE UPDATE OF source_id, parent_id FOR EACH ROW WHEN the value changes: the same lock and check for
  the new value. Django's save() and bulk_update() write source_id unchanged: the WHEN clause skips them.
- sources_source and inventory_inventoryparent, BEFORE DELETE and BEFORE UPDATE OF id (when it changes) FOR EACH ROW:
  refuse while a variant refers to the row; AFTER TRUNCATE: refuse if a variant is left referring to the table.

Concurrency under READ COMMITTED (Django's level; flxhub uses no other). Transaction I inserts variants of source S,
transaction D deletes S.
- I first. I's statement trigger holds a FOR KEY SHARE lock on S until I ends. D's DELETE locks the row
  (FOR UPDATE strength) before its BEFORE DELETE trigger runs, so D waits for I. If I commits, D's trigger then
  queries with a new snapshot, sees I's variants and raises 23503; if I rolls back, D deletes S.
- D first. D holds the row lock from before its trigger's check (which cannot see I's uncommitted variants) until
  D ends. I's FOR KEY SHARE waits for D. If D commits, the row is gone, the lock finds nothing and I raises 23503
  (its whole INSERT is undone); if D rolls back, I locks S and goes on.
- I inserting while D checks, in either interleaving, is one of the two cases above: whoever locks S first wins,
  and the other sees its committed outcome. The same holds for an UPDATE of a variant's source or parent (its
  BEFORE UPDATE trigger takes the lock) and for an UPDATE of sources_source.id (it locks the row like a DELETE).
  Updates of a source's other columns do not conflict with FOR KEY SHARE, exactly as with a foreign key.
- Under REPEATABLE READ (unused here) D's check would use its old snapshot and could miss I's committed variants;
  PostgreSQL's own RI checks with a fresh snapshot there. SERIALIZABLE is safe (the two reads and writes conflict).

SQLite (the embedded mode): BEFORE INSERT / UPDATE triggers on variants and BEFORE DELETE / UPDATE OF id triggers on
sources and parents, per row; one writer at a time, so no race. They cost about 2.5 µs per inserted row (SQLite's own
foreign keys were nearly free): a 1,000,000-row INSERT … SELECT takes 8.7–11.5 CPU s instead of 6.1–7.7.

A later migration that makes Django remake inventory_inventoryvariant, inventory_inventoryparent or sources_source on
SQLite (most AlterField and RemoveField do: new table, copy, drop, rename) fails with "error in trigger …: no such
table" while these triggers exist, and the remade table would lose its own triggers. Such a migration drops the
triggers first and creates them again after (PostgreSQL alters in place; dropping and creating there costs nothing):

    integrity = import_module("inventory.migrations.0004_variant_integrity_triggers")
    operations = [
        migrations.RunPython(integrity.drop_triggers, integrity.create_triggers),
        migrations.AlterField(...),
        migrations.RunPython(integrity.create_triggers, integrity.drop_triggers),
    ]

tests/inventory/test_variant_integrity.py runs every migration on SQLite and checks the triggers work after them.
"""

import django.db.models.deletion
from django.db import migrations, models

VARIANT = "inventory_inventoryvariant"
# (variant column, referenced table, short name used in the trigger and function names)
REFERENCES = [("source_id", "sources_source", "source"), ("parent_id", "inventory_inventoryparent", "parent")]


def _pg_missing_message(column: str, table: str) -> str:
    """The format() string of the error a variant naming a missing row raises (%s: the id)."""
    return (
        f"""'insert or update on table "{VARIANT}" violates referential integrity: """
        f"""key ({column})=(%s) is not present in table "{table}"'"""
    )


def _pg_lock_or_raise(column: str, table: str, ids: str) -> str:
    """PL/pgSQL: lock the rows of ``table`` whose id is in the array ``ids`` FOR KEY SHARE; raise if any is missing."""
    return f"""
    IF {ids} IS NOT NULL THEN
        SELECT count(*) INTO locked FROM (SELECT 1 FROM {table} WHERE id = ANY ({ids}) FOR KEY SHARE) AS referenced;
        IF locked < cardinality({ids}) THEN
            SELECT wanted INTO missing FROM unnest({ids}) AS wanted
             WHERE NOT EXISTS (SELECT 1 FROM {table} WHERE id = wanted) LIMIT 1;
            RAISE foreign_key_violation USING
                MESSAGE = format({_pg_missing_message(column, table)}, coalesce(missing::text, 'not committed yet')),
                TABLE = '{VARIANT}', COLUMN = '{column}';
        END IF;
    END IF;"""


def _pg_lock_one_or_raise(column: str, table: str) -> str:
    """PL/pgSQL for a row trigger: when NEW.<column> changes to an id, lock its row FOR KEY SHARE or raise."""
    return f"""
            IF NEW.{column} IS DISTINCT FROM OLD.{column} AND NEW.{column} IS NOT NULL THEN
                PERFORM 1 FROM {table} WHERE id = NEW.{column} FOR KEY SHARE;
                IF NOT FOUND THEN
                    RAISE foreign_key_violation USING
                        MESSAGE = format({_pg_missing_message(column, table)}, NEW.{column}),
                        TABLE = '{VARIANT}', COLUMN = '{column}';
                END IF;
            END IF;"""


def _pg_forward() -> list[str]:
    locks = "".join(_pg_lock_or_raise(column, table, f"{name}_ids") for column, table, name in REFERENCES)
    statements = [
        f"""
        CREATE FUNCTION inventory_variant_refs_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            source_ids bigint[];
            parent_ids bigint[];
            locked bigint;
            missing bigint;
        BEGIN
            -- One pass over the inserted rows (their distinct (source, parent) pairs), then each id once.
            SELECT array_agg(DISTINCT source_id) FILTER (WHERE source_id IS NOT NULL),
                   array_agg(DISTINCT parent_id) FILTER (WHERE parent_id IS NOT NULL)
              INTO source_ids, parent_ids
              FROM (SELECT DISTINCT source_id, parent_id FROM new_rows) AS pairs;
            {locks}
            RETURN NULL;
        END $$""",
        f"""
        CREATE TRIGGER inventory_variant_refs_inserted AFTER INSERT ON {VARIANT}
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION inventory_variant_refs_inserted()""",
        f"""
        CREATE FUNCTION inventory_variant_refs_updated() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            {"".join(_pg_lock_one_or_raise(column, table) for column, table, _ in REFERENCES)}
            RETURN NEW;
        END $$""",
        f"""
        CREATE TRIGGER inventory_variant_refs_updated BEFORE UPDATE OF source_id, parent_id ON {VARIANT}
        FOR EACH ROW WHEN (OLD.source_id IS DISTINCT FROM NEW.source_id OR OLD.parent_id IS DISTINCT FROM NEW.parent_id)
        EXECUTE FUNCTION inventory_variant_refs_updated()""",
    ]
    for column, table, name in REFERENCES:
        statements += [
            f"""
            CREATE FUNCTION inventory_{name}_variants_check() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF EXISTS (SELECT 1 FROM {VARIANT} WHERE {column} = OLD.id) THEN
                    RAISE foreign_key_violation USING
                        MESSAGE = format('update or delete on table "{table}" violates referential integrity: '
                                         'key (id)=(%s) is still referenced from table "{VARIANT}" ({column})',
                                         OLD.id),
                        TABLE = '{table}';
                END IF;
                IF TG_OP = 'DELETE' THEN
                    RETURN OLD;
                END IF;
                RETURN NEW;
            END $$""",
            f"""
            CREATE TRIGGER inventory_{name}_variants_delete BEFORE DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION inventory_{name}_variants_check()""",
            f"""
            CREATE TRIGGER inventory_{name}_variants_update BEFORE UPDATE OF id ON {table}
            FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION inventory_{name}_variants_check()""",
            f"""
            CREATE FUNCTION inventory_{name}_variants_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF EXISTS (SELECT 1 FROM {VARIANT} WHERE {column} IS NOT NULL) THEN
                    RAISE foreign_key_violation USING
                        MESSAGE = 'cannot truncate table "{table}": table "{VARIANT}" still refers to it ({column})',
                        TABLE = '{table}';
                END IF;
                RETURN NULL;
            END $$""",
            f"""
            CREATE TRIGGER inventory_{name}_variants_truncate AFTER TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION inventory_{name}_variants_truncated()""",
        ]
    return statements


def _pg_backward() -> list[str]:
    statements = [
        f"DROP TRIGGER IF EXISTS inventory_variant_refs_inserted ON {VARIANT}",
        f"DROP TRIGGER IF EXISTS inventory_variant_refs_updated ON {VARIANT}",
        "DROP FUNCTION IF EXISTS inventory_variant_refs_inserted()",
        "DROP FUNCTION IF EXISTS inventory_variant_refs_updated()",
    ]
    for _, table, name in REFERENCES:
        statements += [
            f"DROP TRIGGER IF EXISTS inventory_{name}_variants_delete ON {table}",
            f"DROP TRIGGER IF EXISTS inventory_{name}_variants_update ON {table}",
            f"DROP TRIGGER IF EXISTS inventory_{name}_variants_truncate ON {table}",
            f"DROP FUNCTION IF EXISTS inventory_{name}_variants_check()",
            f"DROP FUNCTION IF EXISTS inventory_{name}_variants_truncated()",
        ]
    return statements


def _sqlite_missing(column: str, table: str) -> str:
    """SQLite trigger statement: abort when NEW.<column> is set and names no row of ``table``."""
    return (
        f"SELECT RAISE(ABORT, 'insert or update on table {VARIANT} violates referential integrity: "
        f"{column} is not present in table {table}') "
        f"WHERE NEW.{column} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {table} WHERE id = NEW.{column});"
    )


def _sqlite_forward() -> list[str]:
    checks = " ".join(_sqlite_missing(column, table) for column, table, _ in REFERENCES)
    changed = " OR ".join(f"NEW.{column} IS NOT OLD.{column}" for column, _, _ in REFERENCES)
    statements = [
        f"CREATE TRIGGER inventory_variant_refs_inserted BEFORE INSERT ON {VARIANT} FOR EACH ROW BEGIN {checks} END",
        f"CREATE TRIGGER inventory_variant_refs_updated BEFORE UPDATE OF source_id, parent_id ON {VARIANT} "
        f"FOR EACH ROW WHEN {changed} BEGIN {checks} END",
    ]
    for column, table, name in REFERENCES:
        refuse = (
            f"BEGIN SELECT RAISE(ABORT, 'update or delete on table {table} violates referential integrity: "
            f"the row is still referenced from table {VARIANT} ({column})'); END"
        )
        referenced = f"EXISTS (SELECT 1 FROM {VARIANT} WHERE {column} = OLD.id)"
        statements += [
            f"CREATE TRIGGER inventory_{name}_variants_delete BEFORE DELETE ON {table} "
            f"FOR EACH ROW WHEN {referenced} {refuse}",
            f"CREATE TRIGGER inventory_{name}_variants_update BEFORE UPDATE OF id ON {table} "
            f"FOR EACH ROW WHEN OLD.id IS NOT NEW.id AND {referenced} {refuse}",
        ]
    return statements


def _sqlite_backward() -> list[str]:
    names = ["inventory_variant_refs_inserted", "inventory_variant_refs_updated"]
    names += [f"inventory_{name}_variants_{event}" for _, _, name in REFERENCES for event in ("delete", "update")]
    return [f"DROP TRIGGER IF EXISTS {name}" for name in names]


FORWARD = {"postgresql": _pg_forward, "sqlite": _sqlite_forward}
BACKWARD = {"postgresql": _pg_backward, "sqlite": _sqlite_backward}


def _execute(statements: dict, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor not in statements:
        raise NotImplementedError(f"No variant integrity triggers for {vendor}; flxhub runs on PostgreSQL or SQLite.")
    for statement in statements[vendor]():
        schema_editor.execute(statement, params=None)


def create_triggers(apps, schema_editor) -> None:
    """Create the triggers (a RunPython function; later migrations that remake a table on SQLite use it too)."""
    _execute(FORWARD, schema_editor)


def drop_triggers(apps, schema_editor) -> None:
    """Drop the triggers that exist (a RunPython function)."""
    _execute(BACKWARD, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0003_variant_lean_indexes"),
        ("sources", "0002_connection_last_test_ok_blank"),
    ]

    operations = [
        migrations.AlterField(
            model_name="inventoryvariant",
            name="parent",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="variants",
                to="inventory.inventoryparent",
            ),
        ),
        migrations.AlterField(
            model_name="inventoryvariant",
            name="source",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="inventory_variants",
                to="sources.source",
            ),
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
