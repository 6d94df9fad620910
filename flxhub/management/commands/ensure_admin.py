"""Create the admin user once; print its generated password once (or take it from the environment)."""

import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the 'admin' superuser if missing (password from FLXHUB_ADMIN_PASSWORD, else generated and printed)."

    def handle(self, *args, **options):
        User = get_user_model()
        username = os.environ.get("FLXHUB_ADMIN_USER", "admin")
        if User.objects.filter(username=username).exists():
            self.stdout.write(f"Admin user '{username}' already exists (password unchanged).")
            return
        password = os.environ.get("FLXHUB_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        User.objects.create_superuser(username=username, email="", password=password)
        shown = password if not os.environ.get("FLXHUB_ADMIN_PASSWORD") else "(from FLXHUB_ADMIN_PASSWORD)"
        self.stdout.write(self.style.SUCCESS(f"Created admin user '{username}' with password: {shown}"))
        self.stdout.write("This password is shown once; change it in the admin.")
