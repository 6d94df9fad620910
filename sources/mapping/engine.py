"""Compile a template spec into closures once, then map records to canonical dicts in a tight loop.

Per record, in this order:

1. every field rule reads its source, applies its transforms, then its lookup table, then its
   default if the value is still empty — giving the row's *texts* (target → text). Several rules
   for one target: the first non-empty value wins (images: all are collected);
2. conditions run in order; a matching one overwrites texts with its ``set`` values;
3. exclusions: a matching row is skipped (counted, not an error — even if it had bad values);
4. each target's text is checked (required) and converted to its type (kinds.py); options,
   attributes and images are assembled. A row with any error yields its RowErrors and no dict.

Empty cells of a mapped target give ``None`` in the canonical dict; targets no rule mentions are
absent, so a secondary (price/quantity) feed never blanks titles.

Conditions and exclusions name either a target of the template (its text after transforms) or a
source column (the raw cell); values are compared without case and surrounding spaces, except
``regex`` which searches the text as is (add ``(?i)`` to ignore case).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from .fastpath import FastPlan
from .kinds import COLLECTIONS, KINDS, Converter, to_text
from .predicates import compile_predicate
from .transforms import TemplateError, compile_pipeline, identity
from .values import SOURCE_TYPES, as_text, lookup_table, source_getter


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem with one row: ``row`` is the 1-based data row (header not counted)."""

    row: int
    sku: str | None
    field: str
    value: Any
    message: str


class MappedRow(NamedTuple):
    row: int
    line: int
    data: dict[str, Any]


@dataclass(slots=True)
class MappingCounts:
    read: int = 0
    mapped: int = 0
    skipped: int = 0
    errors: int = 0  # rows with at least one error


@dataclass(slots=True)
class _Rule:
    """One field rule, compiled except for its source getter (bound on the first record)."""

    target: str
    source_type: str
    source: str
    pipeline: Callable[[str], Any]
    is_list: bool
    required: bool
    default: str | None
    lookup: Callable[[str], str] | None
    name_column: str | None = None  # option:@Column — the option's name comes from that column

    def step(self, first: Any) -> Callable[[Any], Any]:
        """Return ``values → text`` (or a list of texts for list targets) for records shaped like ``first``."""
        pipeline, lookup, default = self.pipeline, self.lookup, self.default
        if self.source_type == "column" and isinstance(first, dict) and lookup is None and default is None:
            if pipeline is identity:
                return _plain_column(self.source)
            return _transformed_column(self.source, pipeline, self.is_list)
        get = source_getter(self.source_type, self.source, first)
        is_list = self.is_list

        def step(values: Any) -> Any:
            raw = get(values)
            if raw.__class__ is not str:
                raw = as_text(raw)
                if raw.__class__ is list:
                    return _list_texts(raw, pipeline, is_list)
            text = pipeline(raw) if raw else raw
            if lookup is not None:
                text = lookup(text or "")
            if not text and default is not None:
                text = pipeline(default) if is_list else default
            return text

        return step


def _list_texts(raw: list, pipeline: Callable[[str], Any], is_list: bool) -> Any:
    """Apply a rule to a JSON list: list targets keep every item, scalar targets take the first."""
    texts = []
    for item in raw:
        if not item:
            continue
        text = pipeline(str(item))
        texts.extend(text if text.__class__ is list else [text])
    texts = [text for text in texts if text]
    return texts if is_list else (texts[0] if texts else None)


def _plain_column(name: str) -> Callable[[dict], Any]:
    # The hot path of CSV/XLSX feeds: one call, no transforms.
    def step(values: dict) -> Any:
        raw = values.get(name)
        return raw if raw.__class__ is str or raw is None else as_text(raw)

    step.column = name  # type: ignore[attr-defined]  # the fast path reads the cell inline
    return step


def _transformed_column(name: str, pipeline: Callable[[str], Any], is_list: bool) -> Callable[[dict], Any]:
    def step(values: dict) -> Any:
        raw = values.get(name)
        if raw.__class__ is str:
            return pipeline(raw) if raw else raw
        if raw is None:
            return None
        raw = as_text(raw)
        if raw.__class__ is list:
            return _list_texts(raw, pipeline, is_list)
        return pipeline(raw) if raw else raw

    return step


# -- the compiled template --------------------------------------------------------------------


class TemplateMapper:
    """A template compiled for one kind; call :meth:`map` on records.

    Raises TemplateError on construction for an invalid spec, and from :meth:`map` when the feed's
    shape cannot fit the template (e.g. header names against a feed without a header row).
    """

    def __init__(self, spec: Mapping[str, Any], kind: str | None = None):
        self.kind = kind or spec.get("kind") or "inventory"
        if self.kind not in KINDS or self.kind == "send_fr":
            raise TemplateError(f"unknown template kind {self.kind!r}; use one of inventory, ack, shipment, invoice")
        self.types = KINDS[self.kind]
        self.collections = COLLECTIONS.get(self.kind, {})
        self.rules = [self._compile_rule(raw, index) for index, raw in enumerate(spec.get("fields") or [], start=1)]
        if not self.rules:
            raise TemplateError("the template maps no fields")
        mapped = {rule.target for rule in self.rules if rule.name_column is None}
        raw_conditions = []
        for index, condition in enumerate(spec.get("conditions") or [], start=1):
            sets = {
                str(target): "" if value is None else str(value)
                for target, value in (condition.get("set") or {}).items()
            }
            for target in sets:
                self._check_target(target, f"condition {index}")
            mapped |= set(sets)
            raw_conditions.append((condition.get("when") or {}, sets))
        self.conditions = [
            (compile_predicate(when, mapped, f"condition {index}"), sets)
            for index, (when, sets) in enumerate(raw_conditions, start=1)
        ]
        self.exclusions = [
            compile_predicate(rule, mapped, f"exclusion {index}")
            for index, rule in enumerate(spec.get("exclusions") or [], start=1)
        ]
        self.required = {rule.target for rule in self.rules if rule.required}
        self.required_collections = [target for target in self.required if target not in self.types]
        self.scalar_targets = [target for target in self.types if target in mapped]
        self.collection_targets = sorted(
            {target for target in mapped if target not in self.types}, key=lambda target: target != "image"
        )
        self.counts = MappingCounts()
        self.errors: list[RowError] = []

    def _check_target(self, target: str, where: str) -> None:
        if target in self.types or any(target.startswith(prefix) for prefix in self.collections):
            return
        extra = f", or {', '.join(prefix + '…' for prefix in self.collections)}" if self.collections else ""
        raise TemplateError(
            f"{where}: unknown target {target!r} for a {self.kind} template; use one of {', '.join(self.types)}{extra}"
        )

    def _compile_rule(self, raw: Mapping[str, Any], index: int) -> _Rule:
        target = str(raw.get("target") or "")
        where = f"field {index} ({target or 'no target'})"
        self._check_target(target, where)
        source_type = raw.get("source_type", "column")
        if source_type not in SOURCE_TYPES:
            raise TemplateError(f"{where}: unknown source_type {source_type!r}; use one of {', '.join(SOURCE_TYPES)}")
        try:
            pipeline, is_list = compile_pipeline(raw.get("transforms"))
        except TemplateError as exc:
            raise TemplateError(f"{where}: {exc}") from None
        if is_list and target != "image":
            raise TemplateError(f"{where}: split makes a list; only image targets take lists")
        lookup_config = raw.get("lookup")
        if source_type == "lookup" and not lookup_config:
            raise TemplateError(f"{where}: a lookup rule needs a lookup table")
        name_column = None
        if target.startswith(("option:@", "attr:@")):
            name_column = target.split(":@", 1)[1]
        default = raw.get("default")
        return _Rule(
            target=target,
            source_type=source_type,
            source=str(raw.get("source", "")),
            pipeline=pipeline,
            is_list=is_list or target == "image",
            required=bool(raw.get("required")),
            default=None if default is None else str(default),
            lookup=lookup_table(lookup_config) if lookup_config else None,
            name_column=name_column,
        )

    def _bind(self, first: Any) -> tuple[list, list]:
        """Group the rules by target into per-row steps, now that the record shape is known."""
        grouped: dict[str, list[Callable[[Any], Any]]] = {}
        named = []
        for rule in self.rules:
            if rule.name_column is not None:
                name_get = source_getter("column", rule.name_column, first)
                named.append((rule.target.split(":@", 1)[0], name_get, rule.step(first)))
            else:
                grouped.setdefault(rule.target, []).append(rule.step(first))
        steps = []
        for target, functions in grouped.items():
            if len(functions) == 1:
                steps.append((target, functions[0]))
            elif target == "image":
                steps.append((target, _all_of(functions)))
            else:
                steps.append((target, _first_of(functions)))
        return steps, named

    def map(self, records: Iterable[Any], on_error: Callable[[RowError], Any] | None = None) -> Iterator[MappedRow]:
        """Yield a MappedRow per good record; report each RowError to ``on_error`` (default: ``self.errors``).

        Rows are first mapped on a fast path (no conditions or exclusions: extract and convert each
        target in one pass, no intermediate texts); a row that fails there, and every row of a
        template with conditions or exclusions, goes through the full path that collects all errors.
        """
        report = on_error or self.errors.append
        counts = self.counts
        fast = not self.conditions and not self.exclusions
        steps: list | None = None
        named: list = []
        plan: FastPlan | None = None
        last_names: list[str | None] = []
        shape: type = dict
        new_row = tuple.__new__
        for record in records:
            counts.read += 1
            row, values = record[0], record[2]
            if record[3] is not None or values.__class__ is not shape:
                if record[3] is None and steps is None and isinstance(values, dict | list):
                    shape = values.__class__
                else:
                    counts.errors += 1
                    message = (
                        record[3] or f"the record is a {type(values).__name__}, not a {shape.__name__} like the first"
                    )
                    report(RowError(row, None, "", None, message))
                    continue
            if steps is None:
                steps, named = self._bind(values)
                last_names = [None] * len(named)
                plan = FastPlan(dict(steps), self._converters, self.collection_targets)
                plan_simple = not plan.collection_steps and not named
                if fast and plan_simple:
                    fast_row = plan.row_function()
            data: dict[str, Any] | None = None
            if fast:
                if plan_simple:
                    data = fast_row(values)
                else:
                    data = self._map_fast(values, plan, named, last_names)
            if data is None:
                data, errors, sku = self._map_full(values, steps, named, last_names)
                if data is None:
                    if errors:
                        counts.errors += 1
                        for target, value, message in errors:
                            report(RowError(row, sku, target, value, message))
                    else:
                        counts.skipped += 1
                    continue
            counts.mapped += 1
            yield new_row(MappedRow, (row, record[1], data))

    @property
    def _converters(self) -> list[tuple[str, Converter | None, bool]]:
        return [
            (target, None if self.types[target] is to_text else self.types[target], target in self.required)
            for target in self.scalar_targets
        ]

    def _map_fast(self, values: Any, plan: FastPlan, named: list, last_names: list) -> dict[str, Any] | None:
        """Map one row optimistically; return None when anything is wrong (the full path says what)."""
        data: dict[str, Any] = {}
        try:
            # Plain columns: every cell fetched by one C-level map(), then converted.
            # zip() without strict=: the tuples have one length by construction, and the keyword costs ~0.5 µs.
            for target, text, convert, required in zip(  # noqa: B905
                plan.targets, map(values.get, plan.columns), plan.converters, plan.required
            ):
                if text:
                    if text.__class__ is not str:
                        text = as_text(text)
                    data[target] = text if convert is None else convert(text)
                elif required:
                    return None
                else:
                    data[target] = None
            for target, step, convert, required in plan.others:
                text = step(values)
                if text:
                    data[target] = text if convert is None else convert(text)
                elif required:
                    return None
                else:
                    data[target] = None
            if plan.collection_steps or named:
                texts = {target: step(values) for target, step in plan.collection_steps}
                if self._collect(data, texts, values, self.collection_targets, named, last_names, self.collections):
                    return None
                for target in self.required_collections:
                    if not texts.get(target):
                        return None
        except ValueError:
            return None
        return data

    def _map_full(
        self, values: Any, steps: list, named: list, last_names: list
    ) -> tuple[dict[str, Any] | None, list[tuple[str, Any, str]], str | None]:
        """Map one row through texts, conditions and exclusions; return (data, [], None) or (None, errors, sku).

        (None, [], None) means the row is excluded.
        """
        texts: dict[str, Any] = {}
        errors: list[tuple[str, Any, str]] = []
        for target, step in steps:
            try:
                texts[target] = step(values)
            except ValueError as exc:
                texts[target] = None
                errors.append((target, _raw_for_error(values, target, self.rules), str(exc)))
        for matches, sets in self.conditions:
            if matches(texts, values):
                texts.update(sets)
        if any(excluded(texts, values) for excluded in self.exclusions):
            return None, [], None
        data: dict[str, Any] = {}
        for target, convert, required in self._converters:
            text = texts.get(target)
            if not text:
                if required:
                    errors.append((target, text, "a value is required"))
                data[target] = None
            elif convert is None:
                data[target] = text
            else:
                try:
                    data[target] = convert(text)
                except ValueError as exc:
                    errors.append((target, text, str(exc)))
        if self.collection_targets or named:
            errors.extend(
                self._collect(data, texts, values, self.collection_targets, named, last_names, self.collections)
            )
            for target in self.required_collections:
                if not texts.get(target):
                    errors.append((target, None, "a value is required"))
        if errors:
            return None, errors, texts.get("sku") or None
        return data, [], None

    @staticmethod
    def _collect(
        data: dict[str, Any],
        texts: dict[str, Any],
        values: Any,
        collection_targets: list[str],
        named: list,
        last_names: list[str | None],
        collections: dict[str, str],
    ) -> list[tuple[str, Any, str]]:
        """Fill options, attributes and images into ``data``; return the errors of named options."""
        errors = []
        for collection in collections.values():
            data.setdefault(collection, [] if collection == "images" else {})
        for target in collection_targets:
            text = texts.get(target)
            if not text:
                continue
            if target == "image":
                data["images"].extend(text if text.__class__ is list else [text])
                continue
            prefix, name = target.split(":", 1)
            data[collections[prefix + ":"]][name] = text
        if not named:
            return errors
        names = [as_text(name_get(values)) for _, name_get, _ in named]
        names = [name.strip() if name else None for name in names]
        # Shopify names a product's options on its first row only: rows naming none reuse the last names.
        if any(names):
            last_names[:] = names
        for (prefix, _, step), name in zip(named, last_names, strict=True):
            try:
                text = step(values)
            except ValueError as exc:
                errors.append((f"{prefix}:{name}", None, str(exc)))
                continue
            if name and text:
                data[collections[prefix + ":"]][name] = text
        return errors


def _first_of(functions: list[Callable[[Any], Any]]) -> Callable[[Any], Any]:
    def first(values: Any) -> Any:
        text = None
        for function in functions:
            text = function(values)
            if text:
                return text
        return text

    return first


def _all_of(functions: list[Callable[[Any], Any]]) -> Callable[[Any], Any]:
    def collect(values: Any) -> list[str]:
        items: list[str] = []
        for function in functions:
            text = function(values)
            if text:
                items.extend(item for item in (text if text.__class__ is list else [text]) if item not in items)
        return items

    return collect


def _raw_for_error(values: Any, target: str, rules: list[_Rule]) -> Any:
    for rule in rules:
        if rule.target == target and rule.source_type in ("column", "lookup") and values.__class__ is dict:
            return values.get(rule.source)
    return None


def compile_template(spec: Mapping[str, Any], kind: str | None = None) -> TemplateMapper:
    """Validate and compile ``spec`` (fields, conditions, exclusions) for ``kind`` (default: spec['kind'])."""
    return TemplateMapper(spec, kind)


def map_records(
    spec: Mapping[str, Any] | TemplateMapper,
    records: Iterable[Any],
    on_error: Callable[[RowError], Any] | None = None,
    kind: str | None = None,
) -> Iterator[MappedRow]:
    """Map ``records`` with ``spec``; yield MappedRows and pass RowErrors to ``on_error``."""
    mapper = spec if isinstance(spec, TemplateMapper) else TemplateMapper(spec, kind)
    return mapper.map(records, on_error)
