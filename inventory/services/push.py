"""Inventory pushed by a source over the API: update its variants by SKU, field by field.

Each field of an item is applied by its mode: ``set`` writes the value sent (null clears a nullable
field), ``set_if_not_null`` writes it unless it is null, ``leave`` ignores it. A field not sent is left
as it is. Unknown SKUs are reported per item, never created: variants come from the source's feed.
"""

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from flxhub.exceptions import NotFound, ValidationFailed
from sources.models import Source

from ..models import InventoryVariant

MAX_BATCH = 500
MODES = ("leave", "set", "set_if_not_null")
# Pushable fields; those not nullable in the model cannot be cleared with null.
PUSHABLE = {
    "quantity": False,
    "cost": True,
    "msrp": True,
    "map_price": True,
    "shipping_cost": True,
    "dropship_fee": True,
    "title": False,
    "brand": False,
    "upc": False,
    "ean": False,
    "mpn": False,
    "weight": True,
    "status": False,
}


@dataclass(frozen=True)
class VariantPush:
    sku: str
    values: dict[str, Any]
    modes: dict[str, str] = field(default_factory=dict)


@dataclass
class VariantPushResult:
    sku: str
    status: str  # updated | unchanged | not_found | invalid
    changed: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


def _changes(variant: InventoryVariant, item: VariantPush, default_modes: dict[str, str]) -> tuple[dict, dict]:
    """What ``item`` would change on ``variant`` under its modes: (field → new value, field → error)."""
    changes, errors = {}, {}
    for name, value in item.values.items():
        mode = item.modes.get(name) or default_modes.get(name) or "set"
        if mode == "leave" or (mode == "set_if_not_null" and value is None):
            continue
        if value is None and not PUSHABLE[name]:
            errors[name] = f"{name} cannot be cleared; send a value or use set_if_not_null."
            continue
        if getattr(variant, name) != value:
            changes[name] = value
    return changes, errors


def inventory_variants_push(
    *, source_id: int, items: list[VariantPush], default_modes: dict[str, str] | None = None
) -> list[VariantPushResult]:
    """Apply ``items`` to the source's variants in one transaction; return one result per item, in order."""
    if len(items) > MAX_BATCH:
        raise ValidationFailed(f"At most {MAX_BATCH} variants per call; this one has {len(items)}.")
    default_modes = default_modes or {}
    for name, mode in default_modes.items():
        if name not in PUSHABLE or mode not in MODES:
            raise ValidationFailed(f"Mode {mode!r} for {name!r} is not valid.", details={"modes": {name: mode}})
    if not Source.objects.filter(pk=source_id).exists():
        raise NotFound(f"Source {source_id} does not exist.")
    now = timezone.now()
    results: list[VariantPushResult] = []
    with transaction.atomic():
        skus = {item.sku for item in items}
        variants = {
            v.sku: v
            for v in InventoryVariant.objects.select_for_update()
            .filter(source_id=source_id, sku__in=skus)
            .order_by("pk")
        }
        seen: set[str] = set()
        changed: dict[int, InventoryVariant] = {}
        fields: set[str] = set()
        for item in items:
            if item.sku in seen:
                results.append(VariantPushResult(item.sku, "invalid", errors={"sku": "Sent twice in this batch."}))
                continue
            seen.add(item.sku)
            variant = variants.get(item.sku)
            if variant is None:
                results.append(VariantPushResult(item.sku, "not_found", errors={"sku": "No variant with this SKU."}))
                continue
            changes, errors = _changes(variant, item, default_modes)
            if errors:
                results.append(VariantPushResult(item.sku, "invalid", errors=errors))
                continue
            if not changes:
                results.append(VariantPushResult(item.sku, "unchanged"))
                continue
            for name, value in changes.items():
                setattr(variant, name, value)
            if "quantity" in changes:
                variant.quantity_updated_at = now
                fields.add("quantity_updated_at")
            # The next feed row must be applied in full even if it equals the last one the feed sent.
            variant.content_hash = ""
            variant.updated_at = now
            fields.update(changes)
            changed[variant.pk] = variant
            results.append(VariantPushResult(item.sku, "updated", changed=sorted(changes)))
        if changed:
            InventoryVariant.objects.bulk_update(
                [changed[pk] for pk in sorted(changed)], sorted(fields | {"content_hash", "updated_at"})
            )
    return results
