"""Mapping templates: records ⇄ canonical dicts, pure (no database, no Django models).

A template spec is plain data — exactly what the MappingTemplate model stores::

    {
      "kind": "inventory",            # or ack, shipment, invoice, send_fr (optional if passed in)
      "fields": [
        {"target": "sku", "source_type": "column", "source": "Product SKU",
         "transforms": [{"op": "trim"}], "required": True, "default": None, "lookup": None},
        {"target": "status", "source_type": "lookup", "source": "Published",
         "lookup": {"table": {"1": "active"}, "fallback": "archived", "on_no_match": "fallback"}},
        {"target": "option:Color", "source": "Color"},            # → data["options"]["Color"]
        {"target": "option:@Attribute 1 name", "source": "Attribute 1 value(s)"},  # name from a column
        {"target": "image", "source": "Images", "transforms": [{"op": "split", "separator": ","}]},
      ],
      "conditions": [{"when": {"field": "brand", "op": "equals", "value": "Acme"},
                      "set": {"status": "discontinued"}}],
      "exclusions": [{"field": "category", "op": "in", "value": ["Gift cards"]}],
    }

source_type: ``column`` (header name), ``index`` (0-based column, as a string), ``json_path``
(dotted, numbers index lists), ``x12_element`` (a key such as ``LIN03`` of the X12 reader's record,
else a dotted path), ``constant`` (``source`` is the value), ``lookup`` (a column through ``lookup``).
Transforms: see transforms.TRANSFORMS plus ``split``. Targets and their types: kinds.KINDS.

Public API: compile_template / map_records (inbound kinds), dry_run, render / render_headers
(send_fr), RowError, MappedRow, MappingCounts, DryRunResult, TemplateError.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .engine import MappedRow, MappingCounts, RowError, TemplateMapper, compile_template, map_records
from .send_fr import render, render_headers
from .transforms import TemplateError

__all__ = [
    "DryRunResult",
    "MappedRow",
    "MappingCounts",
    "RowError",
    "TemplateError",
    "TemplateMapper",
    "compile_template",
    "dry_run",
    "map_records",
    "render",
    "render_headers",
]


@dataclass
class DryRunResult:
    """What a template does to a sample: the first mapped rows, every row error, the counts.

    ``format_error`` is set when the sample itself stopped being readable part-way (the rows and
    errors up to that point are kept); ``notes`` carries the reader's remarks (e.g. encoding).
    """

    first_rows: list[MappedRow]
    errors: list[RowError]
    counts: MappingCounts
    format_error: str | None = None
    notes: list[str] = field(default_factory=list)


def dry_run(spec: Mapping[str, Any], records: Iterable[Any], limit: int = 20, kind: str | None = None) -> DryRunResult:
    """Map a whole sample without writing anything: keep the first ``limit`` rows and every error.

    Raises TemplateError when the template itself is invalid. Meant for sample files: the errors of
    the whole sample are kept in memory.
    """
    from sources.formats import FormatError

    mapper = compile_template(spec, kind)
    errors: list[RowError] = []
    first_rows: list[MappedRow] = []
    format_error = None
    try:
        for mapped in mapper.map(records, errors.append):
            if len(first_rows) < limit:
                first_rows.append(mapped)
    except FormatError as exc:
        format_error = exc.message
    return DryRunResult(first_rows, errors, mapper.counts, format_error, list(getattr(records, "notes", [])))
