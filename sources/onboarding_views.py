"""Operators' source pages and the four onboarding phases. Views parse input, call one service, redirect with a message.

Permissions: any staff user views (the Operators group has every view permission) and may run Test Connection;
creating a source needs ``sources.add_source``, changing its setup, orders, finalize and settings
``sources.change_source``, and changing a connection (credentials) ``sources.change_connection``. Without the
permission the page is read-only and a POST answers 403.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from flxhub.exceptions import ApplicationError

from .models import Integration, Source
from .onboarding_forms import ConnectionForm, FinalizeForm, OrdersForm, SetupForm, SourceSettingsForm, parse_method_map
from .selectors_onboarding import (
    PHASES,
    builtin_template_stored,
    card_values,
    connection_card,
    directory_search,
    entry_integration,
    onboarding_checklist,
    onboarding_first_missing,
    secret_status,
    sku_example,
    source_list,
)
from .services.directory import directory_ensure_builtin
from .services.onboarding import (
    onboarding_finalize,
    onboarding_orders_save,
    onboarding_setup,
    source_settings_save,
)
from .services.onboarding_connection import onboarding_connection_save, onboarding_connection_test

CHANGE_SOURCE = "sources.change_source"
CHANGE_CONNECTION = "sources.change_connection"


def _require(request, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied(f"Needs the {permission} permission.")


def _phase_context(source: Source | None, current: str, **extra) -> dict:
    checklist = onboarding_checklist(source=source) if source else []
    return {"source": source, "checklist": checklist, "current": current, "phases": PHASES, **extra}


@staff_member_required
def source_list_view(request):
    sources = list(source_list())
    for source in sources:
        checklist = onboarding_checklist(source=source)
        source.phases_done = sum(phase.done for phase in checklist)
        source.resume = onboarding_first_missing(checklist=checklist)
    can_add = request.user.has_perm("sources.add_source")
    return render(request, "sources/source_list.html", {"sources": sources, "can_add": can_add})


@staff_member_required
def source_detail(request, source_id: int):
    source = get_object_or_404(Source.objects.select_related("directory_entry"), pk=source_id)
    checklist = onboarding_checklist(source=source)
    card = connection_card(entry=source.directory_entry)
    settings_form = SourceSettingsForm(instance=source)
    return render(
        request, "sources/source_detail.html", _detail_context(request, source, checklist, card, settings_form)
    )


def _detail_context(request, source, checklist, card, settings_form) -> dict:
    integrations = source.integrations.select_related("connection", "mapping_template").order_by("operation", "pk")
    return {
        "source": source,
        "checklist": checklist,
        "resume": onboarding_first_missing(checklist=checklist),
        "connections": source.connections.order_by("name"),
        "secrets": secret_status(source=source, card=card) if card else {},
        "integrations": integrations,
        "settings_form": settings_form,
        "method_map": sorted(source.shipping_method_map.items()),
        "can_change": request.user.has_perm(CHANGE_SOURCE),
    }


@staff_member_required
@require_POST
def source_settings(request, source_id: int):
    _require(request, CHANGE_SOURCE)
    source = get_object_or_404(Source, pk=source_id)
    form = SourceSettingsForm(request.POST, instance=source)
    if form.is_valid():
        values = {**form.cleaned_data, "shipping_method_map": parse_method_map(request.POST)}
        try:
            source_settings_save(source_id=source.pk, values=values, user=request.user)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Settings of {source.name} saved.")
            return redirect("sources:source_detail", source_id=source.pk)
    source.refresh_from_db()
    context = _detail_context(
        request, source, onboarding_checklist(source=source), connection_card(entry=source.directory_entry), form
    )
    return render(request, "sources/source_detail.html", context, status=400)


# --- phase 1 -------------------------------------------------------------------------------------------------


@staff_member_required
def onboarding_new(request):
    _require(request, "sources.add_source")
    return _setup(request, None)


@staff_member_required
def onboarding_setup_view(request, source_id: int):
    return _setup(request, get_object_or_404(Source, pk=source_id))


def _setup(request, source: Source | None):
    can_edit = request.user.has_perm(CHANGE_SOURCE if source else "sources.add_source")
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied("Needs the sources.change_source permission.")
        form = SetupForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                source = onboarding_setup(
                    source_id=source.pk if source else None,
                    name=data["name"],
                    source_type=data["type"],
                    directory_entry_id=data["directory_entry"].pk,
                    account_confirmed=data["account_confirmed"],
                    user=request.user,
                )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, f"{source.name}: initial setup saved. Next: the connection.")
                return redirect("sources:onboarding_connection", source_id=source.pk)
    else:
        if not directory_search().exists():
            directory_ensure_builtin()  # a fresh install: load the built-in connectors once
        initial = {"directory_entry": request.GET.get("directory_entry")}
        if source:
            state = (source.onboarding or {}).get("setup") or {}
            initial = {
                "name": source.name,
                "type": source.type,
                "directory_entry": source.directory_entry_id,
                "account_confirmed": bool(state.get("account_confirmed")),
            }
        form = SetupForm(initial=initial)
    query = request.GET.get("q", "")
    entries = directory_search(query=query)
    context = _phase_context(source, "setup", form=form, entries=entries, query=query, can_edit=can_edit)
    context["chosen"] = str(form["directory_entry"].value() or "")
    return render(request, "sources/onboarding/setup.html", context, status=400 if form.errors else 200)


# --- phase 2 -------------------------------------------------------------------------------------------------


@staff_member_required
def onboarding_connection(request, source_id: int):
    source = get_object_or_404(Source.objects.select_related("directory_entry"), pk=source_id)
    card = connection_card(entry=source.directory_entry)
    if card is None:
        messages.error(request, "Pick the supplier in the directory first.")
        return redirect("sources:onboarding_setup", source_id=source.pk)
    form, verdicts, status = None, None, 200
    if request.method == "POST":
        _require(request, CHANGE_CONNECTION)
        form = ConnectionForm(request.POST, card=card, secret_set=secret_status(source=source, card=card))
        if form.is_valid():
            try:
                onboarding_connection_save(
                    source_id=source.pk, values=form.values(), secrets=form.secrets(), user=request.user
                )
                if request.POST.get("action") == "save_test":
                    verdicts = onboarding_connection_test(source_id=source.pk, user=request.user)
                else:
                    messages.success(request, "Connection saved. Test it to finish this phase.")
                    return redirect("sources:onboarding_connection", source_id=source.pk)
            except ApplicationError as exc:
                form.add_error(None, exc.message)
                status = 400
        else:
            status = 400
        form = None if status == 200 else form
    return _connection_page(request, source, card, form=form, verdicts=verdicts, status=status)


def _connection_page(request, source, card, *, form=None, verdicts=None, status=200):
    secrets = secret_status(source=source, card=card)
    values = card_values(source=source, card=card)
    readonly_rows = [
        (f.label, f.key, ("set" if secrets.get(f.key) else "not set") if f.secret else values.get(f.key), f.secret)
        for f in card.fields
    ]
    can_edit = request.user.has_perm(CHANGE_CONNECTION)
    if form is None and can_edit:
        form = ConnectionForm(initial=values, card=card, secret_set=secrets)
    context = _phase_context(
        source,
        "connection",
        card=card,
        form=form,
        can_edit=can_edit,
        readonly_rows=readonly_rows,
        connections=source.connections.order_by("name"),
        verdicts=verdicts,
    )
    return render(request, "sources/onboarding/connection.html", context, status=status)


@staff_member_required
@require_POST
def onboarding_connection_test_view(request, source_id: int):
    """Test Connection: any staff user (operators too) may test what is stored; the verdict shows inline."""
    source = get_object_or_404(Source.objects.select_related("directory_entry"), pk=source_id)
    try:
        verdicts = onboarding_connection_test(source_id=source.pk, user=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("sources:onboarding_connection", source_id=source.pk)
    return _connection_page(request, source, connection_card(entry=source.directory_entry), verdicts=verdicts)


# --- phase 3 -------------------------------------------------------------------------------------------------


@staff_member_required
def onboarding_orders(request, source_id: int):
    source = get_object_or_404(Source.objects.select_related("directory_entry"), pk=source_id)
    can_edit = request.user.has_perm(CHANGE_SOURCE)
    integrations = {i.operation: i for i in source.integrations.all()}
    send = integrations.get(Integration.Operation.SEND_FULFILLMENT_REQUESTS)
    ship = integrations.get(Integration.Operation.GET_SHIPMENTS)
    method_rows = sorted(source.shipping_method_map.items())
    if request.method == "POST":
        _require(request, CHANGE_SOURCE)
        form = OrdersForm(request.POST)
        method_rows = parse_method_map(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                onboarding_orders_save(
                    source_id=source.pk,
                    used=data["used"],
                    send_frs=data["send_frs"],
                    auto_process_frs=data["auto_process_frs"],
                    send_template_id=data["send_template"].pk if data["send_template"] else None,
                    send_path=data["send_path"],
                    shipments=data["shipments"],
                    shipment_template_id=data["shipment_template"].pk if data["shipment_template"] else None,
                    shipment_path=data["shipment_path"],
                    shipping_method_map=method_rows,
                    user=request.user,
                )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, "Order processing saved. Next: finalize.")
                return redirect("sources:onboarding_finalize", source_id=source.pk)
    else:
        state = (source.onboarding or {}).get("orders") or {}
        form = OrdersForm(
            initial={
                "used": "0" if state.get("done") and not state.get("used") else "1",
                "send_frs": bool(send and send.is_enabled),
                "auto_process_frs": source.auto_process_frs,
                "send_template": send.mapping_template_id if send else None,
                "send_path": send.path if send else "",
                "shipments": bool(ship and ship.is_enabled),
                "shipment_template": ship.mapping_template_id if ship else None,
                "shipment_path": ship.path if ship else "",
            }
        )
    rows = [*method_rows, ("", ""), ("", "")]
    context = _phase_context(source, "orders", form=form, method_rows=rows, can_edit=can_edit)
    return render(request, "sources/onboarding/orders.html", context, status=400 if form.errors else 200)


# --- phase 4 -------------------------------------------------------------------------------------------------


@staff_member_required
def onboarding_finalize_view(request, source_id: int):
    source = get_object_or_404(Source.objects.select_related("directory_entry"), pk=source_id)
    can_edit = request.user.has_perm(CHANGE_SOURCE)
    if request.method == "POST":
        _require(request, CHANGE_SOURCE)
        form = FinalizeForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                run = onboarding_finalize(
                    source_id=source.pk,
                    sku_prefix=data["sku_prefix"],
                    sample_sku=data["sample_sku"],
                    file_pattern=data["file_pattern"],
                    archive_folder=data["archive_folder"],
                    file_format=data["file_format"],
                    template_id=data["template"].pk,
                    schedule=form.schedule_spec(),
                    user=request.user,
                )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, f"{source.name} is onboarded; the first sync (run {run.pk}) has started.")
                return redirect("sources:run_detail", run_id=run.pk)
    else:
        form = FinalizeForm(initial=_finalize_initial(source, request.GET))
    prefix = form["sku_prefix"].value() or ""
    example = sku_example(prefix=prefix, sample_sku=form["sample_sku"].value() or "")
    chosen = form.fields["template"].queryset.filter(pk=_int(form["template"].value())).first()
    context = _phase_context(
        source,
        "finalize",
        form=form,
        example=example,
        chosen=chosen,
        can_edit=can_edit,
        connections=source.connections.order_by("name"),
        integrations=source.integrations.select_related("mapping_template").order_by("operation"),
    )
    return render(request, "sources/onboarding/finalize.html", context, status=400 if form.errors else 200)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _finalize_initial(source: Source, query) -> dict:
    """Stored values first, then the directory entry's defaults; ``?template=`` (back from the editor) and the
    live SKU example's ``?sku_prefix=&sample_sku=`` override them."""
    primary = source.integrations.filter(operation=Integration.Operation.GET_INVENTORY_PRIMARY).first()
    entry_spec = entry_integration(entry=source.directory_entry, operation=Integration.Operation.GET_INVENTORY_PRIMARY)
    state = (source.onboarding or {}).get("finalize") or {}
    initial = {"sku_prefix": source.sku_prefix, "sample_sku": state.get("sample_sku", "")}
    if primary:
        initial.update(
            file_pattern=primary.file_pattern,
            archive_folder=primary.archive_folder,
            file_format=primary.file_format,
            template=primary.mapping_template_id,
            schedule=primary.schedule,
            every_minutes=primary.every_minutes,
            daily_at=primary.daily_at,
            cron=primary.cron,
        )
    else:
        template = builtin_template_stored(key=entry_spec.get("template"))
        schedule = entry_spec.get("schedule") or {"schedule": "daily", "daily_at": "04:00"}
        initial.update(
            file_pattern="*.csv",
            file_format=entry_spec.get("file_format", "csv"),
            template=template.pk if template else None,
            schedule=schedule["schedule"],
            every_minutes=schedule.get("every_minutes"),
            daily_at=schedule.get("daily_at"),
        )
    for key in ("template", "sku_prefix", "sample_sku"):
        if key in query:
            initial[key] = query[key]
    return initial
