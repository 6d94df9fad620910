"""Mapping templates: save a new version, try a template on an operator's sample file, list the families.

Writers are ``mapping_template_*`` and ``mapping_sample_*``; the two reads at the bottom serve the
editor's pages (they live here with the writers they mirror rather than in the shared selectors).

Samples are kept for one editing session in a temporary folder outside the repository
(``settings.FLXHUB_MAPPING_SAMPLE_DIR``, default ``<tmp>/flxhub-mapping-samples``), one file per
upload named by a random token; the Django session lists the tokens it owns, so a token from
another session reads nothing. A session keeps its last MAX_SAMPLES_PER_SESSION samples, and every
upload sweeps files older than SAMPLE_TTL_SECONDS, so abandoned samples do not pile up.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import time
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max

from flxhub.exceptions import ApplicationError, Conflict, NotFound, ValidationFailed
from sources.formats import FormatError, format_names, read_records
from sources.mapping import DryRunResult, TemplateError, compile_template, dry_run, render, render_headers
from sources.mapping.kinds import COLLECTIONS
from sources.models import FieldRule, Integration, MappingTemplate

MAX_SAMPLE_BYTES = 5 * 1024 * 1024
MAX_SAMPLES_PER_SESSION = 5
SAMPLE_TTL_SECONDS = 24 * 3600
SESSION_KEY = "mapping_editor_samples"
PREVIEW_ROWS = 20
PREVIEW_ERROR_LIMIT = 500  # a 5 MB sample of bad rows would otherwise render tens of thousands of rows

_EXTENSIONS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".xlsx": "xlsx",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".x12": "x12",
    ".edi": "x12",
    ".846": "x12",
}
_FIELD_LIMITS = {"target": 80, "source": 255, "default": 255}


# -- saving a version ----------------------------------------------------------------------------


def mapping_template_check(
    *, kind: str, format_options: Mapping[str, Any], fields: list, conditions: list, exclusions: list
) -> dict[str, Any]:
    """Validate a template by compiling it; return its spec. Raise TemplateError saying what and where."""
    if kind not in MappingTemplate.Kind.values:
        raise TemplateError(f"unknown template kind {kind!r}; use one of {', '.join(MappingTemplate.Kind.values)}")
    for index, rule in enumerate(fields, start=1):
        for name, limit in _FIELD_LIMITS.items():
            value = rule.get(name)
            if value is not None and len(str(value)) > limit:
                raise TemplateError(f"field {index}: the {name} is longer than {limit} characters")
    spec = {
        "kind": kind,
        "format_options": dict(format_options),
        "fields": fields,
        "conditions": conditions,
        "exclusions": exclusions,
    }
    if kind == MappingTemplate.Kind.SEND_FR:
        list(render(spec, []))  # compiles every column; raises TemplateError
    else:
        compile_template(spec, kind)
    return spec


def mapping_template_save_version(
    *,
    base_id: int | None,
    name: str,
    kind: str,
    format_options: Mapping[str, Any],
    fields: list[dict[str, Any]],
    conditions: list[dict[str, Any]],
    exclusions: list[dict[str, Any]],
    user: Any = None,
) -> MappingTemplate:
    """Validate the template, then store it as the next version of ``name``/``kind`` with its rules, atomically.

    Nothing is ever changed in place: the new row gets version = highest stored version of that name
    and kind + 1 and is never built-in, so a built-in base stays exactly as shipped. ``base_id`` is
    the template the editor started from; it must exist and be of the same kind. Raises
    TemplateError (nothing saved) for an invalid template, Conflict when another save took the same
    version at the same moment.
    """
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("Give the template a name.", details={"field": "name"})
    if len(name) > MappingTemplate._meta.get_field("name").max_length:
        raise ValidationFailed("The template name is longer than 120 characters.", details={"field": "name"})
    if user is not None and not user.has_perm("sources.add_mappingtemplate"):
        raise ApplicationError("You may not save mapping templates.", code="permission_denied", http_status=403)
    if base_id is not None:
        base = MappingTemplate.objects.filter(pk=base_id).first()
        if base is None:
            raise NotFound(f"Mapping template {base_id} does not exist.")
        if base.kind != kind:
            raise ValidationFailed(f"Template {base} is a {base.kind} template, not {kind}.")
    spec = mapping_template_check(
        kind=kind, format_options=format_options, fields=fields, conditions=conditions, exclusions=exclusions
    )
    try:
        with transaction.atomic():
            family = MappingTemplate.objects.select_for_update().filter(name=name, kind=kind)
            latest = family.aggregate(latest=Max("version"))["latest"] or 0
            template = MappingTemplate.objects.create(
                name=name,
                kind=kind,
                version=latest + 1,
                is_builtin=False,
                format_options=spec["format_options"],
                conditions=spec["conditions"],
                exclusions=spec["exclusions"],
            )
            FieldRule.objects.bulk_create(
                FieldRule(
                    template=template,
                    position=position,
                    target=rule["target"],
                    source_type=rule.get("source_type") or FieldRule.SourceType.COLUMN,
                    source=str(rule.get("source") or ""),
                    transforms=list(rule.get("transforms") or []),
                    required=bool(rule.get("required")),
                    default=rule.get("default"),
                    lookup=dict(rule.get("lookup") or {}),
                )
                for position, rule in enumerate(fields)
            )
    except IntegrityError:
        raise Conflict(f"Someone saved {name!r} at the same moment; save again to make the next version.") from None
    return template


# -- samples ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    token: str
    name: str
    size: int
    file_format: str


def _sample_dir() -> Path:
    folder = getattr(settings, "FLXHUB_MAPPING_SAMPLE_DIR", None)
    path = Path(folder) if folder else Path(tempfile.gettempdir()) / "flxhub-mapping-samples"
    path.mkdir(parents=True, exist_ok=True)
    return path


def sample_format_guess(filename: str) -> str:
    """Return the feed format a sample's file name suggests (csv when the extension says nothing)."""
    return _EXTENSIONS.get(Path(filename).suffix.lower(), "csv")


def mapping_sample_store(
    *, session: MutableMapping[str, Any], name: str, size: int, chunks: Iterable[bytes], file_format: str = ""
) -> Sample:
    """Keep an uploaded sample for this editing session and return it; raise ValidationFailed if too big.

    ``file_format`` empty means: guess from the file name. The session's oldest samples beyond
    MAX_SAMPLES_PER_SESSION are deleted, and so is any sample file older than SAMPLE_TTL_SECONDS.
    """
    if size > MAX_SAMPLE_BYTES:
        raise ValidationFailed(
            f"The sample {name!r} is {size / 1024 / 1024:.1f} MB; samples are limited to "
            f"{MAX_SAMPLE_BYTES // 1024 // 1024} MB. Upload the first few thousand rows instead.",
            details={"field": "sample"},
        )
    file_format = file_format or sample_format_guess(name)
    if file_format not in format_names():
        raise ValidationFailed(f"Unknown sample format {file_format!r}; use one of {', '.join(format_names())}.")
    folder = _sample_dir()
    _sweep(folder)
    token = secrets.token_urlsafe(16)
    written = 0
    with open(folder / token, "wb") as out:
        for chunk in chunks:
            written += len(chunk)
            if written > MAX_SAMPLE_BYTES:
                out.close()
                (folder / token).unlink(missing_ok=True)
                raise ValidationFailed(f"The sample {name!r} is larger than the 5 MB limit.")
            out.write(chunk)
    samples = dict(session.get(SESSION_KEY) or {})
    samples[token] = {"name": name, "size": written, "format": file_format}
    while len(samples) > MAX_SAMPLES_PER_SESSION:
        oldest = next(iter(samples))
        (folder / oldest).unlink(missing_ok=True)
        del samples[oldest]
    session[SESSION_KEY] = samples
    return Sample(token, name, written, file_format)


def mapping_sample_get(*, session: Mapping[str, Any], token: str) -> Sample | None:
    """Return this session's sample ``token``, or None when it is not this session's or is gone."""
    meta = (session.get(SESSION_KEY) or {}).get(token or "")
    if meta is None or not (_sample_dir() / token).is_file():
        return None
    return Sample(token, meta["name"], meta["size"], meta["format"])


def _sweep(folder: Path) -> None:
    cutoff = time.time() - SAMPLE_TTL_SECONDS
    for entry in os.scandir(folder):
        try:
            if entry.is_file() and entry.stat().st_mtime < cutoff:
                os.unlink(entry.path)
        except FileNotFoundError:
            pass  # another process swept it first


# -- preview ------------------------------------------------------------------------------------


@dataclass
class PreviewRow:
    number: int
    cells: list[str]


@dataclass
class Preview:
    """What the editor shows: the mapped first rows as a table and the row errors (the first ERROR_LIMIT)."""

    result: DryRunResult | None
    columns: list[str]
    headers: list[str]
    error_limit: int = PREVIEW_ERROR_LIMIT

    @property
    def rows(self) -> list[PreviewRow]:
        if self.result is None:
            return []
        return [
            PreviewRow(row.row, [_cell_text(row.data.get(column)) for column in self.columns])
            for row in self.result.first_rows
        ]

    @property
    def shown_errors(self) -> list:
        return self.result.errors[: self.error_limit] if self.result else []


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        return "; ".join(f"{key}: {item}" for key, item in value.items())
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


def mapping_template_preview(*, spec: Mapping[str, Any], sample: Sample | None) -> Preview:
    """Dry-run ``spec`` on ``sample`` without writing anything.

    Raises TemplateError for an invalid template and FormatError for an unreadable sample, both with
    messages for the operator. A send_fr template has no inbound sample: its preview is its columns.
    """
    kind = spec.get("kind") or "inventory"
    if kind == MappingTemplate.Kind.SEND_FR:
        list(render(spec, []))
        return Preview(None, [], render_headers(spec))
    compile_template(spec, kind)
    if sample is None:
        return Preview(None, [], [])
    with open(_sample_dir() / sample.token, "rb") as data:
        try:
            records = read_records(sample.file_format, data, dict(spec.get("format_options") or {}))
            result = dry_run(spec, records, limit=PREVIEW_ROWS, kind=kind)
        except (TypeError, ValueError) as exc:
            raise FormatError(f"The sample cannot be read with these format options: {exc}") from None
    return Preview(result, _columns(spec, kind, result), [])


def _columns(spec: Mapping[str, Any], kind: str, result: DryRunResult) -> list[str]:
    """The preview's columns in the template's rule order (options, attributes, images as one column each)."""
    collections = COLLECTIONS.get(kind, {})
    columns: list[str] = []
    for rule in spec.get("fields") or []:
        target = str(rule.get("target") or "")
        key = next((name for prefix, name in collections.items() if target.startswith(prefix)), target)
        if key not in columns:
            columns.append(key)
    for row in result.first_rows:
        columns.extend(key for key in row.data if key not in columns)
    return [column for column in columns if any(column in row.data for row in result.first_rows)] or columns


# -- reads for the editor's pages ------------------------------------------------------------------


@dataclass
class TemplateFamily:
    """All versions of one template name and kind, newest first."""

    name: str
    kind: str
    versions: list[MappingTemplate]
    integrations: list[Integration]

    @property
    def latest(self) -> MappingTemplate:
        return self.versions[0]

    @property
    def builtin_versions(self) -> list[int]:
        return [template.version for template in self.versions if template.is_builtin]


def mapping_template_families(*, kind: str = "") -> list[TemplateFamily]:
    """Return the template families (optionally of one kind) with the integrations using any of their versions."""
    templates = MappingTemplate.objects.order_by("name", "kind", "-version")
    if kind:
        templates = templates.filter(kind=kind)
    families: dict[tuple[str, str], TemplateFamily] = {}
    for template in templates:
        family = families.setdefault(
            (template.name, template.kind), TemplateFamily(template.name, template.kind, [], [])
        )
        family.versions.append(template)
    by_template = {template.pk: family for family in families.values() for template in family.versions}
    using = Integration.objects.filter(mapping_template__in=list(by_template)).select_related(
        "source", "mapping_template"
    )
    for integration in using.order_by("source__name", "operation"):
        by_template[integration.mapping_template_id].integrations.append(integration)
    return list(families.values())


def mapping_template_get(*, template_id: int) -> MappingTemplate:
    """Return the template ``template_id`` or raise NotFound."""
    template = MappingTemplate.objects.filter(pk=template_id).first()
    if template is None:
        raise NotFound(f"Mapping template {template_id} does not exist.")
    return template


__all__ = [
    "MAX_SAMPLE_BYTES",
    "Preview",
    "PreviewRow",
    "Sample",
    "TemplateFamily",
    "mapping_sample_get",
    "mapping_sample_store",
    "mapping_template_check",
    "mapping_template_families",
    "mapping_template_get",
    "mapping_template_preview",
    "mapping_template_save_version",
    "sample_format_guess",
    "FormatError",
    "TemplateError",
]
