"""Integration tasks: take ids, call one service, own the retries of transient errors."""

from celery import shared_task

from flxhub.exceptions import TransientError

from .models import IntegrationRun
from .services.runs import integration_trigger, run_execute, run_fail_after_retries

MAX_RETRIES = 3


@shared_task(name="sources.integration_run", bind=True, max_retries=MAX_RETRIES, acks_late=True)
def integration_run_task(self, run_id: int) -> str:
    try:
        return run_execute(run_id=run_id).status
    except TransientError as exc:
        if self.request.retries >= MAX_RETRIES:
            run_fail_after_retries(run_id=run_id, message=exc.message)
            return IntegrationRun.Status.FAILED
        raise self.retry(exc=exc, countdown=min(300, 5 * 2**self.request.retries))


@shared_task(name="sources.integration_scheduled", ignore_result=True)
def integration_scheduled_task(integration_id: int) -> None:
    """Beat's entry point: queue a scheduled run (the run's own task does the work)."""
    integration_trigger(integration_id=integration_id, trigger=IntegrationRun.Trigger.SCHEDULE)
