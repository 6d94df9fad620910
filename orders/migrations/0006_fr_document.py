"""FR documents: each FR as the supplier API renders it, for the polling page (``orders.services.fr_documents``).

The triggers that write them are installed after every migrate (post_migrate), from the rendering in the code.
Going back past this migration drops them with the table: they would write into a table that is gone.
"""

from django.db import migrations, models


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # Dropping the trigger functions drops the triggers that call them (CASCADE).
    schema_editor.execute(
        "DO $$ DECLARE f regprocedure; BEGIN"
        " FOR f IN SELECT oid::regprocedure FROM pg_proc WHERE proname LIKE 'flx\\_frdoc\\_%' LOOP"
        " EXECUTE format('DROP FUNCTION %s CASCADE', f); END LOOP; END $$",
        None,  # no parameters: the text goes as written, % and all
    )


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0005_idempotency_purge_schedule"),
    ]

    operations = [
        migrations.CreateModel(
            name="FRDocument",
            fields=[
                ("fulfillment_request_id", models.BigIntegerField(primary_key=True, serialize=False)),
                ("updated_at", models.DateTimeField(help_text="The FR's updated_at when this was rendered.")),
                ("version", models.CharField(help_text="Which rendering of the API wrote it.", max_length=32)),
                ("body", models.TextField()),
            ],
            options={
                "verbose_name": "FR document",
            },
        ),
        migrations.RunPython(migrations.RunPython.noop, drop_triggers),
    ]
