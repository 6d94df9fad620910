"""Transforms of a field rule: small text → text functions, picked by ``op`` from a registry.

Each factory takes the rule's parameters once (when the template is compiled) and returns the
function applied per row. A function raises ValueError with a message for an operator when the
value cannot be transformed; the mapping reports it as a row error. Transforms skip empty values,
so ``prefix`` never turns an empty cell into a lone prefix and ``number`` never rejects a blank.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flxhub.exceptions import ValidationFailed

Transform = Callable[[str], str]

_EUROPEAN_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+(,\d*)?$")
_NUMBER_NOISE = re.compile(r"[\s\u00a0$€£¥]")
_TIME_DIRECTIVES = ("%H", "%I", "%M", "%S", "%f", "%p", "%z", "%X", "%c")


class TemplateError(ValidationFailed):
    """The template itself is invalid (unknown op, bad regex, unknown target...)."""

    code = "invalid_template"


def decimal_comma(text: str) -> str:
    """Turn ``1.234,56`` / ``30,00`` into ``1234.56`` / ``30.00``.

    A dot is a thousands separator only beside a comma or in 3-digit groups (``1.234``); ``30.5`` is
    left alone, so a feed that mixes styles is not silently multiplied by ten.
    """
    text = text.strip().replace("\u00a0", "").replace(" ", "")
    if "," in text:
        return text.replace(".", "").replace(",", ".")
    if _EUROPEAN_THOUSANDS.match(text):
        return text.replace(".", "")
    return text


def parse_decimal(text: str) -> Decimal:
    """Return ``text`` as a finite Decimal or raise ValueError with a hint about decimal commas."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        hint = "; if the feed uses a decimal comma, add the decimal_comma transform" if "," in text else ""
        raise ValueError(f"{text!r} is not a number{hint}") from None
    if not value.is_finite():
        raise ValueError(f"{text!r} is not a number")
    return value


def number(text: str) -> str:
    """Normalise a number written with a currency sign, spaces or thousands commas (``$1,234.50``)."""
    cleaned = _NUMBER_NOISE.sub("", text)
    if "," in cleaned and "." in cleaned and cleaned.rfind(",") < cleaned.rfind("."):
        cleaned = cleaned.replace(",", "")
    elif cleaned.count(",") >= 1 and re.fullmatch(r"[+-]?\d{1,3}(,\d{3})+", cleaned):
        cleaned = cleaned.replace(",", "")
    return str(parse_decimal(cleaned))


def integer(text: str) -> str:
    """Normalise a whole number, accepting ``12.0``; refuse ``12.5``."""
    value = parse_decimal(number(text))
    if value != value.to_integral_value():
        raise ValueError(f"{text!r} is not a whole number")
    return str(int(value))


def _case(method: Callable[[str], str]) -> Callable[[Mapping[str, Any]], Transform]:
    return lambda params: method


def _prefix(params: Mapping[str, Any]) -> Transform:
    prefix = str(_param(params, "value"))
    return lambda text: prefix + text


def _suffix(params: Mapping[str, Any]) -> Transform:
    suffix = str(_param(params, "value"))
    return lambda text: text + suffix


def _multiply(params: Mapping[str, Any]) -> Transform:
    try:
        factor = parse_decimal(str(_param(params, "value")))
    except ValueError as exc:
        raise TemplateError(f"multiply: {exc}") from None

    def multiply(text: str) -> str:
        return str((parse_decimal(text.strip()) * factor).normalize())

    return multiply


def _date(params: Mapping[str, Any]) -> Transform:
    formats = params.get("format") or "%Y-%m-%d"
    formats = [formats] if isinstance(formats, str) else list(formats)
    output = params.get("output")
    with_time = [any(directive in fmt for directive in _TIME_DIRECTIVES) for fmt in formats]

    def parse(text: str) -> str:
        stripped = text.strip()
        for fmt, has_time in zip(formats, with_time, strict=True):
            try:
                moment = datetime.strptime(stripped, fmt)
            except ValueError:
                continue
            if output:
                return moment.strftime(output)
            return moment.isoformat() if has_time else moment.date().isoformat()
        raise ValueError(f"{text!r} is not a date in the format {' or '.join(formats)}")

    return parse


def _regex(params: Mapping[str, Any]) -> Transform:
    try:
        pattern = re.compile(str(_param(params, "pattern")))
    except re.error as exc:
        raise TemplateError(f"regex: invalid pattern: {exc}") from None
    replace = str(params.get("replace", ""))
    return lambda text: pattern.sub(replace, text)


def _param(params: Mapping[str, Any], name: str) -> Any:
    if params.get(name) is None:
        raise TemplateError(f"the {params.get('op')} transform needs a {name!r}")
    return params[name]


TRANSFORMS: dict[str, Callable[[Mapping[str, Any]], Transform]] = {
    "trim": _case(str.strip),
    "upper": _case(str.upper),
    "lower": _case(str.lower),
    "title": _case(str.title),
    "prefix": _prefix,
    "suffix": _suffix,
    "decimal_comma": lambda params: decimal_comma,
    "number": lambda params: number,
    "integer": lambda params: integer,
    "multiply": _multiply,
    "date": _date,
    "regex": _regex,
}
"""op → factory(params) → text function. ``split`` is not here: it turns text into a list (see compile_pipeline)."""


def compile_pipeline(transforms: list[Mapping[str, Any]] | None) -> tuple[Callable[[str], Any], bool]:
    """Compile a rule's transforms into one function; return it and whether it yields a list (``split``).

    Transforms after a ``split`` apply to each item; empty items are dropped.
    """
    before: list[Transform] = []
    after: list[Transform] = []
    separator: str | None = None
    for params in transforms or []:
        op = params.get("op")
        if op == "split":
            if separator is not None:
                raise TemplateError("a rule can split only once")
            separator = str(params.get("separator") or ",")
            continue
        try:
            factory = TRANSFORMS[op]
        except KeyError:
            known = ", ".join([*TRANSFORMS, "split"])
            raise TemplateError(f"unknown transform {op!r}; known transforms: {known}") from None
        (after if separator is not None else before).append(factory(params))
    scalar = _chain(before)
    if separator is None:
        return scalar, False
    item = _chain(after)

    def split(text: str) -> list[str]:
        text = scalar(text)
        if not text:
            return []
        return [value for part in text.split(separator) if (value := item(part.strip()))]

    return split, True


def _chain(functions: list[Transform]) -> Transform:
    if not functions:
        return identity
    if len(functions) == 1:
        only = functions[0]
        return lambda text: only(text) if text else text

    def chained(text: str) -> str:
        for function in functions:
            if not text:
                return text
            text = function(text)
        return text

    return chained


def identity(text: str) -> str:
    return text
