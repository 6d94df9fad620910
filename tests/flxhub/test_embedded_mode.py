"""The embedded default that `make run` gives a newcomer: SQLite, the demo, and the operator pages."""

import os
import subprocess
import sys

import pytest

from tests.workers import REPO_ROOT

pytestmark = pytest.mark.slow


PORTAL_PROBE = """
from django.contrib.auth import get_user_model
from django.test import Client
from sources.models import Source
client = Client()
client.force_login(get_user_model().objects.get(username="admin"))
source = Source.objects.order_by("pk").first().pk
pages = ["/dashboard/", "/orders/", "/frs/", "/frs/?overdue=1", "/runs/", "/sources/", "/sources/new/",
         f"/sources/{source}/", f"/sources/{source}/onboarding/finalize/", f"/sources/{source}/inventory/",
         f"/sources/{source}/remove-inventory/", "/inventory/exclusions/", "/mapping-templates/",
         "/mapping-templates/new/?kind=inventory"]
for page in pages:
    print(page, client.get(page, HTTP_HOST="127.0.0.1").status_code)
"""


def test_embedded_mode_serves_every_portal_page_on_sqlite_with_the_demo_loaded(tmp_path):
    """What `make run` gives a newcomer: the demo on SQLite, and every operator page answering 200."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "CELERY_BROKER_URL")
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "flxhub.settings.base",
            "FLXHUB_DATA_DIR": str(tmp_path / "data"),
            "FLXHUB_ADMIN_PASSWORD": "embedded-admin-pw",
        }
    )
    manage = [sys.executable, "manage.py"]
    for command in (["migrate", "--noinput", "-v0"], ["directory_load"], ["load_demo"], ["ensure_admin"]):
        subprocess.run([*manage, *command], cwd=REPO_ROOT, env=env, check=True, timeout=300, capture_output=True)
    out = subprocess.run(
        [*manage, "shell", "-c", PORTAL_PROBE], cwd=REPO_ROOT, env=env, timeout=300, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    answers = dict(line.rsplit(" ", 1) for line in out.stdout.splitlines() if line.startswith("/"))
    assert len(answers) == 14 and set(answers.values()) == {"200"}, out.stdout + out.stderr[-3000:]
