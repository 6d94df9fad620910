"""Operators' order and FR pages. Views parse input, call one service, and show its result or its error."""

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from flxhub.exceptions import ApplicationError
from inventory.models import Channel, InventoryVariant
from sources.models import Source

from .integrations.send_now import fr_send_now
from .models import FulfillmentRequest, Order
from .selectors.overdue import fr_overdue_counts, fr_overdue_queryset
from .services.fr_actions import OPERATOR_ACTIONS, fr_create_manual, fr_process, fr_regenerate
from .services.fr_create import FRLineRequest
from .services.fr_status import FINAL, TRANSITIONS
from .services.routing import order_generate_frs, order_preview

Status = FulfillmentRequest.Status
PROBLEM_STATUSES = [Status.FAILED, Status.ON_HOLD]
SENDABLE = (Status.UNPROCESSED, Status.PROCESSING, Status.FAILED)


def fr_available_actions(fr: FulfillmentRequest) -> list[tuple[str, str, bool]]:
    """The operator actions the FR's state allows, as (name, label, needs reason)."""
    allowed = TRANSITIONS[fr.status]
    return [(name, a.label, a.needs_reason) for name, a in OPERATOR_ACTIONS.items() if a.to in allowed]


@staff_member_required
def order_list(request):
    orders = Order.objects.select_related("channel").order_by("-created_at", "-id")
    status, channel, problems = (
        request.GET.get("status", ""),
        request.GET.get("channel", ""),
        request.GET.get("problems"),
    )
    if status:
        orders = orders.filter(status=status)
    if channel:
        orders = orders.filter(channel_id=channel)
    if problems:
        has_problem_fr = FulfillmentRequest.objects.filter(order=OuterRef("pk"), status__in=PROBLEM_STATUSES)
        has_live_fr = FulfillmentRequest.objects.filter(order=OuterRef("pk")).exclude(status=Status.VOIDED)
        orders = orders.filter(Q(Exists(has_problem_fr)) | (Q(status__in=Order.ROUTABLE) & ~Q(Exists(has_live_fr))))
    page = Paginator(orders, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "orders/order_list.html",
        {"page": page, "statuses": Order.Status.choices, "channels": Channel.objects.all(), "filters": request.GET},
    )


@staff_member_required
def order_detail(request, order_id: int):
    order = get_object_or_404(Order.objects.select_related("channel"), pk=order_id)
    frs = list(
        order.fulfillment_requests.select_related("source").prefetch_related("lines", "events__actor", "shipments")
    )
    for fr in frs:
        fr.actions = fr_available_actions(fr)
        fr.can_regenerate = fr.status not in FINAL
        fr.can_send_now = fr.status in SENDABLE
    preview = order_preview(order_id=order.pk)
    sources = {src.pk: src for src in Source.objects.all()}
    return render(
        request,
        "orders/order_detail.html",
        {"order": order, "frs": frs, "lines": order.lines.all(), "preview": preview, "sources": sources.values()},
    )


@staff_member_required
@require_POST
def order_generate(request, order_id: int):
    order = get_object_or_404(Order, pk=order_id)
    try:
        result = order_generate_frs(order_id=order.pk, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("orders:order_detail", order_id=order.pk)
    if result.frs:
        messages.success(request, "Generated " + ", ".join(f"FR {fr.number} ({fr.source})" for fr in result.frs) + ".")
    for block in result.roadblocks:
        messages.warning(request, block.message)
    if not result.frs and not result.roadblocks:
        messages.info(request, "Nothing to generate: every line is already on a live FR.")
    return redirect("orders:order_detail", order_id=order.pk)


@staff_member_required
@require_POST
def order_create_fr(request, order_id: int):
    """Create an FR by hand at the chosen source for the quantities typed per line (bypasses routing)."""
    order = get_object_or_404(Order, pk=order_id)
    source_id = request.POST.get("source", "")
    lines = []
    for line in order.lines.all():
        quantity = request.POST.get(f"qty-{line.pk}", "").strip()
        if not quantity or quantity == "0":
            continue
        variant = (
            InventoryVariant.objects.filter(source_id=source_id or None)
            .filter(Q(product_variant__master_sku=line.master_sku) | Q(master_sku=line.master_sku))
            .first()
        )
        if variant is None or not quantity.isdigit():
            messages.error(
                request, f"Line {line.master_sku}: the source has no variant for it, or {quantity!r} is no quantity."
            )
            return redirect("orders:order_detail", order_id=order.pk)
        lines.append(FRLineRequest(order_line_id=line.pk, variant_id=variant.pk, quantity=int(quantity)))
    if not lines:
        messages.error(request, "Give a quantity for at least one line.")
        return redirect("orders:order_detail", order_id=order.pk)
    try:
        fr = fr_create_manual(order_id=order.pk, source_id=int(source_id), lines=lines, actor=request.user)
        messages.success(request, f"Created FR {fr.number} at {fr.source} by hand.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("orders:order_detail", order_id=order.pk)


@staff_member_required
@require_POST
def fr_regenerate_view(request, fr_id: int):
    fr = get_object_or_404(FulfillmentRequest, pk=fr_id)
    try:
        result = fr_regenerate(fr_id=fr.pk, actor=request.user, reason=request.POST.get("reason", "").strip())
        numbers = ", ".join(new.number for new in result.frs) or "none"
        messages.success(request, f"FR {fr.number} voided and regenerated: {numbers}.")
        for block in result.roadblocks:
            messages.warning(request, block.message)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("orders:order_detail", order_id=fr.order_id)


@staff_member_required
def fr_list(request):
    frs = FulfillmentRequest.objects.select_related("order", "source").order_by("-id")
    source, status = request.GET.get("source", ""), request.GET.get("status", "")
    if source:
        frs = frs.filter(source_id=source)
    if status:
        frs = frs.filter(status=status)
    if request.GET.get("overdue"):
        frs = fr_overdue_queryset(queryset=frs)
    page = Paginator(frs, 50).get_page(request.GET.get("page"))
    overdue = dict(
        fr_overdue_queryset(queryset=FulfillmentRequest.objects.filter(pk__in=[fr.pk for fr in page])).values_list(
            "pk", "overdue"
        )
    )
    for fr in page:
        fr.overdue_flag = overdue.get(fr.pk, "")
    return render(
        request,
        "orders/fr_list.html",
        {
            "page": page,
            "statuses": Status.choices,
            "sources": Source.objects.all(),
            "filters": request.GET,
            "overdue_counts": fr_overdue_counts(),
        },
    )


@staff_member_required
@require_POST
def fr_action(request, fr_id: int, action: str):
    fr = get_object_or_404(FulfillmentRequest, pk=fr_id)
    if action not in OPERATOR_ACTIONS:
        messages.error(request, f"Unknown action {action!r}.")
        return redirect("orders:order_detail", order_id=fr.order_id)
    chosen = OPERATOR_ACTIONS[action]
    reason = request.POST.get("reason", "").strip() or f"{chosen.label} by {request.user.get_username()}"
    try:
        chosen.run(fr_id=fr.pk, actor=request.user, actor_label="", reason=reason)
        messages.success(request, f"{chosen.label}: FR {fr.number} is now {chosen.to}.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("orders:order_detail", order_id=fr.order_id)


@staff_member_required
@require_POST
def fr_bulk_process(request):
    ids = [int(i) for i in request.POST.getlist("fr") if i.isdigit()]
    moved, refused = 0, []
    for fr_id in sorted(ids):
        try:
            fr_process(fr_id=fr_id, actor=request.user, actor_label="bulk process")
            moved += 1
        except ApplicationError as exc:
            refused.append(exc.message)
    if moved:
        messages.success(request, f"Processed {moved} FR(s).")
    for message in refused:
        messages.error(request, message)
    if not ids:
        messages.info(request, "Select at least one FR.")
    return redirect("orders:fr_list")


@staff_member_required
@require_POST
def fr_send_now_view(request, fr_id: int):
    """Send one FR at once through its source's Send FR integration (to verify a new source first)."""
    fr = get_object_or_404(FulfillmentRequest, pk=fr_id)
    try:
        run = fr_send_now(fr_id=fr.pk, actor=request.user)
        level = messages.success if run.status == "succeeded" else messages.error
        level(request, f"Send now: run {run.pk} {run.status}. {run.message}")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("orders:order_detail", order_id=fr.order_id)
