"""Idempotency-Keys are purged daily by Beat: the PeriodicTask exists after migrate, and the task drops old keys."""

from datetime import timedelta
from importlib import import_module

import pytest
from django.apps import apps as django_apps
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from flxhub.celery import app as celery_app
from orders.models import IdempotencyKey
from orders.services.tokens import api_token_create
from orders.tasks import idempotency_keys_purge_task

pytestmark = pytest.mark.django_db
TASK = "orders.idempotency_keys_purge"
schedule_migration = import_module("orders.migrations.0005_idempotency_purge_schedule")


def test_migrate_leaves_a_daily_enabled_periodic_task_for_a_registered_task():
    task = PeriodicTask.objects.get(task=TASK)
    assert task.enabled and task.interval is None
    assert (task.crontab.minute, task.crontab.hour, task.crontab.day_of_week) == ("17", "3", "*")
    assert TASK in celery_app.tasks


def test_scheduling_again_keeps_the_operators_task_as_it_is():
    PeriodicTask.objects.filter(task=TASK).update(enabled=False)
    schedule_migration.schedule_purge(django_apps, None)
    assert list(PeriodicTask.objects.filter(task=TASK).values_list("enabled", flat=True)) == [False]
    PeriodicTask.objects.filter(task=TASK).delete()
    schedule_migration.schedule_purge(django_apps, None)
    assert PeriodicTask.objects.get(task=TASK).enabled


def test_the_task_deletes_keys_past_24_hours_and_keeps_newer_ones(source):
    token, _ = api_token_create(kind="source", name="acme", source_id=source.pk)
    ages = {"old": timedelta(hours=25), "day": timedelta(hours=23), "new": timedelta(minutes=1)}
    for key, age in ages.items():
        row = IdempotencyKey.objects.create(
            token=token, key=key, request_hash="h", response_status=200, response_body={}
        )
        IdempotencyKey.objects.filter(pk=row.pk).update(created_at=timezone.now() - age)
    assert idempotency_keys_purge_task.apply().get() == 1
    assert sorted(IdempotencyKey.objects.values_list("key", flat=True)) == ["day", "new"]
