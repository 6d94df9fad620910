"""Reads behind the operators' inventory pages: a source's variants by filter and keyset page, SKU-plan usage."""

from dataclasses import dataclass, field

from django.db.models import Count, F, Q, QuerySet

from sources.models import GlobalSettings

from .models import ExclusionRule, InventoryVariant

PAGE_SIZE = 50
STATUSES = InventoryVariant.Status


@dataclass(frozen=True)
class VariantFilters:
    """What the operator asked for; every field empty means "any"."""

    status: str = ""
    stock: str = ""  # in | out
    linked: str = ""  # yes | no
    excluded: str = ""  # yes | no
    q: str = ""

    CHOICES = {"stock": ("in", "out"), "linked": ("yes", "no"), "excluded": ("yes", "no")}

    @classmethod
    def from_query(cls, query) -> tuple["VariantFilters", list[str]]:
        """Parse the query string; return the filters and a message for each value that was ignored."""
        problems = []
        values = {}
        for name in ("status", "stock", "linked", "excluded"):
            value = (query.get(name) or "").strip()
            allowed = STATUSES.values if name == "status" else cls.CHOICES[name]
            if value and value not in allowed:
                problems.append(f"Filter {name}={value!r} is not one of {', '.join(allowed)}; ignored.")
                value = ""
            values[name] = value
        values["q"] = (query.get("q") or "").strip()[:255]
        return cls(**values), problems

    def as_query(self) -> dict[str, str]:
        return {name: value for name, value in vars(self).items() if value}


@dataclass
class VariantPage:
    variants: list[InventoryVariant]
    next_after: str | None = None
    previous_before: str | None = None
    is_first: bool = True
    filters: dict[str, str] = field(default_factory=dict)


def source_variants(*, source_id: int, filters: VariantFilters) -> QuerySet[InventoryVariant]:
    """The source's variants matching ``filters``, with their linked product variant, ordered by SKU."""
    variants = InventoryVariant.objects.filter(source_id=source_id)
    if filters.status:
        variants = variants.filter(status=filters.status)
    if filters.stock == "in":
        variants = variants.filter(quantity__gt=F("committed_quantity"))
    elif filters.stock == "out":
        variants = variants.filter(quantity__lte=F("committed_quantity"))
    if filters.linked:
        variants = variants.filter(product_variant__isnull=filters.linked == "no")
    if filters.excluded:
        variants = variants.filter(is_excluded=filters.excluded == "yes")
    if filters.q:
        q = filters.q
        variants = variants.filter(
            Q(sku__istartswith=q) | Q(master_sku__istartswith=q) | Q(upc=q) | Q(title__icontains=q)
        )
    return variants.select_related("product_variant__product").order_by("sku")


def source_variant_page(
    *, source_id: int, filters: VariantFilters, after: str = "", before: str = "", size: int = PAGE_SIZE
) -> VariantPage:
    """One keyset page of the source's variants by SKU: after ``after``, or the page ending before ``before``.

    Keyset paging walks the (source, sku) unique index: no COUNT(*) and no OFFSET over a million variants.
    """
    variants = source_variants(source_id=source_id, filters=filters)
    if before:
        rows = list(variants.filter(sku__lt=before).order_by("-sku")[: size + 1])
        has_more_before = len(rows) > size
        rows = list(reversed(rows[:size]))
        page = VariantPage(rows, is_first=not has_more_before)
        page.next_after = rows[-1].sku if rows else None
        page.previous_before = rows[0].sku if rows and has_more_before else None
    else:
        if after:
            variants = variants.filter(sku__gt=after)
        rows = list(variants[: size + 1])
        page = VariantPage(rows[:size], is_first=not after)
        page.next_after = rows[size - 1].sku if len(rows) > size else None
        page.previous_before = rows[0].sku if rows and after else None
    page.filters = filters.as_query()
    return page


@dataclass(frozen=True)
class SkuUsage:
    """The plan's SKU count: every stored variant counts (active, discontinued and archived), as at feed import."""

    limit: int
    account: int
    source: int
    source_by_status: dict[str, int]

    @property
    def room(self) -> int:
        return max(0, self.limit - self.account)

    @property
    def over(self) -> bool:
        return self.account >= self.limit

    @property
    def percent(self) -> int:
        return min(100, self.account * 100 // self.limit) if self.limit else 100


def sku_usage(*, source_id: int | None = None) -> SkuUsage:
    """Variants counted against ``GlobalSettings.sku_limit`` for the account and, by status, for one source.

    Counts every variant, whatever its status: the feed import enforces the limit on the same count.
    Two grouped queries; the account one is a single COUNT(*) of the variant table.
    """
    by_status = {status: 0 for status in STATUSES.values}
    if source_id is not None:
        rows = InventoryVariant.objects.filter(source_id=source_id).values("status").annotate(n=Count("pk"))
        for row in rows.order_by():
            by_status[row["status"]] = row["n"]
    return SkuUsage(
        limit=GlobalSettings.load().sku_limit,
        account=InventoryVariant.objects.count(),
        source=sum(by_status.values()),
        source_by_status=by_status,
    )


def exclusion_rules(*, source_id: int | None = None) -> QuerySet[ExclusionRule]:
    """Exclusion rules, account-wide ones first; with ``source_id``, only those that apply to that source."""
    rules = ExclusionRule.objects.select_related("source")
    if source_id is not None:
        rules = rules.filter(Q(source_id=source_id) | Q(source__isnull=True))
    return rules.order_by(F("source__name").asc(nulls_first=True), "field", "value")
