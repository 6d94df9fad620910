"""Conditions and do-not-import rules: predicates over a row's texts or its raw cells."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from .transforms import TemplateError
from .values import as_text

OPERATORS = ("equals", "in", "contains", "startswith", "regex", "empty", "not_empty")


def compile_predicate(when: Mapping[str, Any], targets: set[str], where: str) -> Callable[[dict, Any], bool]:
    """Compile one `{"field", "op", "value"}` test; ``field`` is a target in ``targets`` or a source column."""
    name = when.get("field")
    op = when.get("op", "equals")
    if not name:
        raise TemplateError(f"{where}: a condition needs a field")
    value = when.get("value")
    if name in targets:

        def read(texts: dict, values: Any) -> str:
            text = texts.get(name)
            if text.__class__ is str:
                return text
            if text.__class__ is list:
                return ",".join(text)
            return "" if text is None else str(as_text(text))

    else:
        index = int(name) if str(name).isdigit() else None

        def read(texts: dict, values: Any) -> str:
            if values.__class__ is dict:
                raw = values.get(name)
            elif index is not None and isinstance(values, list) and index < len(values):
                raw = values[index]
            else:
                raw = None
            return "" if raw is None else str(as_text(raw))

    wanted = "" if value is None else str(value).strip().lower()
    if op == "equals":
        return lambda texts, values: read(texts, values).strip().lower() == wanted
    if op == "in":
        items = value if isinstance(value, list | tuple | set) else str(value or "").split(",")
        choices = {str(item).strip().lower() for item in items}
        return lambda texts, values: read(texts, values).strip().lower() in choices
    if op == "contains":
        return lambda texts, values: wanted in read(texts, values).lower()
    if op == "startswith":
        return lambda texts, values: read(texts, values).strip().lower().startswith(wanted)
    if op == "regex":
        try:
            pattern = re.compile(str(value))
        except re.error as exc:
            raise TemplateError(f"{where}: invalid regex {value!r}: {exc}") from None
        return lambda texts, values: pattern.search(read(texts, values)) is not None
    if op == "empty":
        return lambda texts, values: not read(texts, values).strip()
    if op == "not_empty":
        return lambda texts, values: bool(read(texts, values).strip())
    raise TemplateError(f"{where}: unknown op {op!r}; use one of {', '.join(OPERATORS)}")
