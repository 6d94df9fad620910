"""The send_fr direction: canonical FR lines → the columns of a source's file drop.

A send_fr template uses the same rule shape as the inbound kinds, read the other way round:
``target`` is the output column, ``source`` a key of the canonical FR line (kinds.KINDS["send_fr"]),
or a dotted path with ``json_path``, or a constant. ``conditions`` may test a canonical key or an
output column and set output columns; ``exclusions`` do not apply to outbound files.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from .engine import RowError
from .kinds import KINDS
from .predicates import compile_predicate
from .transforms import TemplateError, compile_pipeline
from .values import SOURCE_TYPES, as_text, lookup_table, source_getter


def _compile_column(raw: Mapping[str, Any], index: int) -> tuple[str, Callable[[Mapping[str, Any]], Any], bool]:
    target = str(raw.get("target") or "")
    if not target:
        raise TemplateError(f"field {index}: an output column needs a target name")
    source_type = raw.get("source_type", "column")
    source = str(raw.get("source", ""))
    where = f"field {index} ({target})"
    if source_type not in SOURCE_TYPES or source_type in ("index", "x12_element"):
        raise TemplateError(f"{where}: a send_fr rule reads a column, json_path, constant or lookup")
    if source_type in ("column", "lookup") and source not in KINDS["send_fr"]:
        raise TemplateError(f"{where}: unknown FR field {source!r}; use one of {', '.join(KINDS['send_fr'])}")
    try:
        pipeline, is_list = compile_pipeline(raw.get("transforms"))
    except TemplateError as exc:
        raise TemplateError(f"{where}: {exc}") from None
    if is_list:
        raise TemplateError(f"{where}: split does not apply to output columns")
    get = source_getter(source_type, source, {})
    lookup = lookup_table(raw["lookup"]) if raw.get("lookup") else None
    default = raw.get("default")
    passthrough = not raw.get("transforms") and lookup is None

    def column(line: Mapping[str, Any]) -> Any:
        value = get(line)
        if passthrough and value is not None and value != "":
            return value  # keep Decimal/int/date so an XLSX drop gets real numbers and dates
        text = as_text(value)
        text = pipeline(text) if text else text
        if lookup is not None:
            text = lookup(text or "")
        if not text and default is not None:
            text = str(default)
        return text

    return target, column, bool(raw.get("required"))


def render_headers(spec: Mapping[str, Any]) -> list[str]:
    """Return the output columns of a send_fr template, in order."""
    headers: list[str] = []
    for raw in spec.get("fields") or []:
        if raw.get("target") not in headers:
            headers.append(str(raw.get("target")))
    return headers


def render(
    spec: Mapping[str, Any],
    canonical_rows: Iterable[Mapping[str, Any]],
    on_error: Callable[[RowError], Any] | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield one output row (output column → value) per canonical FR line.

    A line missing a required value yields no row; its RowError (row = 1-based line position) goes
    to ``on_error``, or raises TemplateError when no ``on_error`` is given, since a partial FR must
    never be sent silently.
    """
    columns = [_compile_column(raw, index) for index, raw in enumerate(spec.get("fields") or [], start=1)]
    if not columns:
        raise TemplateError("the send_fr template maps no columns")
    targets = {target for target, _, _ in columns}
    conditions = []
    for index, condition in enumerate(spec.get("conditions") or [], start=1):
        sets = {str(target): value for target, value in (condition.get("set") or {}).items()}
        conditions.append((compile_predicate(condition.get("when") or {}, targets, f"condition {index}"), sets))
    for row, line in enumerate(canonical_rows, start=1):
        output: dict[str, Any] = {}
        errors = []
        for target, column, _ in columns:
            try:
                value = column(line)
            except ValueError as exc:
                errors.append(RowError(row, line.get("sku"), target, None, str(exc)))
                continue
            if output.get(target) in (None, ""):
                output[target] = value
        for matches, sets in conditions:
            if matches(output, line):
                output.update(sets)
        for target, _, required in columns:
            if required and output.get(target) in (None, ""):
                errors.append(RowError(row, line.get("sku"), target, None, "a value is required"))
        if errors:
            if on_error is None:
                raise TemplateError(f"FR line {row}: {errors[0].field}: {errors[0].message}")
            for error in errors:
                on_error(error)
            continue
        yield output
