"""Run web, worker, beat and the US Direct simulator together in the foreground; Ctrl-C stops them all."""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand

# Extra processes (e.g. a local supplier simulator) can be appended by apps at import time.
EXTRA_PROCESSES: dict[str, list[str]] = {}

# The demo's US Direct source talks to this simulator (orders.demo.US_DIRECT_SIMULATOR_URL). Orders ship 30 s
# after they are accepted and are invoiced 90 s later, so the demo shows the whole loop within minutes and
# Get Shipments (every minute) records a shipment before its invoice arrives. FLXHUB_USDIRECT_SIMULATOR=0
# leaves it out (e.g. when port 8765 is taken).
USDIRECT_SIMULATOR = [
    "-m",
    "orders.integrations.simulators.usdirect",
    "--port",
    "8765",
    "--shipment-delay",
    "30",
    "--invoice-delay",
    "90",
]


class Command(BaseCommand):
    help = "Start web (gunicorn on 127.0.0.1:8000), a Celery worker, Celery beat and the US Direct simulator."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=os.environ.get("FLXHUB_BIND", "127.0.0.1:8000"))

    def handle(self, *args, bind, **options):
        python = sys.executable
        embedded_worker = ["--pool", "solo"] if settings.EMBEDDED else ["--concurrency", "2"]
        processes = {
            "web": [python, "-m", "gunicorn", "flxhub.wsgi", "--bind", bind, "--workers", "2", "--threads", "4"],
            "worker": [python, "-m", "celery", "-A", "flxhub", "worker", "-l", "info", *embedded_worker],
            "beat": [
                python,
                "-m",
                "celery",
                "-A",
                "flxhub",
                "beat",
                "-l",
                "info",
                "-S",
                "django_celery_beat.schedulers:DatabaseScheduler",
            ],
            **EXTRA_PROCESSES,
        }
        if os.environ.get("FLXHUB_USDIRECT_SIMULATOR", "1") != "0":
            processes["usdirect-simulator"] = [python, *USDIRECT_SIMULATOR]
        children = {name: subprocess.Popen(cmd, start_new_session=True) for name, cmd in processes.items()}
        self.stdout.write(self.style.SUCCESS(f"flxhub is running: http://{bind}/admin/ (Ctrl-C stops everything)"))
        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                for name, proc in children.items():
                    if proc.poll() is not None:
                        self.stderr.write(f"{name} exited with code {proc.returncode}; stopping the others.")
                        stopping = True
                time.sleep(0.5)
        finally:
            for proc in children.values():
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGTERM)
            deadline = time.monotonic() + 15
            for proc in children.values():
                try:
                    proc.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
            self.stdout.write(f"Stopped {', '.join(children)}.")
