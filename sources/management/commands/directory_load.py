from django.core.management.base import BaseCommand

from sources.services.directory import directory_ensure_builtin


class Command(BaseCommand):
    help = "Create or refresh the built-in supplier directory entries (US Direct, generic feeds, EDI…) and templates."

    def handle(self, *args, **options):
        entries = directory_ensure_builtin()
        self.stdout.write(
            f"Supplier directory: {len(entries)} built-in entries ({', '.join(e.name for e in entries)})."
        )
