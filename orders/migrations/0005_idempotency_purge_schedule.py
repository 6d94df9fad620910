"""Schedule the daily purge of API Idempotency-Keys with django-celery-beat, in every deployment.

A data migration rather than a post_migrate handler: it runs once per database, on the ``migrate`` every
deployment already does, and then leaves the PeriodicTask to the operators (they may move or disable it
in the admin; a handler would undo that on the next migrate). It is idempotent: an existing task for
``orders.idempotency_keys_purge`` is kept as it is.
"""

from django.db import migrations
from django.utils import timezone

TASK = "orders.idempotency_keys_purge"
NAME = "Purge API idempotency keys (daily)"


def schedule_purge(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    if PeriodicTask.objects.filter(task=TASK).exists():
        return
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    daily, _ = CrontabSchedule.objects.get_or_create(
        minute="17", hour="3", day_of_month="*", month_of_year="*", day_of_week="*", timezone="UTC"
    )
    PeriodicTask.objects.create(
        name=NAME,
        task=TASK,
        crontab=daily,
        enabled=True,
        description="Idempotency-Keys are honoured for 24 hours; older ones are deleted once a day.",
    )
    # What django-celery-beat's signals do on a save: tell a running Beat to reload its schedule.
    apps.get_model("django_celery_beat", "PeriodicTasks").objects.update_or_create(
        ident=1, defaults={"last_update": timezone.now()}
    )


def unschedule_purge(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task=TASK).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0004_fr_source_updated_cursor"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule_purge, unschedule_purge)]
