"""Helpers for inventory runner tests: templates from the built-ins, integrations over the upload transport."""

from sources.builtin_templates import builtin_template
from sources.models import FieldRule, Integration, MappingTemplate
from tests.factories import ConnectionFactory, IntegrationFactory, SourceFactory

FIELD_KEYS = ("target", "source_type", "source", "transforms", "required", "default", "lookup")


def template_from_builtin(key: str) -> MappingTemplate:
    spec = builtin_template(key)
    template = MappingTemplate.objects.create(
        name=spec["name"],
        kind=spec["kind"],
        format_options=spec["format_options"],
        conditions=spec["conditions"],
        exclusions=spec["exclusions"],
    )
    for position, rule in enumerate(spec["fields"]):
        values = {key: rule.get(key) for key in FIELD_KEYS}
        values["lookup"] = values["lookup"] or {}
        values["transforms"] = values["transforms"] or []
        values["source_type"] = values["source_type"] or "column"
        FieldRule.objects.create(template=template, position=position, **values)
    return template


def upload_integration(folder, *, operation=Integration.Operation.GET_INVENTORY_PRIMARY, template=None, **kwargs):
    source = kwargs.pop("source", None) or SourceFactory()
    connection = ConnectionFactory(source=source, kind="upload", path=str(folder), name=f"upload {folder.name}")
    return IntegrationFactory(
        source=source, connection=connection, operation=operation, mapping_template=template, **kwargs
    )
