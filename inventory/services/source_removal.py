"""The dangerous actions on a source: Remove Inventory and Delete Source, both behind a typed confirmation.

Rules:
- Remove Inventory deletes every variant and parent of the source (and their image records). It is refused while
  any line of a live FR (not voided or canceled, not fully shipped) still holds committed stock on one of those
  variants: deleting the variant would leave that stock unaccounted for. FR lines keep their SKU, UPC, title and
  cost, so an FR that is done keeps its history when its variant goes.
- Delete Source deletes the source, its integrations (with their runs and Beat periodic tasks), connections,
  API tokens, exclusion rules and its inventory. It is refused while anything that must keep its history points
  at the source through a protected foreign key (fulfillment requests, source invoices): the message says which.

Inventory is deleted with set-based SQL, not Django's collector, which would load every variant (up to a million)
into memory. The source lock serialises these actions with each other and with themselves.
"""

from dataclasses import dataclass, field, replace

from django.db import IntegrityError, connection, models, transaction
from django_celery_beat.models import PeriodicTask

from flxhub.exceptions import Conflict, NotFound, ValidationFailed
from sources.models import Integration, Source
from sources.services.runs import integration_trigger

from ..models import InventoryParent, InventoryVariant, VariantImage

# The FR statuses in which lines no longer hold stock; kept as strings because inventory does not import orders.
CLOSED_FR_STATUSES = ("voided", "canceled")
CLOSED_SHIPPING_STATUSES = ("shipped", "canceled")
BLOCKER_EXAMPLES = 10


@dataclass(frozen=True)
class InventoryCounts:
    variants: int
    parents: int
    images: int
    reimport_runs: list[int] = field(default_factory=list)  # forced Get Inventory runs queued after a removal


@dataclass(frozen=True)
class SourceDeletion:
    name: str
    inventory: InventoryCounts
    integrations: int
    connections: int
    periodic_tasks: int


def source_inventory_counts(*, source_id: int) -> InventoryCounts:
    """Count what Remove Inventory would delete."""
    return InventoryCounts(
        variants=InventoryVariant.objects.filter(source_id=source_id).count(),
        parents=InventoryParent.objects.filter(source_id=source_id).count(),
        images=VariantImage.objects.filter(variant__source_id=source_id).count(),
    )


def source_inventory_blockers(*, source_id: int) -> list[str]:
    """FR numbers whose live lines hold committed stock on the source's variants (at most BLOCKER_EXAMPLES)."""
    lines = _live_fr_lines_holding_stock(source_id)
    return list(
        lines.order_by("fulfillment_request__number")
        .values_list("fulfillment_request__number", flat=True)
        .distinct()[:BLOCKER_EXAMPLES]
    )


def _live_fr_lines_holding_stock(source_id: int) -> models.QuerySet:
    fr_lines = InventoryVariant._meta.get_field("fr_lines").related_model
    return (
        fr_lines.objects.filter(variant__source_id=source_id, committed_quantity__gt=0)
        .exclude(fulfillment_request__status__in=CLOSED_FR_STATUSES)
        .exclude(fulfillment_request__shipping_status__in=CLOSED_SHIPPING_STATUSES)
    )


def source_protected_references(*, source_id: int) -> dict[str, list[str]]:
    """What keeps the source from being deleted: for each protected relation with rows, a few of them by name."""
    found: dict[str, list[str]] = {}
    for relation in Source._meta.related_objects:
        if relation.on_delete is not models.PROTECT:
            continue
        rows = relation.related_model.objects.filter(**{relation.field.name: source_id}).order_by("pk")
        examples = [str(row) for row in rows[:BLOCKER_EXAMPLES]]
        if examples:
            found[str(relation.related_model._meta.verbose_name_plural)] = examples
    return found


def _lock_confirmed_source(source_id: int, confirm_name: str) -> Source:
    """Lock the source row and check the typed confirmation is exactly its name."""
    try:
        source = Source.objects.select_for_update().get(pk=source_id)
    except Source.DoesNotExist:
        raise NotFound(f"Source {source_id} does not exist (already deleted?).") from None
    if confirm_name != source.name:
        raise ValidationFailed(
            f"The name typed ({confirm_name!r}) is not the source's name ({source.name!r}); nothing was deleted.",
            details={"field": "confirm_name"},
        )
    return source


def _delete_inventory(source_id: int) -> InventoryCounts:
    images = VariantImage.objects.filter(variant__source_id=source_id).delete()[0]
    fr_lines = InventoryVariant._meta.get_field("fr_lines").related_model
    fr_lines.objects.filter(variant__source_id=source_id).update(variant=None)
    variant_table = InventoryVariant._meta.db_table
    parent_table = InventoryParent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {variant_table} WHERE source_id = %s", [source_id])  # noqa: S608
        variants = cursor.rowcount
        cursor.execute(f"DELETE FROM {parent_table} WHERE source_id = %s", [source_id])  # noqa: S608
        parents = cursor.rowcount
    return InventoryCounts(variants=variants, parents=parents, images=images)


def source_inventory_remove(*, source_id: int, confirm_name: str, reimport: bool = False) -> InventoryCounts:
    """Check the typed name and the live-FR rule, then delete every variant and parent of the source. Atomic.

    Feeds are fingerprinted, so a later Get Inventory of the same file would skip it as already applied: with
    ``reimport``, queue a forced run of each enabled Get Inventory (primary) integration after commit.
    """
    try:
        return _inventory_remove(source_id, confirm_name, reimport)
    except IntegrityError as exc:
        # An FR line attached to one of the variants after the check; the whole removal rolled back.
        raise Conflict(
            "Remove Inventory stopped: an FR took stock on this source's variants while they were being removed. "
            "Nothing was deleted; look at the source's FRs and try again."
        ) from exc


def _inventory_remove(source_id: int, confirm_name: str, reimport: bool) -> InventoryCounts:
    with transaction.atomic():
        source = _lock_confirmed_source(source_id, confirm_name)
        blockers = source_inventory_blockers(source_id=source.pk)
        if blockers:
            raise Conflict(
                f"Remove Inventory refused: live FRs hold committed stock on {source.name}'s variants "
                f"({', '.join(blockers)}). Ship, cancel or void them first; nothing was deleted.",
                details={"fulfillment_requests": blockers},
            )
        counts = _delete_inventory(source.pk)
        if reimport:
            primaries = source.integrations.filter(
                operation=Integration.Operation.GET_INVENTORY_PRIMARY, is_enabled=True
            ).order_by("pk")
            runs = [integration_trigger(integration_id=pk, force=True) for pk in primaries.values_list("pk", flat=True)]
            counts = replace(counts, reimport_runs=[run.pk for run in runs])
        return counts


def source_delete(*, source_id: int, confirm_name: str) -> SourceDeletion:
    """Check the typed name and that no FR or invoice refers to the source, then delete it and all it owns. Atomic."""
    with transaction.atomic():
        source = _lock_confirmed_source(source_id, confirm_name)
        references = source_protected_references(source_id=source.pk)
        if references:
            listed = "; ".join(f"{kind}: {', '.join(rows)}" for kind, rows in references.items())
            raise Conflict(
                f"Delete Source refused: {source.name} is referenced by {listed}. FRs and orders keep their "
                "history, so a source they name stays; deactivate it instead. Nothing was deleted.",
                details={"references": references},
            )
        inventory = _delete_inventory(source.pk)
        integrations = Integration.objects.filter(source=source)
        task_ids = [pk for pk in integrations.values_list("periodic_task_id", flat=True) if pk]
        integration_count = integrations.delete()[1].get(Integration._meta.label, 0)
        periodic_tasks = PeriodicTask.objects.filter(pk__in=task_ids).delete()[1].get(PeriodicTask._meta.label, 0)
        connections = source.connections.count()
        name = source.name
        source.delete()
    return SourceDeletion(name, inventory, integration_count, connections, periodic_tasks)
