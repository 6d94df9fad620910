"""Committed stock: held on a variant while an FR line is open, released when it ships, is canceled or voided.

Callers must hold the FR's row lock (``select_for_update``) and run inside ``transaction.atomic``.
Variant rows are updated with ``F()`` expressions in primary-key order, so concurrent FRs touching the
same variants neither lose updates nor deadlock.
"""

from django.db.models import F

from inventory.models import InventoryVariant

from ..models import FRLine, FulfillmentRequest


def fr_commit_stock(*, fr: FulfillmentRequest) -> None:
    """Commit each line's quantity on its variant (when the source commits stock)."""
    if not fr.source.commit_stock:
        return
    for line in sorted(fr.lines.all(), key=lambda line: line.variant_id or 0):
        if line.variant_id is None or line.committed_quantity:
            continue
        InventoryVariant.objects.filter(pk=line.variant_id).update(
            committed_quantity=F("committed_quantity") + line.quantity
        )
        line.committed_quantity = line.quantity
        line.save(update_fields=["committed_quantity"])


def line_release_stock(*, line: FRLine, quantity: int | None = None) -> int:
    """Release up to ``quantity`` (default: all) of what ``line`` holds; return the units released."""
    held = line.committed_quantity
    release = held if quantity is None else min(held, quantity)
    if release <= 0:
        return 0
    if line.variant_id is not None:
        InventoryVariant.objects.filter(pk=line.variant_id).update(committed_quantity=F("committed_quantity") - release)
    line.committed_quantity = held - release
    line.save(update_fields=["committed_quantity"])
    return release


def fr_release_stock(*, fr: FulfillmentRequest) -> int:
    """Release everything the FR's lines still hold; return the units released."""
    return sum(line_release_stock(line=line) for line in sorted(fr.lines.all(), key=lambda line: line.variant_id or 0))
