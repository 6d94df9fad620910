"""The retailer's catalogue from source inventory: link variants to products, create products, exclusion rules.

Linking matches a source variant to a ProductVariant by master SKU first, then by UPC (the lowest-id product
variant with that UPC, as the feed import does). Only unlinked variants are touched: a link an operator or a
feed made is never moved by a bulk action.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Lower, Trim
from django.db.models.lookups import In

from flxhub.exceptions import Conflict, NotFound, ValidationFailed
from sources.models import Source

from ..models import ExclusionRule, InventoryParent, InventoryVariant, Product, ProductVariant

BATCH = 2000


def _source(source_id: int) -> Source:
    try:
        return Source.objects.get(pk=source_id)
    except Source.DoesNotExist:
        raise NotFound(f"Source {source_id} does not exist.") from None


def _unlinked(*, source_id: int, variant_ids: Iterable[int] | None) -> QuerySet[InventoryVariant]:
    variants = InventoryVariant.objects.filter(source_id=source_id, product_variant__isnull=True)
    if variant_ids is not None:
        variants = variants.filter(pk__in=list(variant_ids))
    return variants


def variants_link_products(*, source_id: int, variant_ids: Iterable[int] | None = None) -> int:
    """Link the source's unlinked variants (all, or those in ``variant_ids``) to products; return how many linked.

    Master SKU first, then UPC. Two UPDATE statements, whatever the number of variants.
    """
    _source(source_id)
    variant_ids = None if variant_ids is None else list(variant_ids)
    with transaction.atomic():
        by_master = ProductVariant.objects.filter(master_sku=OuterRef("master_sku"))
        linked = (
            _unlinked(source_id=source_id, variant_ids=variant_ids)
            .exclude(master_sku="")
            .filter(Exists(by_master))
            .update(product_variant=Subquery(by_master.values("pk")[:1]))
        )
        by_upc = ProductVariant.objects.filter(upc=OuterRef("upc")).exclude(upc="").order_by("pk")
        linked += (
            _unlinked(source_id=source_id, variant_ids=variant_ids)
            .exclude(upc="")
            .filter(Exists(by_upc))
            .update(product_variant=Subquery(by_upc.values("pk")[:1]))
        )
    return linked


@dataclass(frozen=True)
class ProductsCreated:
    linked_existing: int  # variants linked to product variants that already existed (master SKU, then UPC)
    products: int
    product_variants: int
    linked_new: int  # variants linked to the product variants created here
    skipped_without_master_sku: int


def products_create_from_variants(*, source_id: int, variant_ids: Iterable[int] | None = None) -> ProductsCreated:
    """Create products for the source's unlinked variants (all, or those in ``variant_ids``) and link them.

    Variants that match an existing product variant (master SKU, then UPC) are linked to it, never duplicated.
    The rest become one Product per InventoryParent (or per variant without a parent) with one ProductVariant
    per distinct master SKU. Variants without a master SKU are skipped and counted. All or nothing.
    """
    variant_ids = None if variant_ids is None else list(variant_ids)
    try:
        with transaction.atomic():
            linked_existing = variants_link_products(source_id=source_id, variant_ids=variant_ids)
            remaining = _unlinked(source_id=source_id, variant_ids=variant_ids)
            skipped = remaining.filter(master_sku="").count()
            products, product_variants, linked_new = _create_and_link(remaining.exclude(master_sku=""))
    except IntegrityError as exc:
        raise Conflict(
            "Another product creation or feed import created the same master SKUs meanwhile; nothing was changed. "
            "Try again."
        ) from exc
    return ProductsCreated(linked_existing, products, product_variants, linked_new, skipped)


def products_create_now_or_later(*, source_id: int, variant_ids: Iterable[int] | None = None) -> ProductsCreated | None:
    """Create products as ``products_create_from_variants`` does, or queue that work when it is too big for a request.

    A selection, or "all unlinked" of a source with at most ``FLXHUB_PRODUCTS_IN_REQUEST_LIMIT`` (default 5,000)
    unlinked variants, runs now and returns the counts. More than that (a million-variant source takes minutes)
    queues a Celery task after commit and returns None.
    """
    limit = getattr(settings, "FLXHUB_PRODUCTS_IN_REQUEST_LIMIT", 5000)
    if variant_ids is not None or not _unlinked(source_id=_source(source_id).pk, variant_ids=None)[limit:].exists():
        return products_create_from_variants(source_id=source_id, variant_ids=variant_ids)
    from ..tasks import products_create_from_variants_task

    transaction.on_commit(lambda: products_create_from_variants_task.delay(source_id))
    return None


def _create_and_link(variants: QuerySet[InventoryVariant]) -> tuple[int, int, int]:
    """Create products for ``variants`` batch by batch (locking each batch) and link them; return the counts."""
    products = product_variants = linked = 0
    parent_products: dict[int, int] = {}  # parent id → product id, so a parent split over batches is one product
    last_pk = 0
    while batch := list(variants.filter(pk__gt=last_pk).select_for_update().order_by("pk")[:BATCH]):
        last_pk = batch[-1].pk
        made_products, made_variants = _create_for_batch(batch, parent_products)
        products += made_products
        product_variants += made_variants
        by_master = ProductVariant.objects.filter(master_sku=OuterRef("master_sku"))
        linked += InventoryVariant.objects.filter(pk__in=[v.pk for v in batch]).update(
            product_variant=Subquery(by_master.values("pk")[:1])
        )
    return products, product_variants, linked


def _create_for_batch(batch: list[InventoryVariant], parent_products: dict[int, int]) -> tuple[int, int]:
    """Create the products and product variants a batch of unlinked variants needs; return how many of each.

    A parent whose other variants already link to a product gets its new product variants on that product.
    """
    existing = set(
        ProductVariant.objects.filter(master_sku__in={v.master_sku for v in batch}).values_list("master_sku", flat=True)
    )
    groups: dict[tuple[str, int], list[InventoryVariant]] = defaultdict(list)
    for variant in batch:
        if variant.master_sku in existing:
            continue  # a variant earlier in this call had the same master SKU
        existing.add(variant.master_sku)
        key = ("parent", variant.parent_id) if variant.parent_id else ("variant", variant.pk)
        groups[key].append(variant)
    if not groups:
        return 0, 0
    parent_ids = [pk for kind, pk in groups if kind == "parent" and pk not in parent_products]
    linked_products = (
        InventoryVariant.objects.filter(parent_id__in=parent_ids, product_variant__isnull=False)
        .order_by("parent_id", "pk")
        .values_list("parent_id", "product_variant__product_id")
    )
    for parent_id, product_id in linked_products:
        parent_products.setdefault(parent_id, product_id)
    parents = InventoryParent.objects.in_bulk(
        [pk for kind, pk in groups if kind == "parent" and pk not in parent_products]
    )
    new_products: dict[tuple[str, int], Product] = {}
    for key, variants in groups.items():
        kind, pk = key
        if kind == "parent" and pk in parent_products:
            continue
        parent, first = parents.get(pk) if kind == "parent" else None, variants[0]
        new_products[key] = Product(
            title=(parent and parent.title) or first.title or first.master_sku,
            brand=(parent and parent.brand) or first.brand,
            description=parent.description if parent else "",
        )
    Product.objects.bulk_create(new_products.values())
    for (kind, pk), product in new_products.items():
        if kind == "parent":
            parent_products[pk] = product.pk
    product_variants = [
        ProductVariant(
            product_id=parent_products[pk] if kind == "parent" else new_products[(kind, pk)].pk,
            master_sku=variant.master_sku,
            upc=variant.upc,
            title=variant.title,
            options=variant.options,
            weight=variant.weight,
        )
        for (kind, pk), variants in groups.items()
        for variant in variants
    ]
    ProductVariant.objects.bulk_create(product_variants)
    return len(new_products), len(product_variants)


# Exclusion rules ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExclusionChange:
    rule: ExclusionRule
    variants_changed: int  # marked excluded by an added rule, or un-marked by a removed one


def _normalized(value: str) -> str:
    return value.strip().lower()


def _rules_match(rules: Iterable[tuple[str, str]]) -> Q | None:
    """A condition true for variants any of the (field, value) rules matches, compared trimmed and lower-cased."""
    values: dict[str, set[str]] = defaultdict(set)
    for field, value in rules:
        values[field].add(_normalized(value))
    condition = None
    for field, wanted in values.items():
        clause = Q(In(Lower(Trim(field)), sorted(wanted)))
        condition = clause if condition is None else condition | clause
    return condition


def exclusion_rule_add(*, field: str, value: str, source_id: int | None = None) -> ExclusionChange:
    """Validate and add an exclusion rule (account-wide without ``source_id``); mark the variants it matches."""
    if field not in ExclusionRule.Field.values:
        raise ValidationFailed(
            f"Exclusion field {field!r} is not one of {', '.join(ExclusionRule.Field.values)}.",
            details={"field": "field"},
        )
    value = value.strip()
    if not value:
        raise ValidationFailed("An exclusion rule needs a value to match.", details={"field": "value"})
    if len(value) > ExclusionRule._meta.get_field("value").max_length:
        raise ValidationFailed("The exclusion value is longer than 255 characters.", details={"field": "value"})
    source = _source(source_id) if source_id is not None else None
    with transaction.atomic():
        same = ExclusionRule.objects.filter(source=source, field=field, value__iexact=value)
        if same.exists():
            scope = f"source {source}" if source else "every source"
            raise ValidationFailed(
                f"There is already a rule excluding {field} = {value!r} for {scope}.", details={"field": "value"}
            )
        rule = ExclusionRule.objects.create(source=source, field=field, value=value)
        variants = InventoryVariant.objects.filter(is_excluded=False)
        if source is not None:
            variants = variants.filter(source=source)
        changed = variants.filter(_rules_match([(field, value)])).update(is_excluded=True)
    return ExclusionChange(rule, changed)


def exclusion_rule_remove(*, rule_id: int) -> ExclusionChange:
    """Delete an exclusion rule; un-mark the variants it excluded that no remaining rule matches."""
    with transaction.atomic():
        try:
            rule = ExclusionRule.objects.select_for_update().get(pk=rule_id)
        except ExclusionRule.DoesNotExist:
            raise NotFound(f"Exclusion rule {rule_id} does not exist (already removed?).") from None
        excluded = InventoryVariant.objects.filter(is_excluded=True).filter(_rules_match([(rule.field, rule.value)]))
        if rule.source_id is not None:
            excluded = excluded.filter(source_id=rule.source_id)
        removed = ExclusionRule(pk=rule.pk, source_id=rule.source_id, field=rule.field, value=rule.value)
        rule.delete()
        changed = 0
        remaining = list(ExclusionRule.objects.values_list("source_id", "field", "value"))
        global_rules = [(field, value) for source_id, field, value in remaining if source_id is None]
        source_ids = [rule.source_id] if rule.source_id else excluded.values_list("source_id", flat=True).distinct()
        for source_id in list(source_ids):
            rules = global_rules + [(f, v) for s, f, v in remaining if s == source_id]
            still = _rules_match(rules)
            affected = excluded.filter(source_id=source_id)
            if still is not None:
                affected = affected.exclude(still)
            changed += affected.update(is_excluded=False)
    return ExclusionChange(removed, changed)
