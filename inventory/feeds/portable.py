"""The portable path (SQLite, or any database without COPY): batched upserts with the ORM, one transaction.

Same semantics as the PostgreSQL path. A row whose fingerprint equals the variant's ``content_hash`` is
unchanged and not written; the others are written with ``bulk_create(update_conflicts=True)`` in batches
(Django caps SQLite batches by its parameter limit). Memory holds the set of SKUs seen (for duplicates and the
archive of missing variants) and the feed's parents.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone

from inventory.models import InventoryParent, InventoryVariant, ProductVariant
from sources.models import Source

from .common import (
    INHERITED_TARGETS,
    PARENT_TARGETS,
    PQS_TARGETS,
    PROGRESS_EVERY,
    FeedRequest,
    FeedResult,
    RowNote,
    check_feed_safety,
    is_excluded,
    lock_global_settings,
    sku_room,
)
from .pipeline import MappedFeed, prepare

BATCH = 500
SCALAR_FIELDS = (
    "master_sku",
    "upc",
    "ean",
    "mpn",
    "title",
    "brand",
    "category",
    "options",
    "attributes",
    "images",
    "cost",
    "msrp",
    "map_price",
    "shipping_cost",
    "dropship_fee",
    "quantity",
    "status",
    "weight",
    "length",
    "width",
    "height",
)
TEXT_FIELDS = ("upc", "ean", "mpn", "title", "brand", "category", "master_sku")
SECONDARY_ONLY_UPDATES = "a secondary feed only updates existing variants"
EMPTY_COLLECTIONS = {"options": dict, "attributes": dict, "images": list}


def apply_portable(request: FeedRequest, source: Source, result: FeedResult) -> None:
    """Apply ``request`` to ``source`` with the ORM; fill ``result``. Raises RunHeld (nothing applied)."""
    exclusions, layout, salt = prepare(request, source)
    feed = MappedFeed(request, result, salt, layout)
    with transaction.atomic():
        lock_global_settings()
        applier = _Applier(request, source, result, exclusions)
        applier.run(feed)
        feed.finish()
        applier.finish(feed)


class _Applier:
    def __init__(self, request: FeedRequest, source: Source, result: FeedResult, exclusions):
        self.request, self.source, self.result, self.exclusions = request, source, result, exclusions
        self.seen: set[str] = set()
        self.parents: dict[str, dict[str, Any]] = {}  # parent SKU → its first row's parent values (this feed)
        self.parents_written: set[str] = set()
        self.active = InventoryVariant.objects.filter(source=source, status="active").count()
        self.limit, self.room = sku_room()
        self.zeroed = 0
        self.rows = 0
        self.targets: set[str] | None = None
        self.now = timezone.now()

    def run(self, feed: MappedFeed) -> None:
        batch: list[tuple[int, str, dict[str, Any]]] = []
        done = 0
        for row, digest, data in feed:
            if self.targets is None:
                self.targets = set(data)
            sku = data.get("sku")
            if not sku:
                self.result.error(RowNote(row, None, "sku", None, "a value is required"))
                continue
            if sku in self.seen:
                message = f"SKU {sku} repeats an earlier row; only the first row of a SKU is applied"
                self.result.error(RowNote(row, sku, "sku", sku, message))
                continue
            self.seen.add(sku)
            batch.append((row, digest, data))
            if len(batch) >= BATCH:
                self._flush(batch)
                batch.clear()
            done += 1
            if done % PROGRESS_EVERY == 0 and self.request.progress is not None:
                self.request.progress(done, None)
        if batch:
            self._flush(batch)

    # -- one batch --------------------------------------------------------------------------------

    def _flush(self, batch: list[tuple[int, str, dict[str, Any]]]) -> None:
        self.rows += len(batch)
        skus = [item[2]["sku"] for item in batch]
        fields = ("id", "sku", "content_hash", "status", "quantity", "quantity_updated_at", *PQS_TARGETS[:3])
        existing = {
            values["sku"]: values
            for values in InventoryVariant.objects.filter(source=self.source, sku__in=skus).values(*fields).iterator()
        }
        if self.request.kind == "secondary":
            self._flush_secondary(batch, existing)
        else:
            self._flush_primary(batch, existing)

    def _flush_secondary(self, batch, existing) -> None:
        counts, targets = self.result.counts, [target for target in PQS_TARGETS if target in (self.targets or ())]
        changed = []
        for row, _, data in batch:
            current = existing.get(data["sku"])
            if current is None:
                counts["skipped"] += 1
                message = f"SKU {data['sku']} is not in this source's inventory; {SECONDARY_ONLY_UPDATES}"
                self.result.note(RowNote(row, data["sku"], "sku", data["sku"], message))
                continue
            new = {target: data[target] for target in targets if data.get(target) is not None}
            if all(current[target] == value for target, value in new.items()):
                counts["unchanged"] += 1
                continue
            self._count_zeroed(current, new.get("status", current["status"]), new.get("quantity"))
            variant = InventoryVariant(id=current["id"], source=self.source, sku=data["sku"], content_hash="")
            variant.quantity_updated_at = current["quantity_updated_at"]
            for target in targets:
                setattr(variant, target, new.get(target, current[target]))
            if "quantity" in new and new["quantity"] != current["quantity"]:
                variant.quantity_updated_at = self.now
            variant.updated_at = self.now
            changed.append(variant)
        if changed:
            InventoryVariant.objects.bulk_update(
                changed, [*targets, "content_hash", "updated_at", "quantity_updated_at"], batch_size=BATCH
            )
            counts["updated"] += len(changed)

    def _flush_primary(self, batch, existing) -> None:
        counts, targets = self.result.counts, self.targets or set()
        parents = self._parents(batch) if "parent_sku" in targets else {}
        writes = []
        update_fields = {"master_sku", "status", "is_excluded", "content_hash", "updated_at", "quantity_updated_at"}
        update_fields |= {target for target in SCALAR_FIELDS if target in targets}
        if "parent_sku" in targets:
            update_fields.add("parent")
        for row, digest, data in batch:
            current = existing.get(data["sku"])
            if current is not None and digest and current["content_hash"] == digest:
                counts["unchanged"] += 1
                continue
            if current is None:
                if self.room <= 0:
                    message = f"not imported: the plan's SKU limit of {self.limit} variants is reached"
                    self.result.error(RowNote(row, data["sku"], "sku", data["sku"], message))
                    continue
                self.room -= 1
            variant = self._variant(data, digest, parents, targets)
            if current is not None:
                if data.get("quantity") is None:
                    variant.quantity = current["quantity"]
                variant.quantity_updated_at = (
                    self.now if variant.quantity != current["quantity"] else current["quantity_updated_at"]
                )
                self._count_zeroed(current, variant.status, variant.quantity)
                counts["updated"] += 1
            else:
                counts["created"] += 1
            writes.append(variant)
        if writes:
            InventoryVariant.objects.bulk_create(
                writes,
                update_conflicts=True,
                unique_fields=["source", "sku"],
                update_fields=sorted(update_fields),
                batch_size=BATCH,
            )

    def _variant(self, data: dict[str, Any], digest: str, parents: dict, targets: set[str]) -> InventoryVariant:
        values = {target: data.get(target) for target in SCALAR_FIELDS if target in targets}
        for target in TEXT_FIELDS:
            if target in values and values[target] is None:
                values[target] = ""
        for target, empty in EMPTY_COLLECTIONS.items():
            if target in values and values[target] is None:
                values[target] = empty()
        parent = parents.get(data.get("parent_sku") or "")
        if parent is not None:
            for target in INHERITED_TARGETS:
                if target in targets and not values.get(target):
                    values[target] = parent[target] or ""
        if not values.get("master_sku"):
            values["master_sku"] = f"{self.source.sku_prefix}{data['sku']}"
        values["status"] = values.get("status") or "active"
        if values.get("quantity") is None:
            values["quantity"] = 0
        variant = InventoryVariant(
            source=self.source,
            sku=data["sku"],
            content_hash=digest,
            created_at=self.now,
            updated_at=self.now,
            quantity_updated_at=self.now,
            parent_id=parent["id"] if parent is not None else None,
            **values,
        )
        variant.is_excluded = is_excluded(self.exclusions, {**values, "sku": data["sku"]})
        return variant

    def _parents(self, batch) -> dict[str, dict[str, Any]]:
        """Create or update the batch's parents from their first rows; return parent SKU → id and values."""
        names = set()
        for _, _, data in batch:
            parent_sku = data.get("parent_sku")
            if not parent_sku:
                continue
            names.add(parent_sku)
            if parent_sku not in self.parents and any(data.get(target) for target in PARENT_TARGETS):
                self.parents[parent_sku] = {
                    "title": data.get("title") or "",
                    "description": data.get("description") or "",
                    "brand": data.get("brand") or "",
                    "category": data.get("category") or "",
                    "options": list(data.get("options") or {}),
                    "attributes": data.get("attributes") or {},
                    "images": data.get("images") or [],
                }
        rows = InventoryParent.objects.filter(source=self.source, parent_sku__in=names)
        found = {parent.parent_sku: parent for parent in rows}
        for name in names:
            values = self.parents.get(name)
            parent = found.get(name)
            if parent is None:
                found[name] = InventoryParent.objects.create(source=self.source, parent_sku=name, **(values or {}))
                self.parents_written.add(name)
            elif values is not None and name not in self.parents_written:
                changed = {key: value for key, value in values.items() if value and getattr(parent, key) != value}
                if changed:
                    InventoryParent.objects.filter(pk=parent.pk).update(**changed, updated_at=self.now)
                    for key, value in changed.items():
                        setattr(parent, key, value)
                self.parents_written.add(name)
        return {
            name: {"id": parent.pk, **{target: getattr(parent, target) for target in INHERITED_TARGETS}}
            for name, parent in found.items()
        }

    def _count_zeroed(self, current: dict[str, Any], status: str, quantity: int | None) -> None:
        if current["status"] != "active":
            return
        if status in ("archived", "discontinued") or (quantity == 0 and current["quantity"] > 0):
            self.zeroed += 1

    # -- after the last batch ---------------------------------------------------------------------

    def finish(self, feed: MappedFeed) -> None:
        request, counts = self.request, self.result.counts
        present = self.seen | {sku for _, sku in feed.error_rows}
        archived, archived_active = self._archive(present) if request.kind == "primary" and request.full else (0, 0)
        counts["archived"] += archived
        check_feed_safety(
            request=request,
            source=self.source,
            active=self.active,
            affected=archived_active + self.zeroed,
            rows=self.rows,
        )
        if request.kind == "primary":
            linked = self._link_products()
            if linked:
                self.result.log.append(f"Linked {linked} variants to products (by master SKU, then UPC).")

    def _archive(self, present: set[str]) -> tuple[int, int]:
        """Archive the variants missing from the feed; return (archived, of which were active)."""
        variants = (
            InventoryVariant.objects.filter(source=self.source)
            .exclude(status="archived", quantity=0)
            .values_list("id", "sku", "quantity", "status")
        )
        missing, active = [], 0
        for pk, sku, quantity, status in variants.iterator():
            if sku not in present:
                missing.append((pk, quantity))
                active += status == "active"
        for start in range(0, len(missing), BATCH):
            chunk = missing[start : start + BATCH]
            InventoryVariant.objects.filter(pk__in=[pk for pk, quantity in chunk if quantity]).update(
                quantity_updated_at=self.now
            )
            InventoryVariant.objects.filter(pk__in=[pk for pk, _ in chunk]).update(
                status="archived", quantity=0, content_hash="", updated_at=self.now
            )
        return len(missing), active

    def _link_products(self) -> int:
        unlinked = InventoryVariant.objects.filter(source=self.source, product_variant__isnull=True)
        by_master = ProductVariant.objects.filter(master_sku=OuterRef("master_sku"))
        linked = (
            unlinked.exclude(master_sku="")
            .filter(Exists(by_master))
            .update(product_variant=Subquery(by_master.values("pk")[:1]))
        )
        by_upc = ProductVariant.objects.filter(upc=OuterRef("upc")).order_by("pk")
        by_upc_first = Subquery(by_upc.values("pk")[:1])
        linked += unlinked.exclude(upc="").filter(Exists(by_upc)).update(product_variant=by_upc_first)
        return linked
