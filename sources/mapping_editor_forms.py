"""The mapping editor's form: posted fields ⇄ a template spec, and the rows the page renders.

Field names (stable; tests and other pages rely on them):

- ``name``, ``kind``, ``base_id``, ``next``, ``sample_token``;
- format options ``fmt-delimiter``, ``fmt-header`` (checkbox), ``fmt-skip_rows``, ``fmt-header_row``,
  ``fmt-sheet``, ``fmt-path``, ``fmt-encoding``, ``fmt-decimal_comma`` (checkbox);
- one hidden ``rule`` = <n> per rule row, in row order; then ``rule-<n>-target`` (``option:``/``attr:``
  take their name from ``rule-<n>-target_name``), ``rule-<n>-source_type``, ``rule-<n>-source``,
  ``rule-<n>-required``, ``rule-<n>-default``, ``rule-<n>-lookup`` (lines ``key = value``),
  ``rule-<n>-lookup_fallback``, ``rule-<n>-lookup_on_no_match``;
- per transform one hidden ``rule-<n>-transform`` = <m>, then ``rule-<n>-t-<m>-op`` and its parameters
  ``rule-<n>-t-<m>-value|pattern|replace|format|output|separator``;
- conditions: hidden ``cond`` = <n>, ``cond-<n>-field|op|value``, ``cond-<n>-set`` (lines ``target = value``);
- do-not-import rules: hidden ``excl`` = <n>, ``excl-<n>-field|op|value``.

A blank default means "no default"; a rule without a target is dropped (an untouched new row).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.utils.http import url_has_allowed_host_and_scheme

from flxhub.exceptions import ValidationFailed
from sources.mapping.kinds import COLLECTIONS, KINDS
from sources.mapping.predicates import OPERATORS
from sources.models import FieldRule, MappingTemplate

TRANSFORM_OPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "trim": ("Trim spaces", ()),
    "upper": ("UPPER CASE", ()),
    "lower": ("lower case", ()),
    "title": ("Title Case", ()),
    "prefix": ("Prefix", ("value",)),
    "suffix": ("Suffix", ("value",)),
    "decimal_comma": ("Decimal comma (1.234,56)", ()),
    "number": ("Number ($1,234.50)", ()),
    "integer": ("Whole number", ()),
    "multiply": ("Multiply by", ("value",)),
    "date": ("Date format", ("format", "output")),
    "regex": ("Regex replace", ("pattern", "replace")),
    "split": ("Split into a list", ("separator",)),
}
"""op → (label, its parameters), in the order the editor offers them."""
TRANSFORM_PARAMS = ("value", "pattern", "replace", "format", "output", "separator")
ON_NO_MATCH = (("fallback", "use the fallback"), ("keep", "keep the value"), ("error", "row error"))
COLLECTION_TARGETS = {"option:": "Option…", "attr:": "Attribute…"}
FORMAT_TEXT_OPTIONS = ("delimiter", "sheet", "path", "encoding")
FORMAT_NUMBER_OPTIONS = ("skip_rows", "header_row")


@dataclass
class EditorState:
    """Everything the editor form holds: a template spec plus its name and provenance."""

    name: str
    kind: str
    base_id: int | None = None
    format_options: dict[str, Any] = field(default_factory=dict)
    fields: list[dict[str, Any]] = field(default_factory=list)
    conditions: list[dict[str, Any]] = field(default_factory=list)
    exclusions: list[dict[str, Any]] = field(default_factory=list)
    sample_token: str = ""
    problems: list[str] = field(default_factory=list)
    """What could not be read from the post (kept out of the spec); saving refuses while there are any."""

    def spec(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "format_options": self.format_options,
            "fields": self.fields,
            "conditions": self.conditions,
            "exclusions": self.exclusions,
        }


def kind_from(value: str | None) -> str:
    kind = value or MappingTemplate.Kind.INVENTORY
    if kind not in MappingTemplate.Kind.values:
        raise ValidationFailed(f"Unknown template kind {kind!r}; use one of {', '.join(MappingTemplate.Kind.values)}.")
    return kind


def state_for_new(kind: str) -> EditorState:
    """A blank template of ``kind``: one required rule for its first canonical target."""
    first = next(iter(KINDS[kind]))
    rule = {
        "target": first,
        "source_type": "column",
        "source": first,
        "transforms": [{"op": "trim"}],
        "required": kind != MappingTemplate.Kind.SEND_FR,
        "default": None,
        "lookup": None,
    }
    return EditorState(name="", kind=kind, fields=[rule])


def state_from_template(template: MappingTemplate) -> EditorState:
    spec = template.to_spec()
    return EditorState(
        name=template.name,
        kind=template.kind,
        base_id=template.pk,
        format_options=dict(spec["format_options"] or {}),
        fields=spec["fields"],
        conditions=list(spec["conditions"] or []),
        exclusions=list(spec["exclusions"] or []),
    )


# -- POST → state --------------------------------------------------------------------------------


def state_from_post(data: Mapping[str, Any]) -> EditorState:
    """Parse the editor's posted fields; what cannot be read goes to ``problems``, naming the field.

    Raises ValidationFailed only for an unknown kind (the page never posts one).
    """
    problems: list[str] = []
    base = (data.get("base_id") or "").strip()
    if base and not base.isdigit():
        problems.append(f"base_id {base!r} is not a template id.")
    return EditorState(
        name=(data.get("name") or "").strip(),
        kind=kind_from(data.get("kind")),
        base_id=int(base) if base.isdigit() else None,
        format_options=_format_options(data, problems),
        fields=[rule for n in data.getlist("rule") if (rule := _rule(data, f"rule-{n}", problems))],
        conditions=[c for n in data.getlist("cond") if (c := _condition(data, f"cond-{n}", problems))],
        exclusions=[e for n in data.getlist("excl") if (e := _predicate(data, f"excl-{n}"))],
        sample_token=(data.get("sample_token") or "").strip(),
        problems=problems,
    )


def _format_options(data: Mapping[str, Any], problems: list[str]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for name in FORMAT_TEXT_OPTIONS:
        value = data.get(f"fmt-{name}") or ""
        if name == "delimiter" and value == "\\t":
            value = "\t"
        if value.strip() if name != "delimiter" else value:
            options[name] = value if name == "delimiter" else value.strip()
    for name in FORMAT_NUMBER_OPTIONS:
        value = (data.get(f"fmt-{name}") or "").strip()
        if value:
            if not value.isdigit():
                problems.append(f"Format options: {name.replace('_', ' ')} must be a whole number, not {value!r}.")
                continue
            options[name] = int(value)
    if data.get("fmt-has_header") and not data.get("fmt-header"):
        options["header"] = False
    if data.get("fmt-decimal_comma"):
        options["decimal_comma"] = True
    if "sheet" in options and options["sheet"].isdigit():
        options["sheet"] = int(options["sheet"])
    return options


def _rule(data: Mapping[str, Any], prefix: str, problems: list[str]) -> dict[str, Any] | None:
    target = (data.get(f"{prefix}-target") or "").strip()
    if target in COLLECTION_TARGETS:
        name = (data.get(f"{prefix}-target_name") or "").strip()
        target = target + name if name else ""
    if not target:
        return None
    default = data.get(f"{prefix}-default") or ""
    lookup = _pairs(data.get(f"{prefix}-lookup") or "", f"Rule {target}: lookup table", problems)
    fallback = data.get(f"{prefix}-lookup_fallback") or ""
    lookup_config: dict[str, Any] | None = None
    if lookup or fallback:
        lookup_config = {"table": lookup}
        if fallback:
            lookup_config["fallback"] = fallback
        on_no_match = data.get(f"{prefix}-lookup_on_no_match") or ""
        if on_no_match and on_no_match != _implied_on_no_match(lookup_config):
            lookup_config["on_no_match"] = on_no_match
    transforms = []
    for m in data.getlist(f"{prefix}-transform"):
        op = (data.get(f"{prefix}-t-{m}-op") or "").strip()
        if not op:
            continue
        transform: dict[str, Any] = {"op": op}
        for param in TRANSFORM_OPS.get(op, ("", TRANSFORM_PARAMS))[1]:
            value = data.get(f"{prefix}-t-{m}-{param}")
            if value not in (None, ""):
                transform[param] = value
        transforms.append(transform)
    return {
        "target": target,
        "source_type": data.get(f"{prefix}-source_type") or "column",
        "source": (data.get(f"{prefix}-source") or "").strip(),
        "transforms": transforms,
        "required": bool(data.get(f"{prefix}-required")),
        "default": default if default.strip() else None,
        "lookup": lookup_config,
    }


def _implied_on_no_match(lookup: Mapping[str, Any]) -> str:
    """What the engine does with an unmatched value when the rule does not say (values.lookup_table)."""
    return "fallback" if lookup.get("fallback") is not None else "keep"


def _predicate(data: Mapping[str, Any], prefix: str) -> dict[str, Any] | None:
    name = (data.get(f"{prefix}-field") or "").strip()
    if not name:
        return None
    op = data.get(f"{prefix}-op") or "equals"
    value: Any = (data.get(f"{prefix}-value") or "").strip() or None
    if op == "in":
        value = [item.strip() for item in (value or "").split(",") if item.strip()]
    return {"field": name, "op": op, "value": value}


def _condition(data: Mapping[str, Any], prefix: str, problems: list[str]) -> dict[str, Any] | None:
    when = _predicate(data, prefix)
    if when is None:
        return None
    where = f"Condition on {when['field']}: set"
    return {"when": when, "set": _pairs(data.get(f"{prefix}-set") or "", where, problems)}


def _pairs(text: str, where: str, problems: list[str]) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        if not sep:
            problems.append(f"{where}, line {number}: write it as 'key = value' ({line.strip()!r}).")
            continue
        pairs[key.strip()] = value.strip()
    return pairs


# -- state → rows the page renders --------------------------------------------------------------------


def target_choices(kind: str) -> list[tuple[str, str]]:
    choices = [(target, target) for target in KINDS[kind]]
    collections = COLLECTIONS.get(kind, {})
    if "image" in collections:
        choices.append(("image", "image (list)"))
    for prefix, label in COLLECTION_TARGETS.items():
        if prefix in collections:
            choices.append((prefix, label))
    return choices


def transform_row(m: int | str, transform: Mapping[str, Any]) -> dict[str, Any]:
    """One transform of a rule: its op and every parameter input, shown only when the op takes it."""
    op = transform.get("op", "")
    wanted = TRANSFORM_OPS.get(op, ("", TRANSFORM_PARAMS))[1]
    params = [
        {"name": name, "value": "" if transform.get(name) is None else transform[name], "shown": name in wanted}
        for name in TRANSFORM_PARAMS
    ]
    return {"m": m, "op": op, "params": params}


def blank_rule_row() -> dict[str, Any]:
    """The row the page clones for "Add rule" (``__n__`` is replaced by the new row's number)."""
    return {
        "n": "__n__",
        "target": "",
        "target_name": "",
        "source_type": "column",
        "source": "",
        "required": False,
        "default": "",
        "lookup_text": "",
        "lookup_fallback": "",
        "lookup_on_no_match": "fallback",
        "transforms": [],
    }


def rule_rows(state: EditorState) -> list[dict[str, Any]]:
    rows = []
    for n, rule in enumerate(state.fields):
        target = rule.get("target") or ""
        prefix = next((p for p in COLLECTION_TARGETS if target.startswith(p)), None)
        lookup = rule.get("lookup") or {}
        rows.append(
            {
                "n": n,
                "target": prefix or target,
                "target_name": target[len(prefix) :] if prefix else "",
                "source_type": rule.get("source_type") or "column",
                "source": rule.get("source") or "",
                "required": bool(rule.get("required")),
                "default": "" if rule.get("default") is None else rule["default"],
                "lookup_text": "\n".join(f"{key} = {value}" for key, value in (lookup.get("table") or {}).items()),
                "lookup_fallback": lookup.get("fallback") or "",
                "lookup_on_no_match": lookup.get("on_no_match") or _implied_on_no_match(lookup),
                "transforms": [transform_row(m, t) for m, t in enumerate(rule.get("transforms") or [])],
            }
        )
    return rows


def predicate_rows(predicates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for n, item in enumerate(predicates):
        when = item.get("when", item)
        value = when.get("value")
        rows.append(
            {
                "n": n,
                "field": when.get("field") or "",
                "op": when.get("op") or "equals",
                "value": ", ".join(map(str, value)) if isinstance(value, list) else ("" if value is None else value),
                "set_text": "\n".join(f"{key} = {val}" for key, val in (item.get("set") or {}).items()),
            }
        )
    return rows


def editor_context(state: EditorState) -> dict[str, Any]:
    """The page context for the editor form of ``state``."""
    options = state.format_options
    return {
        "state": state,
        "rules": rule_rows(state),
        "conditions": predicate_rows(state.conditions),
        "exclusions": predicate_rows(state.exclusions),
        "fmt": {
            **{name: options.get(name, "") for name in (*FORMAT_TEXT_OPTIONS, *FORMAT_NUMBER_OPTIONS)},
            "delimiter": "\\t" if options.get("delimiter") == "\t" else options.get("delimiter", ""),
            "header": options.get("header", True),
            "decimal_comma": bool(options.get("decimal_comma")),
        },
        "targets": target_choices(state.kind),
        # send_fr runs the other way: targets are the file's own column names, sources the FR's fields.
        "output_columns": state.kind == MappingTemplate.Kind.SEND_FR,
        "fr_fields": list(KINDS[MappingTemplate.Kind.SEND_FR]),
        "blank_rule": blank_rule_row(),
        "blank_transform": transform_row("__m__", {"op": "trim"}),
        "blank_predicate": {"n": "__n__", "field": "", "op": "equals", "value": "", "set_text": ""},
        "source_types": FieldRule.SourceType.choices,
        "transform_ops": [(op, label, params) for op, (label, params) in TRANSFORM_OPS.items()],
        "predicate_ops": OPERATORS,
        "on_no_match": ON_NO_MATCH,
        "kinds": MappingTemplate.Kind.choices,
    }


# -- where to go after saving ---------------------------------------------------------------------


def url_after_save(*, next_url: str, template_id: int, allowed_hosts: set[str], require_https: bool) -> str | None:
    """Return ``next_url`` with ``template=<id>`` in its query string, or None when it is not a safe local URL."""
    if not next_url or not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts=allowed_hosts, require_https=require_https
    ):
        return None
    parts = urlsplit(next_url)
    query = [(key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True) if key != "template"]
    query.append(("template", str(template_id)))
    return urlunsplit(parts._replace(query=urlencode(query)))
