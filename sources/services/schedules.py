"""Keep each integration's django-celery-beat PeriodicTask in step with its schedule."""

import json

from django.db import transaction
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from flxhub.exceptions import ValidationFailed

from ..models import Integration

TASK_NAME = "sources.integration_scheduled"


def _crontab_for(integration: Integration) -> CrontabSchedule:
    if integration.schedule == Integration.Schedule.HOURLY:
        fields = {"minute": "0", "hour": "*"}
    elif integration.schedule == Integration.Schedule.DAILY:
        fields = {"minute": str(integration.daily_at.minute), "hour": str(integration.daily_at.hour)}
    else:
        parts = integration.cron.split()
        if len(parts) != 5:
            raise ValidationFailed(
                f"Cron expression {integration.cron!r} needs 5 fields: minute hour day-of-month month day-of-week.",
                details={"field": "cron"},
            )
        fields = dict(zip(["minute", "hour", "day_of_month", "month_of_year", "day_of_week"], parts, strict=True))
    defaults = {"day_of_month": "*", "month_of_year": "*", "day_of_week": "*", **fields}
    schedule, _ = CrontabSchedule.objects.get_or_create(**defaults, timezone="UTC")
    return schedule


def integration_sync_schedule(*, integration_id: int) -> PeriodicTask | None:
    """Create, update or disable the PeriodicTask that makes Beat run this integration."""
    with transaction.atomic():
        integration = Integration.objects.select_for_update().get(pk=integration_id)
        task = integration.periodic_task
        if integration.schedule == Integration.Schedule.NONE or not integration.is_enabled:
            if task and task.enabled:
                task.enabled = False
                task.save(update_fields=["enabled"])
            return task
        schedule = {"interval": None, "crontab": None}
        if integration.schedule == Integration.Schedule.INTERVAL:
            schedule["interval"], _ = IntervalSchedule.objects.get_or_create(
                every=integration.every_minutes, period=IntervalSchedule.MINUTES
            )
        else:
            schedule["crontab"] = _crontab_for(integration)
        values = {
            "name": f"integration {integration.pk}: {integration}"[:200],
            "task": TASK_NAME,
            "args": json.dumps([integration.pk]),
            "enabled": True,
            **schedule,
        }
        if task is None:
            task = PeriodicTask.objects.create(**values)
            Integration.objects.filter(pk=integration.pk).update(periodic_task=task)
        else:
            for key, value in values.items():
                setattr(task, key, value)
            task.save()
    return task


def integration_save(*, integration: Integration) -> Integration:
    """Validate and save an integration, then bring its schedule in step (admin, API and Beat agree)."""
    integration.full_clean()
    with transaction.atomic():
        integration.save()
        integration_sync_schedule(integration_id=integration.pk)
    integration.refresh_from_db()
    return integration
