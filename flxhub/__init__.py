"""flxhub: the project package (settings, urls, Celery app, API plumbing)."""

from .celery import app as celery_app

__all__ = ["celery_app"]
