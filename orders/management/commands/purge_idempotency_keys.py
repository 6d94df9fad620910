from django.core.management.base import BaseCommand

from flxhub.api.idempotency import RETENTION, idempotency_keys_purge


class Command(BaseCommand):
    help = f"Delete API Idempotency-Keys older than {RETENTION} (they are honoured that long)."

    def handle(self, *args, **options):
        self.stdout.write(f"Deleted {idempotency_keys_purge()} idempotency key(s).")
