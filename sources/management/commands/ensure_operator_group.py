"""Create or refresh the "Operators" group: operators run and handle, only admins change credentials and settings."""

from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand
from django.db import transaction

GROUP_NAME = "Operators"
VIEW_APPS = ("sources", "inventory", "orders", "django_celery_beat", "django_celery_results")
# Admin-only models: not even viewable (token hashes and idempotency records are the admin's business).
HIDDEN = {("orders", "apitoken"), ("orders", "idempotencykey")}
# What operators do by hand (DESIGN §1: onboard sources, map feeds, watch syncs, handle orders and FRs), by model.
# Never here: connections (credentials), API tokens, global settings, and deleting anything (the dangerous actions).
OPERATOR_ACTIONS = {
    ("orders", "order"): {"change"},
    ("orders", "fulfillmentrequest"): {"change"},
    ("sources", "integrationrun"): {"change"},
    ("sources", "source"): {"add", "change"},
    ("sources", "integration"): {"add", "change"},
    ("sources", "mappingtemplate"): {"add", "change"},
    ("sources", "fieldrule"): {"add", "change"},
    ("inventory", "inventoryvariant"): {"change"},
    ("inventory", "product"): {"add"},
    ("inventory", "productvariant"): {"add"},
    ("inventory", "exclusionrule"): {"add"},
}


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
        if action == "view" or action in OPERATOR_ACTIONS.get(model, ()):
            wanted.append(permission)
    with transaction.atomic():
        group, _ = Group.objects.get_or_create(name=GROUP_NAME)
        group.permissions.set(wanted)
    return group, wanted


class Command(BaseCommand):
    help = (
        'Create or refresh the "Operators" group: view everything but tokens; onboard sources, map feeds, link '
        "products, handle orders, FRs and runs; never credentials, tokens, global settings or deletes."
    )

    def handle(self, *args, **options):
        group, permissions = operator_group_ensure()
        handled = sorted(p.codename for p in permissions if not p.codename.startswith("view_"))
        self.stdout.write(
            f"{group.name}: {len(permissions)} permissions (view everything but API tokens; {', '.join(handled)}). "
            "Add operators to the group and mark them staff."
        )
