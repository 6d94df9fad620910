"""The generated row function of the mapping's fast path gives exactly what the full path gives."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from sources.formats import Record
from sources.mapping import compile_template

TARGETS = ["sku", "title", "upc", "cost", "msrp", "quantity", "status", "weight", "mpn"]
TEXTS = st.sampled_from(
    [
        "",
        " ",
        "abc",
        "12",
        " 12 ",
        "-3",
        "12.0",
        "12.5",
        "-0",
        "0",
        "1e3",
        "NaN",
        "Infinity",
        "1_000",
        "30,00",
        "$1,234.50",
        "active",
        " Active ",
        "discontinued",
        "nope",
        "036000291452",
        " 036000291452",
        "3.6E+11",
        "١٢٣٤٥٦٧٨",
        "SKU-1",
    ]
)
TRANSFORMS = st.sampled_from(
    [[], [{"op": "trim"}], [{"op": "upper"}], [{"op": "number"}], [{"op": "prefix", "value": "P"}]]
)
# An exclusion that never matches turns the fast path off: every row then takes the full path.
NEVER = [{"field": "no such column", "op": "equals", "value": "never"}]


@st.composite
def templates_and_rows(draw):
    targets = draw(st.lists(st.sampled_from(TARGETS), min_size=1, max_size=len(TARGETS), unique=True))
    fields = [
        {
            "target": target,
            "source": f"col {target}",
            "required": draw(st.booleans()),
            "transforms": draw(TRANSFORMS),
            **({"default": draw(TEXTS)} if draw(st.booleans()) and target == "status" else {}),
        }
        for target in targets
    ]
    columns = [f"col {target}" for target in targets] + ["extra"]
    rows = draw(st.lists(st.fixed_dictionaries({column: TEXTS for column in columns}), min_size=1, max_size=8))
    return {"kind": "inventory", "fields": fields}, rows


def _run(spec, rows):
    mapper = compile_template(spec)
    errors = []
    records = [Record(number, number + 1, values) for number, values in enumerate(rows, start=1)]
    mapped = [(row.row, row.data) for row in mapper.map(records, errors.append)]
    return mapped, errors, mapper.counts


@settings(max_examples=300, deadline=None)
@given(templates_and_rows())
def test_fast_path_maps_every_row_like_the_full_path(case):
    spec, rows = case
    fast = _run(spec, rows)
    full = _run({**spec, "exclusions": NEVER}, rows)
    assert fast[0] == full[0]
    for (_, fast_data), (_, full_data) in zip(fast[0], full[0], strict=True):
        assert [type(value) for value in fast_data.values()] == [type(full_data[key]) for key in fast_data]
    assert fast[1] == full[1]
    assert (fast[2].read, fast[2].mapped, fast[2].errors) == (full[2].read, full[2].mapped, full[2].errors)


def test_fast_path_keeps_negative_zero_and_refuses_negative_amounts():
    spec = {"kind": "inventory", "fields": [{"target": "sku", "source": "s"}, {"target": "cost", "source": "c"}]}
    mapped, errors, _ = _run(spec, [{"s": "A", "c": "-0"}, {"s": "B", "c": "-1.5"}, {"s": "C", "c": "1.50"}])
    assert [(row, data["cost"]) for row, data in mapped] == [(1, Decimal("-0")), (3, Decimal("1.50"))]
    assert [(error.row, error.field, error.message) for error in errors] == [
        (2, "cost", "'-1.5' is negative; it must be 0 or more")
    ]
