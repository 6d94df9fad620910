"""Set up a US Direct source from its directory entry: the source, its two connections and its integrations."""

from datetime import time

from django.db import transaction

from sources.models import Connection, Integration, Source
from sources.services.directory import directory_entry_get, template_ensure_builtin
from sources.services.schedules import integration_save

from . import usdirect  # noqa: F401  (registers the "usdirect" protocol the api connection names)


def usdirect_source_setup(
    *,
    name: str,
    base_url: str,
    api_token: str,
    reseller_token: str,
    feed_url: str = "",
    schedules: bool = True,
    every_minutes: int | None = None,
) -> Source:
    """Create or update the US Direct source ``name`` as its directory entry says; return it.

    Idempotent: the source is found by name, its connections by name (``feed``, ``api``) and its
    integrations by operation, so running it again refreshes URLs, credentials and schedules without
    duplicating anything. ``feed_url`` defaults to ``<base_url>/v1/feed.csv`` (the API token travels as a
    bearer header, kept in the connection's encrypted secrets). With ``schedules`` each integration gets
    the entry's default schedule, or every ``every_minutes`` when given; without, they run by hand only.
    Integrations are saved through ``integration_save`` so Beat's PeriodicTasks follow.
    """
    entry = directory_entry_get(slug="us-direct")
    defaults = entry.defaults
    base_url = base_url.rstrip("/")
    values = {
        "base_url": base_url,
        "feed_url": feed_url or f"{base_url}/v1/feed.csv",
        "api_token": api_token,
        "reseller_token": reseller_token,
    }
    with transaction.atomic():
        source, created = Source.objects.get_or_create(
            name=name, defaults={**defaults["source"], "directory_entry": entry}
        )
        if not created:
            source.directory_entry = entry
            source.sku_prefix = source.sku_prefix or entry.sku_prefix
            source.shipping_method_map = source.shipping_method_map or defaults["source"]["shipping_method_map"]
            source.save(update_fields=["directory_entry", "sku_prefix", "shipping_method_map", "updated_at"])

        connections = {}
        for connection_name, spec in defaults["connections"].items():
            connection, _ = Connection.objects.get_or_create(
                source=source, name=connection_name, defaults={"kind": spec["kind"]}
            )
            connection.kind = spec["kind"]
            connection.url = spec.get("url", "").format(**values)
            connection.options = {**connection.options, **spec.get("options", {})}
            connection.secrets = {
                key: value.format(**values) for key, value in spec.get("secrets", {}).items() if value.format(**values)
            }
            connection.full_clean(exclude={"last_test_ok"})  # null=True without blank=True on the model
            connection.save()
            connections[connection_name] = connection

        for spec in defaults["integrations"]:
            integration = Integration.objects.filter(source=source, operation=spec["operation"]).first()
            integration = integration or Integration(source=source, operation=spec["operation"])
            integration.connection = connections[spec["connection"]]
            integration.name = f"{source.name} · {integration.get_operation_display()}"
            integration.file_format = spec["file_format"]
            integration.mapping_template = (
                template_ensure_builtin(key=spec["template"]) if spec.get("template") else None
            )
            integration.is_enabled = True
            _set_schedule(integration, spec["schedule"] if schedules else {}, every_minutes)
            integration_save(integration=integration)
    return source


def _set_schedule(integration: Integration, schedule: dict, every_minutes: int | None) -> None:
    integration.schedule, integration.every_minutes, integration.daily_at = Integration.Schedule.NONE, None, None
    if not schedule:
        return
    if every_minutes:
        integration.schedule, integration.every_minutes = Integration.Schedule.INTERVAL, every_minutes
        return
    integration.schedule = schedule["schedule"]
    integration.every_minutes = schedule.get("every_minutes")
    if schedule.get("daily_at"):
        integration.daily_at = time.fromisoformat(schedule["daily_at"])
