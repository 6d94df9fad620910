"""Operators' inventory pages. Views parse input, call one service or selector, and redirect with a message.

Permissions: every staff user (the Operators group included) views lists. Writing needs the model permission for
what is written: linking variants needs ``inventory.change_inventoryvariant``; creating products needs that and
``inventory.add_product``; adding or removing exclusion rules needs ``inventory.add_exclusionrule`` /
``inventory.delete_exclusionrule``; Remove Inventory needs ``inventory.delete_inventoryvariant`` and Delete Source
``sources.delete_source`` (admins only: the Operators group has none of these).
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from flxhub.exceptions import ApplicationError
from sources.models import Integration, Source

from .models import ExclusionRule, InventoryVariant
from .selectors import VariantFilters, exclusion_rules, sku_usage, source_variant_page
from .services.catalog import (
    exclusion_rule_add,
    exclusion_rule_remove,
    products_create_now_or_later,
    variants_link_products,
)
from .services.source_removal import (
    source_delete,
    source_inventory_blockers,
    source_inventory_counts,
    source_inventory_remove,
    source_protected_references,
)

LINK = "inventory.change_inventoryvariant"
CREATE_PRODUCTS = (LINK, "inventory.add_product")
ADD_EXCLUSION = "inventory.add_exclusionrule"
DELETE_EXCLUSION = "inventory.delete_exclusionrule"
REMOVE_INVENTORY = "inventory.delete_inventoryvariant"
DELETE_SOURCE = "sources.delete_source"


def permission_required(*perms: str):
    """Staff only, and 403 (not a login redirect) for staff without ``perms``."""

    def decorator(view):
        @staff_member_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.has_perms(perms):
                raise PermissionDenied(f"Needs {', '.join(perms)}.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def _variant_list_url(source_id: int, query: dict[str, str]) -> str:
    url = reverse("inventory:variant_list", args=[source_id])
    return f"{url}?{urlencode(query)}" if query else url


@staff_member_required
def variant_list(request, source_id: int):
    source = get_object_or_404(Source, pk=source_id)
    filters, problems = VariantFilters.from_query(request.GET)
    for problem in problems:
        messages.warning(request, problem)
    page = source_variant_page(
        source_id=source.pk, filters=filters, after=request.GET.get("after", ""), before=request.GET.get("before", "")
    )
    query = filters.as_query()
    user = request.user
    return render(
        request,
        "inventory/variant_list.html",
        {
            "source": source,
            "page": page,
            "filters": filters,
            "usage": sku_usage(source_id=source.pk),
            "first_query": urlencode(query),
            "next_query": urlencode({**query, "after": page.next_after or ""}),
            "previous_query": urlencode({**query, "before": page.previous_before or ""}),
            "status_choices": InventoryVariant.Status.choices,
            "can_link": user.has_perm(LINK),
            "can_create_products": user.has_perms(CREATE_PRODUCTS),
            "can_remove_inventory": user.has_perm(REMOVE_INVENTORY),
            "can_delete_source": user.has_perm(DELETE_SOURCE),
        },
    )


def _selection(request) -> tuple[list[int] | None, str | None]:
    """The variant ids the bulk form names (None: all unlinked), or a message saying what is wrong."""
    if request.POST.get("scope") == "all":
        return None, None
    raw = request.POST.getlist("variant")
    if not raw:
        return None, "Select at least one variant, or use the “all unlinked” button."
    if not all(value.isdigit() for value in raw):
        return None, f"Variant ids must be numbers; got {', '.join(v for v in raw if not v.isdigit())}."
    return [int(value) for value in raw], None


def _bulk_view(perms: tuple[str, ...], act: Callable[[int, list[int] | None], str]):
    """A POST from the variant list's bulk form: act on the selected variants (or all unlinked), then go back."""

    @require_POST
    @permission_required(*perms)
    def view(request, source_id: int):
        source = get_object_or_404(Source, pk=source_id)
        back = _variant_list_url(source.pk, VariantFilters.from_query(request.POST)[0].as_query())
        variant_ids, problem = _selection(request)
        if problem:
            messages.error(request, problem)
            return redirect(back)
        try:
            messages.success(request, act(source.pk, variant_ids))
        except ApplicationError as exc:
            messages.error(request, exc.message)
        return redirect(back)

    return view


def _link(source_id: int, variant_ids: list[int] | None) -> str:
    linked = variants_link_products(source_id=source_id, variant_ids=variant_ids)
    what = "all unlinked variants" if variant_ids is None else f"{len(variant_ids)} selected variants"
    return f"Linked {linked} of {what} to products (by master SKU, then UPC)."


def _create_products(source_id: int, variant_ids: list[int] | None) -> str:
    result = products_create_now_or_later(source_id=source_id, variant_ids=variant_ids)
    if result is None:
        return (
            "This source has too many unlinked variants to create their products while you wait: a background "
            "task is creating and linking them now. Reload this list in a few minutes to see them linked."
        )
    text = (
        f"Created {result.products} products with {result.product_variants} variants and linked "
        f"{result.linked_new} source variants to them; linked {result.linked_existing} to existing products."
    )
    if result.skipped_without_master_sku:
        text += f" Skipped {result.skipped_without_master_sku} variants without a master SKU."
    return text


variants_link = _bulk_view((LINK,), _link)
products_create = _bulk_view(CREATE_PRODUCTS, _create_products)


# Exclusion rules ---------------------------------------------------------------------------------------------------


def _exclusions_url(source_id: str) -> str:
    url = reverse("inventory:exclusions")
    return f"{url}?{urlencode({'source': source_id})}" if source_id else url


@staff_member_required
def exclusions(request):
    if request.method == "POST":
        return _exclusion_add(request)
    source_id = request.GET.get("source", "").strip()
    if source_id and not source_id.isdigit():
        messages.error(request, f"{source_id!r} is no source id; showing every rule.")
        return redirect("inventory:exclusions")
    source = get_object_or_404(Source, pk=source_id) if source_id else None
    return render(
        request,
        "inventory/exclusions.html",
        {
            "rules": exclusion_rules(source_id=source.pk if source else None),
            "source": source,
            "sources": Source.objects.order_by("name"),
            "fields": ExclusionRule.Field.choices,
            "can_add": request.user.has_perm(ADD_EXCLUSION),
            "can_delete": request.user.has_perm(DELETE_EXCLUSION),
        },
    )


@permission_required(ADD_EXCLUSION)
def _exclusion_add(request):
    back = _exclusions_url(request.POST.get("filter_source", "").strip())
    raw_source = request.POST.get("source", "").strip()
    if raw_source and not raw_source.isdigit():
        messages.error(request, f"Source {raw_source!r} is not a source id; no rule was added.")
        return redirect(back)
    try:
        change = exclusion_rule_add(
            field=request.POST.get("field", ""),
            value=request.POST.get("value", ""),
            source_id=int(raw_source) if raw_source else None,
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    rule = change.rule
    scope = rule.source.name if rule.source else "every source"
    messages.success(
        request, f"Added: exclude {rule.field} = {rule.value!r} ({scope}); {change.variants_changed} variants excluded."
    )
    return redirect(back)


@require_POST
@permission_required(DELETE_EXCLUSION)
def exclusion_delete(request, rule_id: int):
    back = _exclusions_url(request.POST.get("filter_source", "").strip())
    try:
        change = exclusion_rule_remove(rule_id=rule_id)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    messages.success(
        request,
        f"Removed: exclude {change.rule.field} = {change.rule.value!r}; "
        f"{change.variants_changed} variants are no longer excluded.",
    )
    return redirect(back)


# Dangerous actions -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DangerousAction:
    """A destructive action on a source behind a typed confirmation of the source's name."""

    title: str
    url_name: str
    run: Callable[..., Any]  # service(*, source_id, confirm_name)
    summary: Callable[[Source], dict]  # what the GET page lists: deletes, keeps, blockers
    done: Callable[[Source, Any], str]  # the success message
    after: Callable[[Source], str]  # where to go once done
    options: Callable[[Any], dict] = lambda post: {}  # more keyword arguments for ``run``, from the POST


def _dangerous_view(permission: str, action: DangerousAction):
    @permission_required(permission)
    def view(request, source_id: int):
        source = get_object_or_404(Source, pk=source_id)
        if request.method != "POST":
            context = {"source": source, "action": action.title, **action.summary(source)}
            return render(request, "inventory/confirm_dangerous.html", context)
        try:
            confirm_name = request.POST.get("confirm_name", "")
            result = action.run(source_id=source.pk, confirm_name=confirm_name, **action.options(request.POST))
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect(action.url_name, source_id=source.pk)
        messages.success(request, action.done(source, result))
        return redirect(action.after(source))

    return view


def _remove_inventory_summary(source: Source) -> dict:
    counts = source_inventory_counts(source_id=source.pk)
    blockers = source_inventory_blockers(source_id=source.pk)
    return {
        "deletes": [(counts.variants, "inventory variants"), (counts.parents, "parents"), (counts.images, "images")],
        "keeps": "Products, orders and FRs stay; FR lines keep their SKU, UPC, title and cost.",
        "blockers": [f"Live FRs hold committed stock on its variants: {', '.join(blockers)}."] if blockers else [],
        "can_reimport": source.integrations.filter(
            operation=Integration.Operation.GET_INVENTORY_PRIMARY, is_enabled=True
        ).exists(),
    }


def _removed_message(source: Source, removed) -> str:
    text = (
        f"Removed {source.name}'s inventory: {removed.variants} variants, {removed.parents} parents, "
        f"{removed.images} images."
    )
    if removed.reimport_runs:
        text += f" Queued forced Get Inventory run(s) {', '.join(map(str, removed.reimport_runs))} to re-import it."
    return text


def _delete_source_summary(source: Source) -> dict:
    counts = source_inventory_counts(source_id=source.pk)
    references = source_protected_references(source_id=source.pk)
    return {
        "deletes": [
            (1, "source"),
            (source.integrations.count(), "integrations (with their runs and schedules)"),
            (source.connections.count(), "connections"),
            (counts.variants, "inventory variants"),
            (counts.parents, "parents"),
        ],
        "keeps": "Products stay. A source that FRs or invoices name cannot be deleted: they keep their history.",
        "blockers": [f"Referenced by {kind}: {', '.join(rows)}." for kind, rows in references.items()],
    }


remove_inventory = _dangerous_view(
    REMOVE_INVENTORY,
    DangerousAction(
        title="Remove Inventory",
        url_name="inventory:remove_inventory",
        run=source_inventory_remove,
        summary=_remove_inventory_summary,
        done=_removed_message,
        after=lambda source: reverse("inventory:variant_list", args=[source.pk]),
        options=lambda post: {"reimport": post.get("reimport") == "1"},
    ),
)

delete_source = _dangerous_view(
    DELETE_SOURCE,
    DangerousAction(
        title="Delete Source",
        url_name="inventory:delete_source",
        run=source_delete,
        summary=_delete_source_summary,
        done=lambda source, deleted: (
            f"Deleted source {deleted.name}: {deleted.integrations} integrations, {deleted.connections} connections, "
            f"{deleted.periodic_tasks} schedules and {deleted.inventory.variants} inventory variants."
        ),
        after=lambda source: reverse("orders:dashboard"),
    ),
)
