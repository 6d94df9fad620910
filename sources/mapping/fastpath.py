"""The mapping's fast path: the bound rules of a template as ONE generated Python function per record shape.

A template without conditions or exclusions maps most rows without errors, so the engine first tries a
function that reads each target's cell, converts it and returns the row's dict — or None as soon as anything
is wrong (a required value missing, a converter refusing a value), and the engine's full path then maps the
row again and says what. The function is generated source (``compile``/``exec``) with the converters and
computed steps bound as globals of its own namespace: a plain column copy is one ``values.get`` and a
truthiness test, with no call and no loop per field. Its results are exactly those of the per-field loop it
replaces (``tests/sources/test_mapping_fastpath.py`` checks it against the full path on random templates).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from .kinds import STATUS_SYNONYMS, to_amount, to_quantity, to_status
from .values import as_text

RowFunction = Callable[[Any], dict[str, Any] | None]


class FastPlan:
    """The fast path's view of the bound steps: plain dict columns apart from computed ones."""

    def __init__(self, steps: dict[str, Callable], converters: list, collection_targets: list[str]):
        # Targets only a condition sets have no step; the fast path never runs with conditions.
        converters = [item for item in converters if item[0] in steps]
        plain = [item for item in converters if getattr(steps[item[0]], "column", None) is not None]
        self.targets = tuple(target for target, _, _ in plain)
        self.columns = tuple(steps[target].column for target in self.targets)
        self.converters = tuple(convert for _, convert, _ in plain)
        self.required = tuple(required for _, _, required in plain)
        self.others = [
            (target, steps[target], convert, required)
            for target, convert, required in converters
            if target not in self.targets
        ]
        self.collection_steps = [(target, steps[target]) for target in collection_targets if target in steps]

    def row_function(self) -> RowFunction:
        """Return ``values → dict`` (None when the row needs the full path) for the scalar targets.

        Key order of the dict: plain columns first, then computed targets, as the loop it replaces.
        """
        namespace: dict[str, Any] = {"as_text": as_text, "Decimal": Decimal, "STATUS_SYNONYMS": STATUS_SYNONYMS}
        body: list[str] = []
        names: list[tuple[str, str]] = []
        fields = [(target, None, column, convert, required) for target, column, convert, required in self._plain()]
        fields += [(target, step, None, convert, required) for target, step, convert, required in self.others]
        for number, (target, step, column, convert, required) in enumerate(fields):
            value = f"v{number}"
            if step is None:
                body.append(f"t = values_get({column!r})")
                text = ["if t.__class__ is not str:", "    t = as_text(t)"]
            else:
                namespace[f"s{number}"] = step
                body.append(f"t = s{number}(values)")
                text = []
            if convert is not None:
                namespace[f"c{number}"] = convert
            body.append("if t:")
            body += [f"    {line}" for line in text + _conversion(convert, value, f"c{number}")]
            body.append("else:")
            body.append("    return None" if required else f"    {value} = None")
            names.append((target, value))
        result = ", ".join(f"{target!r}: {value}" for target, value in names)
        lines = ["def row_function(values):"]
        if self.columns:
            lines.append("    values_get = values.get")
        lines.append("    try:")
        lines += [f"        {line}" for line in body]
        lines += ["    except ValueError:", "        return None", f"    return {{{result}}}"]
        exec(compile("\n".join(lines), "<mapping template>", "exec"), namespace)  # noqa: S102 - our own source
        return namespace["row_function"]

    def _plain(self) -> list[tuple[str, str, Any, bool]]:
        return list(zip(self.targets, self.columns, self.converters, self.required, strict=True))


def _conversion(convert: Any, value: str, full: str) -> list[str]:
    """Source lines setting ``value`` from the text ``t``: the common case inline, anything else through the
    converter itself (``full``), which returns the same value or raises its ValueError."""
    if convert is None:
        return [f"{value} = t"]
    if convert is to_amount:
        # to_amount's own first step, without its comparisons: finite and not negative (-0 goes the long way).
        return [
            "try:",
            f"    {value} = Decimal(t)",
            "except ArithmeticError:",
            f"    {value} = {full}(t)",
            "else:",
            f"    if not {value}.is_finite() or {value}.is_signed():",
            f"        {value} = {full}(t)",
        ]
    if convert is to_quantity:
        return [
            "try:",
            f"    {value} = int(t)",
            "except ValueError:",
            f"    {value} = {full}(t)",
            f"if {value} < 0:",
            f"    {value} = {full}(t)",
        ]
    if convert is to_status:
        return [f"{value} = STATUS_SYNONYMS.get(t)", f"if {value} is None:", f"    {value} = {full}(t)"]
    if getattr(convert, "plain_digits", None):
        low, high = convert.plain_digits
        return [
            f"if {low} <= len(t) <= {high} and t.isdigit() and t.isascii():",
            f"    {value} = t",
            "else:",
            f"    {value} = {full}(t)",
        ]
    return [f"{value} = {full}(t)"]
