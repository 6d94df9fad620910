"""Create or refresh the "Operators" group: operators run and handle, only admins change credentials and settings."""

from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand
from django.db import transaction

GROUP_NAME = "Operators"
VIEW_APPS = ("sources", "inventory", "orders", "django_celery_beat", "django_celery_results")
# Admin-only models: not even viewable (token hashes and idempotency records are the admin's business).
HIDDEN = {("orders", "apitoken"), ("orders", "idempotencykey")}
# What operators handle by hand. Never here: connections, API tokens, global settings.
CHANGEABLE = {("orders", "order"), ("orders", "fulfillmentrequest"), ("sources", "integrationrun")}


def operator_group_ensure() -> tuple[Group, list[Permission]]:
    """Create the Operators group if missing and set its permissions to exactly the operator set (idempotent).

    Run after migrations, since it reads the permissions Django created for each model.
    """
    wanted = []
    permissions = Permission.objects.filter(content_type__app_label__in=VIEW_APPS).select_related("content_type")
    for permission in permissions:
        model = (permission.content_type.app_label, permission.content_type.model)
        action = permission.codename.split("_", 1)[0]
        if model in HIDDEN:
            continue
        if action == "view" or (action == "change" and model in CHANGEABLE):
            wanted.append(permission)
    with transaction.atomic():
        group, _ = Group.objects.get_or_create(name=GROUP_NAME)
        group.permissions.set(wanted)
    return group, wanted


class Command(BaseCommand):
    help = 'Create or refresh the "Operators" group: view everything but tokens; change orders, FRs and runs.'

    def handle(self, *args, **options):
        group, permissions = operator_group_ensure()
        changeable = sorted(p.codename for p in permissions if p.codename.startswith("change_"))
        self.stdout.write(
            f"{group.name}: {len(permissions)} permissions (view everything but API tokens; {', '.join(changeable)}). "
            "Add operators to the group and mark them staff."
        )
