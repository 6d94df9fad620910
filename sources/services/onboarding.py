"""Source onboarding in four phases: setup, connection, order processing, finalize (DESIGN §2 Onboarding).

Each phase is one atomic service that writes the rows it configures and records the phase in
``Source.onboarding`` (``{"setup": {...}, "connection": {...}, "orders": {...}, "finalize": {...}}``, each with
``done``, ``at``, ``by`` and the phase's own data), so a half-finished onboarding can be left and resumed.
Secrets are write-only: an empty secret keeps what is stored.
"""

from __future__ import annotations

from datetime import time
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from flxhub.exceptions import ApplicationError, ValidationFailed

from ..builtin_templates import BUILTIN_TEMPLATES
from ..models import (
    Connection,
    GlobalSettings,
    Integration,
    IntegrationRun,
    MappingTemplate,
    Source,
    SupplierDirectoryEntry,
)
from ..selectors_onboarding import (
    ORDER_OPS,
    entry_integration,
    onboarding_checklist,
)
from .directory import template_ensure_builtin
from .runs import integration_trigger
from .schedules import integration_save

Operation = Integration.Operation
# Settings a directory entry's ``defaults.source`` may pre-fill.
PREFILLED_SETTINGS = ("type", "sku_prefix", "shipping_method_map", "auto_process_frs", "commit_stock")
SOURCE_SETTINGS = (
    "allow_backorders",
    "commit_stock",
    "override_global_settings",
    "auto_process_frs",
    "fr_number_prefix",
    "fr_number_max_length",
    "stock_buffer",
    "feed_safety_threshold",
    "shipping_method_map",
)


def _mark(source: Source, phase: str, user, **data: Any) -> None:
    """Record ``phase`` in the source's onboarding state (the caller saves the source)."""
    state = dict(source.onboarding or {})
    state[phase] = {**(state.get(phase) or {}), **data, "at": timezone.now().isoformat(), "by": _who(user)}
    source.onboarding = state


def _who(user) -> str:
    return user.get_username() if user is not None else ""


def _locked_source(source_id: int) -> Source:
    try:
        return Source.objects.select_for_update().get(pk=source_id)
    except Source.DoesNotExist:
        raise ApplicationError(f"Source {source_id} does not exist.", code="not_found", http_status=404) from None


def _full_clean(obj, **kwargs) -> None:
    """Run model validation and turn its errors into one ValidationFailed that says which field is wrong."""
    try:
        obj.full_clean(**kwargs)
    except ValidationError as exc:
        parts = [
            f"{name}: {' '.join(messages)}" if name != "__all__" else " ".join(messages)
            for name, messages in exc.message_dict.items()
        ]
        raise ValidationFailed("; ".join(parts), details=exc.message_dict) from exc


# --- phase 1 -------------------------------------------------------------------------------------------------


def onboarding_setup(
    *,
    source_id: int | None,
    name: str,
    source_type: str,
    directory_entry_id: int,
    account_confirmed: bool,
    user=None,
) -> Source:
    """Create (``source_id`` None) or update a source from its directory entry; phase 1.

    A new source, or one that changes entry, is pre-filled from the entry's ``defaults.source`` and SKU
    prefix; the entry's built-in templates (and every built-in inventory template) are made available.
    """
    if not account_confirmed:
        raise ValidationFailed(
            "Confirm that we have an account with this supplier before onboarding it.",
            details={"field": "account_confirmed"},
        )
    name = name.strip()
    if not name:
        raise ValidationFailed("Give the source a name.", details={"field": "name"})
    try:
        entry = SupplierDirectoryEntry.objects.get(pk=directory_entry_id)
    except SupplierDirectoryEntry.DoesNotExist:
        raise ValidationFailed("Pick a supplier from the directory.", details={"field": "directory_entry"}) from None
    with transaction.atomic():
        source = Source(name=name) if source_id is None else _locked_source(source_id)
        if Source.objects.filter(name__iexact=name).exclude(pk=source.pk).exists():
            raise ValidationFailed(f"A source named {name!r} exists already.", details={"field": "name"})
        if source.directory_entry_id != entry.pk:
            _prefill(source, entry)
        source.name, source.type, source.directory_entry = name, source_type, entry
        _mark(source, "setup", user, done=True, account_confirmed=True, entry=entry.slug)
        _full_clean(source, exclude={"onboarding"})
        try:
            source.save()
        except IntegrityError as exc:  # the backorders check, or a concurrent source with the same name
            raise ValidationFailed(f"Cannot save the source: {exc}") from exc
        for key in _entry_templates(entry):
            template_ensure_builtin(key=key)
    return source


def _prefill(source: Source, entry: SupplierDirectoryEntry) -> None:
    defaults = (entry.defaults or {}).get("source") or {}
    for key in PREFILLED_SETTINGS:
        if key in defaults:
            setattr(source, key, defaults[key])
    if entry.sku_prefix and not defaults.get("sku_prefix"):
        source.sku_prefix = entry.sku_prefix


def _entry_templates(entry: SupplierDirectoryEntry) -> list[str]:
    named = [i["template"] for i in (entry.defaults or {}).get("integrations", []) if i.get("template")]
    inventory = [key for key, spec in BUILTIN_TEMPLATES.items() if spec["kind"] == "inventory"]
    return list(dict.fromkeys(named + inventory))


# --- phase 3 -------------------------------------------------------------------------------------------------


def onboarding_orders_save(
    *,
    source_id: int,
    used: bool,
    send_frs: bool = False,
    auto_process_frs: bool = False,
    send_template_id: int | None = None,
    send_path: str = "",
    shipments: bool = False,
    shipment_template_id: int | None = None,
    shipment_path: str = "",
    shipping_method_map: dict[str, str] | list[tuple[str, str]] | None = None,
    user=None,
) -> Source:
    """Save order processing (phase 3): the Send FR and Get Shipments integrations and the shipping-method map.

    ``used=False`` marks the phase "not used" (an inventory-only source) and disables order integrations that
    exist. Sending automatically is the source's own setting (it overrides the global default).
    """
    with transaction.atomic():
        source = _locked_source(source_id)
        if not used:
            for integration in source.integrations.filter(operation__in=ORDER_OPS):
                integration.is_enabled = False
                _save_integration(integration)
            _mark(source, "orders", user, done=True, used=False)
            source.save(update_fields=["onboarding", "updated_at"])
            return source
        connection = _order_connection(source)
        send = _template(send_template_id, MappingTemplate.Kind.SEND_FR)
        _order_integration(source, connection, Operation.SEND_FULFILLMENT_REQUESTS, send_frs, send, send_path)
        shipment = _template(shipment_template_id, MappingTemplate.Kind.SHIPMENT)
        _order_integration(source, connection, Operation.GET_SHIPMENTS, shipments, shipment, shipment_path)
        source.auto_process_frs = auto_process_frs
        # Choosing differently from the account's default only takes effect as this source's own setting.
        if auto_process_frs != GlobalSettings.load().auto_process_frs:
            source.override_global_settings = True
        source.shipping_method_map = _clean_map(shipping_method_map or {})
        _mark(source, "orders", user, done=True, used=True, send_frs=send_frs, shipments=shipments)
        source.save()
    return source


def _order_connection(source: Source) -> Connection:
    """The connection orders travel on: the entry's Send FR connection (US Direct: ``api``), else ``default``."""
    spec = entry_integration(entry=source.directory_entry, operation=Operation.SEND_FULFILLMENT_REQUESTS)
    name = spec.get("connection") or "default"
    connection = source.connections.filter(name=name).first() or source.connections.order_by("pk").first()
    if connection is None:
        raise ValidationFailed("Finish phase 2 first: FRs and shipments travel on the source's connection.")
    if connection.kind in (Connection.Kind.HTTP, Connection.Kind.UPLOAD):
        raise ValidationFailed(
            f"A {connection.get_kind_display()} connection cannot send FRs or fetch shipments; "
            "mark order processing as not used, or choose a supplier with FTP, SFTP, email or an API."
        )
    return connection


def _order_integration(source, connection, operation, enabled, template, path) -> Integration | None:
    integration = source.integrations.filter(operation=operation).first()
    if integration is None and not enabled:
        return None
    spec = entry_integration(entry=source.directory_entry, operation=operation)
    integration = integration or Integration(
        source=source, operation=operation, file_format=spec.get("file_format", Integration.Format.CSV)
    )
    integration.connection = connection
    integration.name = integration.name or f"{source.name} · {integration.get_operation_display()}"
    integration.is_enabled = enabled
    integration.mapping_template = template
    integration.path = path.strip()
    if integration.pk is None and spec.get("schedule"):
        _set_schedule(integration, spec["schedule"])
    elif integration.pk is None:
        integration.schedule, integration.every_minutes = Integration.Schedule.INTERVAL, 15
    _save_integration(integration)
    return integration


def _template(template_id: int | None, kind: str) -> MappingTemplate | None:
    if not template_id:
        return None
    template = MappingTemplate.objects.filter(pk=template_id).first()
    if template is None or template.kind != kind:
        raise ValidationFailed(f"Template {template_id} is not a {kind} template.", details={"field": "template"})
    return template


def _clean_map(rows: dict[str, str] | list[tuple[str, str]]) -> dict[str, str]:
    """Our method → the source's code; blank rows dropped; a half-filled row or a method named twice is an error."""
    cleaned: dict[str, str] = {}
    for ours, theirs in rows.items() if isinstance(rows, dict) else rows:
        ours, theirs = ours.strip(), theirs.strip()
        if not ours and not theirs:
            continue
        if not ours or not theirs:
            raise ValidationFailed(
                f"Shipping-method map row {ours or theirs!r} needs both our method and the source's code.",
                details={"field": "shipping_method_map"},
            )
        if ours in cleaned:
            raise ValidationFailed(
                f"Shipping method {ours!r} is mapped twice.", details={"field": "shipping_method_map"}
            )
        cleaned[ours] = theirs
    return cleaned


def _set_schedule(integration: Integration, schedule: dict) -> None:
    integration.schedule = schedule.get("schedule", Integration.Schedule.NONE)
    integration.every_minutes = schedule.get("every_minutes")
    integration.daily_at = time.fromisoformat(schedule["daily_at"]) if schedule.get("daily_at") else None
    integration.cron = schedule.get("cron", "")


def _save_integration(integration: Integration) -> Integration:
    try:
        return integration_save(integration=integration)
    except ValidationError as exc:
        raise ValidationFailed(
            "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items()), details=exc.message_dict
        ) from exc


# --- phase 4 -------------------------------------------------------------------------------------------------


def onboarding_finalize(
    *,
    source_id: int,
    sku_prefix: str,
    sample_sku: str,
    file_pattern: str,
    file_format: str,
    template_id: int,
    schedule: dict,
    archive_folder: str = "",
    start_sync: bool = True,
    user=None,
) -> IntegrationRun | None:
    """Save the SKU mapping and Get Inventory (primary), then queue its first run (phase 4).

    Refused until phases 1–3 are done. ``schedule`` holds ``schedule`` and, as it needs, ``every_minutes``,
    ``daily_at`` (HH:MM) or ``cron``. Returns the queued run (None when ``start_sync`` is False).
    """
    with transaction.atomic():
        source = _locked_source(source_id)
        unfinished = [p.title for p in onboarding_checklist(source=source)[:3] if not p.done]
        if unfinished:
            raise ApplicationError(
                f"Finish {', '.join(unfinished)} before the first sync.", code="onboarding_incomplete", http_status=409
            )
        template = _template(template_id, MappingTemplate.Kind.INVENTORY)
        if template is None:
            raise ValidationFailed("Choose the inventory mapping template.", details={"field": "template"})
        source.sku_prefix = sku_prefix.strip()
        _full_clean(source, exclude={"onboarding", "directory_entry"})
        spec = entry_integration(entry=source.directory_entry, operation=Operation.GET_INVENTORY_PRIMARY)
        connection_name = spec.get("connection") or "default"
        connection = source.connections.filter(name=connection_name).first() or source.connections.first()
        integration = source.integrations.filter(operation=Operation.GET_INVENTORY_PRIMARY).first() or Integration(
            source=source, operation=Operation.GET_INVENTORY_PRIMARY
        )
        integration.connection = connection
        integration.name = integration.name or f"{source.name} · {integration.get_operation_display()}"
        integration.file_format, integration.file_pattern = file_format, file_pattern.strip()
        integration.archive_folder, integration.mapping_template = archive_folder.strip(), template
        integration.is_enabled = True
        _set_schedule(integration, schedule)
        _save_integration(integration)
        run = None
        if start_sync:
            run = integration_trigger(integration_id=integration.pk, trigger=IntegrationRun.Trigger.MANUAL)
        data = {"done": run is not None or bool((source.onboarding.get("finalize") or {}).get("first_run_id"))}
        if run is not None:
            data["first_run_id"] = run.pk
        _mark(source, "finalize", user, sample_sku=sample_sku.strip(), **data)
        source.save()
    return run


# --- the source page -----------------------------------------------------------------------------------------


def source_settings_save(*, source_id: int, values: dict[str, Any], user=None) -> Source:
    """Save the source's settings (only the keys of SOURCE_SETTINGS), validated as the model says."""
    with transaction.atomic():
        source = _locked_source(source_id)
        for key in SOURCE_SETTINGS:
            if key in values:
                setattr(source, key, values[key])
        if "shipping_method_map" in values:
            source.shipping_method_map = _clean_map(values["shipping_method_map"])
        _full_clean(source, exclude={"onboarding", "directory_entry"})
        source.save()
    return source
