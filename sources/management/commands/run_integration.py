from django.core.management.base import BaseCommand, CommandError

from sources.models import Integration, IntegrationRun
from sources.services.runs import integration_trigger, run_execute


class Command(BaseCommand):
    help = "Run an integration now: queue it for the worker, or with --here run it in this process."

    def add_arguments(self, parser):
        parser.add_argument("integration_id", type=int)
        parser.add_argument("--force", action="store_true", help="Apply even if the same input was applied before.")
        parser.add_argument("--here", action="store_true", help="Run in this process instead of the worker.")

    def handle(self, *args, integration_id, force, here, **options):
        if not Integration.objects.filter(pk=integration_id).exists():
            raise CommandError(f"Integration {integration_id} does not exist.")
        run = integration_trigger(
            integration_id=integration_id, trigger=IntegrationRun.Trigger.MANUAL, force=force, enqueue=not here
        )
        if not here:
            self.stdout.write(f"Queued run {run.pk}.")
            return
        run = run_execute(run_id=run.pk)
        self.stdout.write(f"Run {run.pk}: {run.status} — {run.message}")
        self.stdout.write(
            f"read {run.read_count}, created {run.created_count}, updated {run.updated_count}, "
            f"unchanged {run.unchanged_count}, archived {run.archived_count}, errors {run.error_count}"
        )
