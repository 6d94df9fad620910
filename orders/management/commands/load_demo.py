from django.core.management.base import BaseCommand

from orders.demo import demo_load


class Command(BaseCommand):
    help = "Load demo sources, inventory, orders and FRs (idempotent)."

    def handle(self, *args, **options):
        counts = demo_load()
        self.stdout.write(self.style.SUCCESS("Demo data ready: " + ", ".join(f"{v} {k}" for k, v in counts.items())))
