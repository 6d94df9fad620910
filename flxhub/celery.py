"""The Celery app. Periodic tasks come from django-celery-beat rows, kept in step by the integration service."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flxhub.settings.base")

app = Celery("flxhub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
