"""PostgreSQL: leave 10 % of each variant heap page free, so price and quantity updates stay on their page.

A feed's usual change is a variant's quantity or cost, and no index covers those columns: with room on the page
PostgreSQL writes the new row version there as a heap-only tuple (HOT), touching none of the variant indexes.
Pages filled to 100 % by a COPY have no room, so every such update moved the row to another page and inserted an
entry into each index; after a checkpoint each of those pages also went into the WAL whole. Measured on the
1 %-changed bench (10,000 updates scattered over 1M variants): see the commit. New pages only; a table rewrite
(VACUUM FULL, CLUSTER) applies it to the old ones.
"""

from django.db import migrations

TABLE = "inventory_inventoryvariant"


def set_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {TABLE} SET (fillfactor = 90)")


def reset_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {TABLE} RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("inventory", "0005_variant_copy_defaults")]

    operations = [migrations.RunPython(set_fillfactor, reset_fillfactor, elidable=False)]
