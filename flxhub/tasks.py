"""Plumbing tasks: a health probe that proves a worker is consuming the broker."""

from celery import shared_task
from django.db import connection


@shared_task(name="flxhub.ping")
def ping() -> dict:
    """Answer with the database vendor the worker uses, so a caller sees the worker is wired up."""
    return {"pong": True, "database": connection.vendor}
