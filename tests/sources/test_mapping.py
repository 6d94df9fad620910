"""Mapping-template engine: real feeds with the built-in templates, every rule type, kinds, dry run, send_fr."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sources.builtin_templates import BUILTIN_TEMPLATES, builtin_template
from sources.formats import Record, read_records
from sources.mapping import RowError, TemplateError, compile_template, dry_run, map_records, render, render_headers
from sources.mapping.transforms import compile_pipeline, decimal_comma

FEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "realdata" / "feeds"
needs_feeds = pytest.mark.skipif(not FEEDS.is_dir(), reason="../shared/realdata/feeds is absent")


def records(*rows: dict) -> list[Record]:
    return [Record(number, number + 1, dict(row)) for number, row in enumerate(rows, start=1)]


def column(target, source, *transforms, **extra):
    return {"target": target, "source_type": "column", "source": source, "transforms": list(transforms), **extra}


def run(spec, rows, kind=None):
    errors: list[RowError] = []
    mapped = list(map_records(spec, rows, errors.append, kind=kind))
    return [row.data for row in mapped], errors


def feed(name: str, key: str):
    template = builtin_template(key)
    return template, read_records("csv", (FEEDS / name).read_bytes(), template["format_options"])


# -- the real feeds ----------------------------------------------------------------------------


@needs_feeds
def test_bots_pricat_maps_decimal_comma_padded_values_and_dates():
    template, reader = feed("bots_pricat_articledata01.csv", "bots_pricat")
    result = dry_run(template, reader)
    assert result.errors == []
    assert result.counts.mapped == 3
    first, second, third = (row.data for row in result.first_rows)
    assert first["sku"] == "123456"
    assert first["ean"] == "8712345678906"
    assert first["msrp"] == Decimal("40")
    assert first["options"] == {"Size": "L", "Color": "white"}
    assert first["attributes"]["PromoFrom"] == "2008-06-30"
    assert "PromoPrice" not in first["attributes"]
    assert second["options"] == {"Size": "L"}
    assert third["attributes"]["PromoPrice"] == "30.00"


@needs_feeds
def test_shopify_variant_rows_repeat_the_handle_with_blank_parent_fields():
    template, reader = feed("shopify_product_template.csv", "shopify_products")
    result = dry_run(template, reader, limit=50)
    assert result.errors == []
    assert (result.counts.read, result.counts.mapped, result.counts.skipped) == (17, 16, 1)
    by_sku = {row.data["sku"]: row.data for row in result.first_rows}
    parent_row, variant_row = by_sku["SRT_COT_111"], by_sku["SRT_COT_122"]
    assert parent_row["parent_sku"] == variant_row["parent_sku"] == "example-shirt"
    assert parent_row["title"] == "Example T-Shirt"
    assert parent_row["brand"] == "Acme"
    assert variant_row["title"] is None
    assert variant_row["brand"] is None
    assert parent_row["options"] == {"Color": "Green", "Size": "S"}
    assert variant_row["options"] == {"Color": "Green", "Size": "M"}
    assert variant_row["upc"] == "463469551155"
    assert by_sku["PNT_DEN_285"]["options"] == {"Size": "28"}
    assert by_sku["PNT_DEN_285"]["weight"] == Decimal("0.226796185")
    assert by_sku["PNT_DEN_285"]["status"] == "archived"  # Shopify "draft"
    assert by_sku["HAT_GRY_275"]["cost"] == Decimal("8.5")
    assert by_sku["HAT_GRY_275"]["quantity"] == 50


@needs_feeds
def test_excel_resaved_shopify_upcs_in_scientific_notation_are_row_errors():
    template, reader = feed("shopify_product_template_excel_resaved.csv", "shopify_products")
    result = dry_run(template, reader)
    assert result.counts.mapped == 0
    assert result.counts.errors == 16
    assert len(result.errors) == 16
    first = result.errors[0]
    assert (first.row, first.sku, first.field, first.value) == (1, "SRT_COT_111", "upc", "3.65275E+11")
    assert "scientific notation by a spreadsheet; digits are lost" in first.message
    assert {error.field for error in result.errors} == {"upc"}


@needs_feeds
def test_woocommerce_variations_link_to_their_parent_by_sku():
    template, reader = feed("woocommerce_sample_products.csv", "woocommerce_products")
    result = dry_run(template, reader, limit=50)
    assert result.errors == []
    assert result.counts.skipped == 2  # the grouped and the external product
    by_sku = {row.data["sku"]: row.data for row in result.first_rows}
    assert "cc-logo-collection" not in by_sku
    assert by_sku["cc-hoodie-red"]["parent_sku"] == "cc-hoodie"
    assert by_sku["cc-hoodie-red"]["options"] == {"Color": "Red", "Logo": "No"}
    assert by_sku["cc-hoodie"]["parent_sku"] is None
    assert len(by_sku["cc-hoodie"]["images"]) == 4
    assert by_sku["cc-hoodie"]["images"][0].startswith("https://")
    assert by_sku["cc-beanie"]["msrp"] == Decimal("20")
    assert by_sku["cc-beanie"]["status"] == "active"


def test_every_builtin_template_compiles():
    for key, template in BUILTIN_TEMPLATES.items():
        compile_template(template)
        assert template["name"], key


def test_us_direct_template_requires_its_four_fields_and_prefixes_the_master_sku():
    template = builtin_template("us_direct_inventory")
    rows = records(
        {"Product SKU": " 1001 ", "Product Name": "Desk", "Pricing": "$1,250.00", "Quantity": "12.0"},
        {"Product SKU": "1002", "Product Name": "", "Pricing": "3", "Quantity": "-1"},
    )
    data, errors = run(template, rows)
    assert data == [
        {"sku": "1001", "master_sku": "USD-1001", "title": "Desk", "cost": Decimal("1250.00"), "quantity": 12}
    ]
    assert [(error.row, error.sku, error.field) for error in errors] == [(2, "1002", "title"), (2, "1002", "quantity")]
    assert "negative" in errors[1].message


# -- rules ---------------------------------------------------------------------------------------


def test_column_index_mapping_on_a_feed_without_header():
    spec = {
        "fields": [
            {"target": "sku", "source_type": "index", "source": "0", "required": True},
            {"target": "quantity", "source_type": "index", "source": "2"},
        ]
    }
    reader = read_records("csv", b"A,ignored,5\nB,ignored\n", {"header": False})
    data, errors = run(spec, reader)
    assert data == [{"sku": "A", "quantity": 5}, {"sku": "B", "quantity": None}]
    assert errors == []


def test_column_index_on_a_headed_feed_uses_the_header_order():
    spec = {"fields": [{"target": "sku", "source_type": "index", "source": "1"}]}
    data, _ = run(spec, read_records("csv", b"x,code\n1,A\n", {}))
    assert data == [{"sku": "A"}]


def test_header_names_against_a_headerless_feed_is_a_template_error():
    spec = {"fields": [column("sku", "Product SKU")]}
    with pytest.raises(TemplateError, match="no header row"):
        run(spec, read_records("csv", b"A,1\n", {"header": False}))


def test_json_path_into_nested_objects_and_lists():
    spec = {
        "fields": [
            {"target": "sku", "source_type": "json_path", "source": "item.sku"},
            {"target": "cost", "source_type": "json_path", "source": "prices.0.amount"},
            {"target": "quantity", "source_type": "json_path", "source": "stock.total"},
            {"target": "image", "source_type": "json_path", "source": "media"},
        ]
    }
    body = (
        b'{"data": {"items": [{"item": {"sku": "A"}, "prices": [{"amount": 19.99}], "stock": {"total": 4},'
        b' "media": ["a.jpg", "b.jpg"]}, {"item": {"sku": 7}, "prices": []}]}}'
    )
    data, errors = run(spec, read_records("json", body, {"path": "data.items"}))
    assert errors == []
    collections = {"options": {}, "attributes": {}}
    assert data[0] == {"sku": "A", "cost": Decimal("19.99"), "quantity": 4, "images": ["a.jpg", "b.jpg"], **collections}
    assert data[1] == {"sku": "7", "cost": None, "quantity": None, "images": [], **collections}


def test_constant_default_and_first_non_empty_rule_wins():
    spec = {
        "fields": [
            column("sku", "Variant SKU"),
            column("sku", "Handle"),
            {"target": "brand", "source_type": "constant", "source": "Acme"},
            column("status", "Status", default="active"),
        ]
    }
    data, _ = run(spec, records({"Variant SKU": "", "Handle": "h1", "Status": ""}))
    assert data == [{"sku": "h1", "brand": "Acme", "status": "active"}]


def test_lookup_table_with_fallback_keep_and_error():
    def spec(on_no_match, fallback=None):
        lookup = {"table": {"Y": "active", "N": "archived"}, "fallback": fallback, "on_no_match": on_no_match}
        return {
            "fields": [
                column("sku", "sku"),
                {"target": "status", "source_type": "lookup", "source": "flag", "lookup": lookup},
            ]
        }

    rows = records({"sku": "A", "flag": " y "}, {"sku": "B", "flag": "maybe"})
    data, _ = run(spec("fallback", "discontinued"), rows)
    assert [row["status"] for row in data] == ["active", "discontinued"]
    data, errors = run(spec("keep"), rows)
    assert data == [{"sku": "A", "status": "active"}]
    assert errors[0].field == "status" and "unknown status 'maybe'" in errors[0].message
    _, errors = run(spec("error"), rows)
    assert errors == [RowError(2, "B", "status", "maybe", "'maybe' is not in the lookup table")]


def test_transforms_chain_in_order():
    spec = {
        "fields": [
            column("sku", "sku", {"op": "trim"}, {"op": "upper"}, {"op": "prefix", "value": "USD-"}),
            column("title", "title", {"op": "regex", "pattern": r"\s+", "replace": " "}, {"op": "title"}),
            column("cost", "cost", {"op": "decimal_comma"}, {"op": "multiply", "value": "1.2"}),
            column("brand", "brand", {"op": "lower"}, {"op": "suffix", "value": " inc"}),
            column("image", "pics", {"op": "split", "separator": "|"}, {"op": "prefix", "value": "https://cdn/"}),
        ]
    }
    data, errors = run(
        spec,
        records(
            {"sku": " ab1 ", "title": "big   red  box", "cost": "1.000,50", "brand": "ACME", "pics": "a.jpg| |b.jpg"}
        ),
    )
    assert errors == []
    assert data == [
        {
            "sku": "USD-AB1",
            "title": "Big Red Box",
            "cost": Decimal("1200.6"),
            "brand": "acme inc",
            "options": {},
            "attributes": {},
            "images": ["https://cdn/a.jpg", "https://cdn/b.jpg"],
        }
    ]


def test_date_transform_and_date_targets():
    spec = {
        "kind": "shipment",
        "fields": [
            column("fr_number", "PO"),
            column("tracking_number", "Tracking", required=True),
            column("shipped_at", "Shipped", {"op": "date", "format": ["%d-%m-%Y", "%m/%d/%Y %H:%M"]}),
            column("quantity", "Qty"),
        ],
    }
    rows = records(
        {"PO": "54007-1", "Tracking": "1Z999", "Shipped": " 30-06-2008", "Qty": "2"},
        {"PO": "54007-2", "Tracking": "1Z998", "Shipped": "06/30/2008 14:05", "Qty": "1"},
        {"PO": "54007-3", "Tracking": "", "Shipped": "2008-06-30", "Qty": "x"},
    )
    data, errors = run(spec, rows)
    assert [row["shipped_at"].isoformat() for row in data] == ["2008-06-30", "2008-06-30T14:05:00"]
    assert {(error.row, error.field) for error in errors} == {
        (3, "tracking_number"),
        (3, "shipped_at"),
        (3, "quantity"),
    }
    assert any("not a date in the format" in error.message for error in errors)


def test_decimal_comma_without_the_transform_says_how_to_fix_it():
    _, errors = run({"fields": [column("sku", "sku"), column("cost", "cost")]}, records({"sku": "A", "cost": "30,00"}))
    assert "add the decimal_comma transform" in errors[0].message


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("3.65275E+11", "scientific notation"),
        ("1234567", "has 7 digits"),
        ("0360-0029-1452", "digits only"),
    ],
)
def test_bad_barcodes_are_row_errors(value, message):
    _, errors = run({"fields": [column("sku", "sku"), column("upc", "upc")]}, records({"sku": "A", "upc": value}))
    assert message in errors[0].message


def test_quantity_accepts_spreadsheet_floats_but_not_fractions():
    spec = {"fields": [column("sku", "sku"), column("quantity", "q")]}
    data, errors = run(spec, records({"sku": "A", "q": "12.0"}, {"sku": "B", "q": "1.5"}))
    assert data == [{"sku": "A", "quantity": 12}]
    assert "not a whole number" in errors[0].message


@pytest.mark.parametrize(("text", "status"), [("Active", "active"), ("draft", "archived"), (" EOL ", "discontinued")])
def test_status_synonyms(text, status):
    data, _ = run({"fields": [column("sku", "sku"), column("status", "s")]}, records({"sku": "A", "s": text}))
    assert data[0]["status"] == status


def test_conditions_set_targets_and_exclusions_skip_rows():
    spec = {
        "fields": [column("sku", "sku", {"op": "trim"}), column("brand", "brand"), column("cost", "cost")],
        "conditions": [
            {"when": {"field": "brand", "op": "equals", "value": "acme"}, "set": {"status": "discontinued"}},
            {"when": {"field": "warehouse", "op": "in", "value": ["EU", "UK"]}, "set": {"attr:Region": "Europe"}},
        ],
        "exclusions": [
            {"field": "sku", "op": "startswith", "value": "tmp-"},
            {"field": "brand", "op": "regex", "value": "(?i)^bad"},
            {"field": "cost", "op": "empty"},
        ],
    }
    rows = records(
        {"sku": "A", "brand": "ACME ", "cost": "1", "warehouse": "UK"},
        {"sku": " TMP-9", "brand": "x", "cost": "not a number"},
        {"sku": "C", "brand": "Badger", "cost": "2"},
        {"sku": "D", "brand": "Other", "cost": ""},
        {"sku": "E", "brand": "Other", "cost": "oops"},
    )
    mapper = compile_template(spec)
    errors: list[RowError] = []
    data = [row.data for row in mapper.map(rows, errors.append)]
    assert data == [
        {
            "sku": "A",
            "brand": "ACME ",
            "cost": Decimal("1"),
            "status": "discontinued",
            "options": {},
            "attributes": {"Region": "Europe"},
            "images": [],
        }
    ]
    assert (mapper.counts.read, mapper.counts.mapped, mapper.counts.skipped, mapper.counts.errors) == (5, 1, 3, 1)
    assert [(error.row, error.sku, error.field) for error in errors] == [(5, "E", "cost")]


@pytest.mark.parametrize(
    ("op", "value", "cell", "expected"),
    [
        ("contains", "blue", "Navy Blue Shirt", True),
        ("not_empty", None, " ", False),
        ("in", "a, b", "B", True),
        ("equals", "x", "", False),
    ],
)
def test_exclusion_operators(op, value, cell, expected):
    spec = {
        "fields": [column("sku", "sku"), column("category", "c")],
        "exclusions": [{"field": "category", "op": op, "value": value}],
    }
    mapper = compile_template(spec)
    list(mapper.map(records({"sku": "A", "c": cell})))
    assert mapper.counts.skipped == int(expected)


def test_malformed_record_becomes_a_row_error_for_that_row_only():
    reader = read_records("csv", b"sku,qty\nA,1,extra\nB,2\n", {})
    data, errors = run({"fields": [column("sku", "sku"), column("quantity", "qty")]}, reader)
    assert data == [{"sku": "B", "quantity": 2}]
    assert errors[0].row == 1 and "3 cells" in errors[0].message


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"fields": []}, "maps no fields"),
        ({"fields": [column("colour", "c")]}, "unknown target 'colour'"),
        ({"fields": [column("sku", "s", {"op": "reverse"})]}, "unknown transform 'reverse'"),
        ({"fields": [column("sku", "s", {"op": "regex", "pattern": "("})]}, "invalid pattern"),
        ({"fields": [column("sku", "s", {"op": "split"})]}, "only image targets"),
        ({"fields": [{"target": "sku", "source_type": "sql", "source": "x"}]}, "unknown source_type"),
        ({"fields": [{"target": "sku", "source_type": "lookup", "source": "x"}]}, "needs a lookup table"),
        (
            {"fields": [column("sku", "s")], "conditions": [{"when": {"field": "sku", "op": "like"}, "set": {}}]},
            "unknown op",
        ),
        ({"kind": "orders", "fields": [column("sku", "s")]}, "unknown template kind"),
    ],
)
def test_invalid_templates_are_refused_with_the_reason(spec, message):
    with pytest.raises(TemplateError, match=message):
        compile_template(spec)


ACK_ROW = {"fr_number": "54007-1", "sku": "A", "accepted": "2", "backordered": "1", "rejected": "0", "reason": ""}
ACK_DATA = {"fr_number": "54007-1", "sku": "A", "accepted": 2, "backordered": 1, "rejected": 0, "reason": None}
INVOICE_ROW = {"invoice_number": "INV-9", "fr_number": "54007-1", "invoice_date": "20240531", "total": "25.50"}
INVOICE_DATA = {
    "invoice_number": "INV-9",
    "fr_number": "54007-1",
    "invoice_date": date(2024, 5, 31),
    "total": Decimal("25.50"),
}


@pytest.mark.parametrize(
    ("kind", "row", "expected"), [("ack", ACK_ROW, ACK_DATA), ("invoice", INVOICE_ROW, INVOICE_DATA)]
)
def test_other_kinds_use_their_own_target_tables(kind, row, expected):
    spec = {"kind": kind, "fields": [column(name, name) for name in row]}
    data, errors = run(spec, records(row))
    assert errors == []
    assert data == [expected]


def test_dry_run_keeps_the_first_rows_and_every_error_of_the_sample():
    rows = records(*({"sku": f"S{i}", "qty": "x" if i % 10 == 0 else str(i)} for i in range(1, 101)))
    result = dry_run({"fields": [column("sku", "sku"), column("quantity", "qty")]}, rows, limit=5)
    assert [row.data["sku"] for row in result.first_rows] == ["S1", "S2", "S3", "S4", "S5"]
    assert [error.sku for error in result.errors] == [f"S{i}" for i in range(10, 101, 10)]
    assert (result.counts.read, result.counts.mapped, result.counts.errors) == (100, 90, 10)


def test_dry_run_reports_a_feed_that_breaks_part_way():
    reader = read_records("csv", b"sku\nA\n" + b"B\n" * 40000 + b"caf\xe9\n", {})
    result = dry_run({"fields": [column("sku", "sku")]}, reader)
    assert result.counts.mapped == 40001
    assert "line 40003" in result.format_error


# -- send_fr ---------------------------------------------------------------------------------------


def test_send_fr_renders_canonical_lines_to_output_columns():
    spec = {
        "kind": "send_fr",
        "fields": [
            column("PO Number", "fr_number", required=True),
            column("Item", "sku", {"op": "upper"}),
            column("Qty", "quantity"),
            {
                "target": "Ship Via",
                "source_type": "lookup",
                "source": "shipping_method",
                "lookup": {"table": {"ground": "UPS-GND"}, "on_no_match": "error"},
            },
            {"target": "Account", "source_type": "constant", "source": "FLX-01"},
        ],
        "conditions": [
            {"when": {"field": "ship_to_country", "op": "in", "value": ["CA", "MX"]}, "set": {"Ship Via": "INTL"}}
        ],
    }
    lines = [
        {"fr_number": "54007-1", "sku": "ab-1", "quantity": 2, "shipping_method": "ground", "ship_to_country": "US"},
        {"fr_number": "54007-2", "sku": "cd-2", "quantity": 1, "shipping_method": "ground", "ship_to_country": "CA"},
        {"fr_number": "", "sku": "ef-3", "quantity": 1, "shipping_method": "ground"},
        {"fr_number": "54007-4", "sku": "gh-4", "quantity": 1, "shipping_method": "teleport"},
    ]
    assert render_headers(spec) == ["PO Number", "Item", "Qty", "Ship Via", "Account"]
    errors: list[RowError] = []
    rows = list(render(spec, lines, errors.append))
    assert rows == [
        {"PO Number": "54007-1", "Item": "AB-1", "Qty": 2, "Ship Via": "UPS-GND", "Account": "FLX-01"},
        {"PO Number": "54007-2", "Item": "CD-2", "Qty": 1, "Ship Via": "INTL", "Account": "FLX-01"},
    ]
    assert [(error.row, error.field) for error in errors] == [(3, "PO Number"), (4, "Ship Via")]
    with pytest.raises(TemplateError, match="FR line 3"):
        list(render(spec, lines))


def test_send_fr_refuses_unknown_fr_fields():
    with pytest.raises(TemplateError, match="unknown FR field"):
        list(render({"fields": [column("PO", "purchase_order")]}, []))


# -- transforms, property-based ------------------------------------------------------------------


@given(st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False))
def test_decimal_comma_reads_back_european_numbers(value):
    integer, _, fraction = f"{value:.2f}".partition(".")
    grouped = f"{int(integer):,}".replace(",", ".")
    assert Decimal(decimal_comma(f"{grouped},{fraction}")) == value
    assert Decimal(decimal_comma(f"{integer},{fraction}")) == value


@given(st.integers(min_value=0, max_value=10**12))
def test_integer_and_quantity_accept_spreadsheet_floats(number):
    pipeline, _ = compile_pipeline([{"op": "integer"}])
    assert pipeline(f"{number}.0") == str(number)
    assert pipeline(f"{number:,}") == str(number)


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30))
def test_text_transforms_never_crash_and_trim_is_idempotent(text):
    pipeline, _ = compile_pipeline([{"op": "trim"}, {"op": "upper"}, {"op": "prefix", "value": "X-"}])
    once = pipeline(text)
    assert once == ("X-" + text.strip().upper() if text.strip() else text.strip())


@given(st.lists(st.text(alphabet="abc ", max_size=5), max_size=6))
def test_split_drops_empty_items_and_trims(parts):
    pipeline, is_list = compile_pipeline([{"op": "split", "separator": ","}])
    assert is_list
    assert pipeline(",".join(parts)) == [part.strip() for part in parts if part.strip()]
