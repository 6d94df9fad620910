"""A variant's product variant: referential integrity from triggers instead of a FOREIGN KEY constraint.

Why: PostgreSQL queues a check for every row a COPY or INSERT writes into a table with a foreign key, even when the
key is NULL, and runs the queue at COMMIT for Django's DEFERRABLE INITIALLY DEFERRED constraints: 0.7-1.3 s of
server time per 1,000,000 new variants, which feeds write with product_variant_id NULL (linking to products is a
later UPDATE of the rows that match). The triggers below look up only the product variants the rows name.

The guarantee is that of the constraint, as in migration 0004 (read its docstring: same locks, same concurrency
argument under READ COMMITTED, same SQLSTATE 23503, IntegrityError in Django), except that the check runs at the
end of each INSERT statement and as each row is updated, instead of at COMMIT (write a product variant before the
variants that refer to it):

- a variant's non-NULL product_variant_id names an existing inventory_productvariant row, on INSERT (COPY
  included) and on UPDATE; the row is locked FOR KEY SHARE, as PostgreSQL's own RI does;
- a product variant cannot be deleted, nor its id changed, while a variant refers to it (Django's collector first
  sets the variants' product_variant_id to NULL: on_delete=SET_NULL); TRUNCATE of inventory_productvariant is
  refused when it leaves a variant pointing at nothing.

PostgreSQL: on INSERT, a statement trigger over the inserted rows as 0004's (it reads the same transition table:
one more pass over it, ~0.1-0.2 s per 1M rows, and no lock when every key is NULL). A row trigger was tried: an
AFTER INSERT row trigger with a WHEN clause still costs COPY per row (0.8-1.1 s per 1M rows, about what the
foreign key cost), and a BEFORE INSERT row trigger makes COPY insert row by row instead of in batches. On UPDATE,
a row trigger for the rows whose product_variant_id changes, as 0004's.

SQLite: row triggers with a WHEN clause (its own foreign key was checked per row too). A later migration that makes
SQLite remake inventory_inventoryvariant or inventory_productvariant drops these triggers before and creates them
after, together with 0004's:

    integrity = import_module("inventory.migrations.0004_variant_integrity_triggers")
    products = import_module("inventory.migrations.0007_variant_product_triggers")
    operations = [
        migrations.RunPython(products.drop_triggers, products.create_triggers),
        migrations.RunPython(integrity.drop_triggers, integrity.create_triggers),
        migrations.AlterField(...),
        migrations.RunPython(integrity.create_triggers, integrity.drop_triggers),
        migrations.RunPython(products.create_triggers, products.drop_triggers),
    ]
"""

from importlib import import_module

import django.db.models.deletion
from django.db import migrations, models

VARIANT = "inventory_inventoryvariant"
PRODUCT_VARIANT = "inventory_productvariant"
COLUMN = "product_variant_id"
MISSING = (
    f"""'insert or update on table "{VARIANT}" violates referential integrity: """
    f"""key ({COLUMN})=(%s) is not present in table "{PRODUCT_VARIANT}"'"""
)

integrity = import_module("inventory.migrations.0004_variant_integrity_triggers")


def _pg_forward() -> list[str]:
    return [
        f"""
        CREATE FUNCTION inventory_variant_products_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            product_ids bigint[];
            locked bigint;
            missing bigint;
        BEGIN
            SELECT array_agg(DISTINCT {COLUMN}) FILTER (WHERE {COLUMN} IS NOT NULL) INTO product_ids FROM new_rows;
            IF product_ids IS NOT NULL THEN
                SELECT count(*) INTO locked
                  FROM (SELECT 1 FROM {PRODUCT_VARIANT} WHERE id = ANY (product_ids) FOR KEY SHARE) AS referenced;
                IF locked < cardinality(product_ids) THEN
                    SELECT wanted INTO missing FROM unnest(product_ids) AS wanted
                     WHERE NOT EXISTS (SELECT 1 FROM {PRODUCT_VARIANT} WHERE id = wanted) LIMIT 1;
                    RAISE foreign_key_violation USING
                        MESSAGE = format({MISSING}, coalesce(missing::text, 'not committed yet')),
                        TABLE = '{VARIANT}', COLUMN = '{COLUMN}';
                END IF;
            END IF;
            RETURN NULL;
        END $$""",
        f"""
        CREATE TRIGGER inventory_variant_products_inserted AFTER INSERT ON {VARIANT}
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION inventory_variant_products_inserted()""",
        f"""
        CREATE FUNCTION inventory_variant_product_updated() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM 1 FROM {PRODUCT_VARIANT} WHERE id = NEW.{COLUMN} FOR KEY SHARE;
            IF NOT FOUND THEN
                RAISE foreign_key_violation USING
                    MESSAGE = format({MISSING}, NEW.{COLUMN}), TABLE = '{VARIANT}', COLUMN = '{COLUMN}';
            END IF;
            RETURN NEW;
        END $$""",
        f"""
        CREATE TRIGGER inventory_variant_product_updated BEFORE UPDATE OF {COLUMN} ON {VARIANT}
        FOR EACH ROW WHEN (NEW.{COLUMN} IS NOT NULL AND OLD.{COLUMN} IS DISTINCT FROM NEW.{COLUMN})
        EXECUTE FUNCTION inventory_variant_product_updated()""",
        f"""
        CREATE FUNCTION inventory_product_variants_check() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM {VARIANT} WHERE {COLUMN} = OLD.id) THEN
                RAISE foreign_key_violation USING
                    MESSAGE = format('update or delete on table "{PRODUCT_VARIANT}" violates referential integrity: '
                                     'key (id)=(%s) is still referenced from table "{VARIANT}" ({COLUMN})', OLD.id),
                    TABLE = '{PRODUCT_VARIANT}';
            END IF;
            IF TG_OP = 'DELETE' THEN
                RETURN OLD;
            END IF;
            RETURN NEW;
        END $$""",
        f"""
        CREATE TRIGGER inventory_product_variants_delete BEFORE DELETE ON {PRODUCT_VARIANT}
        FOR EACH ROW EXECUTE FUNCTION inventory_product_variants_check()""",
        f"""
        CREATE TRIGGER inventory_product_variants_update BEFORE UPDATE OF id ON {PRODUCT_VARIANT}
        FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION inventory_product_variants_check()""",
        f"""
        CREATE FUNCTION inventory_product_variants_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM {VARIANT} WHERE {COLUMN} IS NOT NULL) THEN
                RAISE foreign_key_violation USING
                    MESSAGE = 'cannot truncate table "{PRODUCT_VARIANT}": '
                              'table "{VARIANT}" still refers to it ({COLUMN})',
                    TABLE = '{PRODUCT_VARIANT}';
            END IF;
            RETURN NULL;
        END $$""",
        f"""
        CREATE TRIGGER inventory_product_variants_truncate AFTER TRUNCATE ON {PRODUCT_VARIANT}
        FOR EACH STATEMENT EXECUTE FUNCTION inventory_product_variants_truncated()""",
    ]


def _pg_backward() -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS inventory_variant_products_inserted ON {VARIANT}",
        f"DROP TRIGGER IF EXISTS inventory_variant_product_updated ON {VARIANT}",
        f"DROP TRIGGER IF EXISTS inventory_product_variants_delete ON {PRODUCT_VARIANT}",
        f"DROP TRIGGER IF EXISTS inventory_product_variants_update ON {PRODUCT_VARIANT}",
        f"DROP TRIGGER IF EXISTS inventory_product_variants_truncate ON {PRODUCT_VARIANT}",
        "DROP FUNCTION IF EXISTS inventory_variant_products_inserted()",
        "DROP FUNCTION IF EXISTS inventory_variant_product_updated()",
        "DROP FUNCTION IF EXISTS inventory_product_variants_check()",
        "DROP FUNCTION IF EXISTS inventory_product_variants_truncated()",
    ]


def _sqlite_forward() -> list[str]:
    missing = (
        f"BEGIN SELECT RAISE(ABORT, 'insert or update on table {VARIANT} violates referential integrity: "
        f"{COLUMN} is not present in table {PRODUCT_VARIANT}'); END"
    )
    absent = f"NOT EXISTS (SELECT 1 FROM {PRODUCT_VARIANT} WHERE id = NEW.{COLUMN})"
    refuse = (
        f"BEGIN SELECT RAISE(ABORT, 'update or delete on table {PRODUCT_VARIANT} violates referential integrity: "
        f"the row is still referenced from table {VARIANT} ({COLUMN})'); END"
    )
    referenced = f"EXISTS (SELECT 1 FROM {VARIANT} WHERE {COLUMN} = OLD.id)"
    return [
        f"CREATE TRIGGER inventory_variant_product_inserted BEFORE INSERT ON {VARIANT} "
        f"FOR EACH ROW WHEN NEW.{COLUMN} IS NOT NULL AND {absent} {missing}",
        f"CREATE TRIGGER inventory_variant_product_updated BEFORE UPDATE OF {COLUMN} ON {VARIANT} "
        f"FOR EACH ROW WHEN NEW.{COLUMN} IS NOT NULL AND NEW.{COLUMN} IS NOT OLD.{COLUMN} AND {absent} {missing}",
        f"CREATE TRIGGER inventory_product_variants_delete BEFORE DELETE ON {PRODUCT_VARIANT} "
        f"FOR EACH ROW WHEN {referenced} {refuse}",
        f"CREATE TRIGGER inventory_product_variants_update BEFORE UPDATE OF id ON {PRODUCT_VARIANT} "
        f"FOR EACH ROW WHEN OLD.id IS NOT NEW.id AND {referenced} {refuse}",
    ]


def _sqlite_backward() -> list[str]:
    names = ["inventory_variant_product_inserted", "inventory_variant_product_updated"]
    names += ["inventory_product_variants_delete", "inventory_product_variants_update"]
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
    dependencies = [("inventory", "0006_variant_fillfactor")]

    operations = [
        # SQLite remakes the variant table to drop its foreign key: 0004's triggers go first and come back after.
        migrations.RunPython(integrity.drop_triggers, integrity.create_triggers),
        migrations.AlterField(
            model_name="inventoryvariant",
            name="product_variant",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="source_variants",
                to="inventory.productvariant",
            ),
        ),
        migrations.RunPython(integrity.create_triggers, integrity.drop_triggers),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
