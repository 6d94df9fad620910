"""Reading a rule's source from a record, and lookup tables."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from .transforms import TemplateError

SOURCE_TYPES = ("column", "index", "json_path", "x12_element", "constant", "lookup")


def as_text(value: Any) -> Any:
    """Return a JSON/XLSX value as feed text; lists stay lists of text (for list targets)."""
    if value is None or value.__class__ is str:
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, list):
        return [as_text(item) for item in value]
    return json.dumps(value, default=str)


def path_getter(parts: list[str]) -> Callable[[Any], Any]:
    keys: list[Any] = [int(part) if part.lstrip("-").isdigit() else part for part in parts]

    def get(values: Any) -> Any:
        for key in keys:
            if values.__class__ is dict:
                values = values.get(key) if key.__class__ is str else values.get(str(key))
            elif isinstance(values, list) and key.__class__ is int:
                values = values[key] if -len(values) <= key < len(values) else None
            else:
                return None
            if values is None:
                return None
        return values

    return get


def source_getter(source_type: str, source: str, first: Any) -> Callable[[Any], Any]:
    """Return ``values → raw value`` for one rule, bound to the shape of the first record."""
    if source_type == "constant":
        return lambda values: source
    by_header = isinstance(first, dict)
    if source_type == "index" or (source_type in ("column", "lookup") and not by_header and source.isdigit()):
        try:
            index = int(source)
        except ValueError:
            raise TemplateError(f"column index {source!r} is not a number") from None
        if by_header:
            keys = list(first)
            if not 0 <= index < len(keys):
                raise TemplateError(f"column index {index} is beyond the {len(keys)} columns of the feed")
            key = keys[index]
            return lambda values: values.get(key)
        return lambda values: values[index] if index < len(values) else None
    if source_type in ("column", "lookup"):
        if not by_header:
            raise TemplateError(f"the template maps column {source!r} by header, but the feed has no header row")
        return lambda values: values.get(source)
    if source_type in ("json_path", "x12_element"):
        path = path_getter(source.split("."))
        if source_type == "x12_element":
            return lambda values: values.get(source) if source in values else path(values)
        return path
    raise TemplateError(f"unknown source_type {source_type!r}; use one of {', '.join(SOURCE_TYPES)}")


def lookup_table(config: Mapping[str, Any]) -> Callable[[str], str]:
    table = {str(key): str(value) for key, value in (config.get("table") or {}).items()}
    folded = {key.strip().lower(): value for key, value in table.items()}
    fallback = config.get("fallback")
    on_no_match = config.get("on_no_match") or ("fallback" if fallback is not None else "keep")
    if on_no_match not in ("fallback", "keep", "error"):
        raise TemplateError(f"lookup on_no_match must be fallback, keep or error, not {on_no_match!r}")

    def look_up(text: str) -> str:
        found = table.get(text)
        if found is None:
            found = folded.get(text.strip().lower())
        if found is not None:
            return found
        if on_no_match == "keep" or (not text and "" not in table):
            return text
        if on_no_match == "error":
            raise ValueError(f"{text!r} is not in the lookup table")
        return "" if fallback is None else str(fallback)

    return look_up
