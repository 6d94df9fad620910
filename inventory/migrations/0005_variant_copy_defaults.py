"""PostgreSQL column defaults the first import's COPY relies on (``inventory.feeds.direct``).

A column COPY does not name takes its default; one it names is parsed from text on every row, and a timestamp
costs the server ~0.9 µs to parse (2.6 s of a 1,000,000-row import for the three), a JSON value ~0.3 µs. The
direct path leaves out every column that has a default here, so each default must be what that path would write:
the apply's time for the timestamps (``now()``: the transaction's start) and the empty JSON of ``JSON_EMPTY``.

Django writes every column itself and never relies on these (they are not in its model state, like an index
added by hand): the ORM, the stage merge and SQLite are unaffected. If a later migration drops one, the direct
path names the column again: it reads which columns have a default at each import.
"""

from django.db import migrations

TABLE = "inventory_inventoryvariant"
DEFAULTS = {
    "created_at": "now()",
    "updated_at": "now()",
    "quantity_updated_at": "now()",
    "options": "'{}'::jsonb",
    "attributes": "'{}'::jsonb",
    "images": "'[]'::jsonb",
}


def set_defaults(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        changes = ", ".join(f"ALTER COLUMN {column} SET DEFAULT {value}" for column, value in DEFAULTS.items())
        schema_editor.execute(f"ALTER TABLE {TABLE} {changes}")


def drop_defaults(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        changes = ", ".join(f"ALTER COLUMN {column} DROP DEFAULT" for column in DEFAULTS)
        schema_editor.execute(f"ALTER TABLE {TABLE} {changes}")


class Migration(migrations.Migration):
    dependencies = [("inventory", "0004_variant_integrity_triggers")]

    operations = [migrations.RunPython(set_defaults, drop_defaults, elidable=False)]
