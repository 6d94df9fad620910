"""XLSX (calamine reader, openpyxl writer) and JSON / JSON Lines readers."""

import io
import json
from datetime import date
from decimal import Decimal

import pytest

from sources.formats import FormatError, read_records
from sources.formats import json as json_format
from sources.formats.xlsx import write_xlsx


def test_xlsx_round_trip_keeps_text_identifiers_and_numbers():
    rows = [
        {"sku": "A-1", "upc": "036000291452", "cost": Decimal("12.5"), "qty": 3, "since": date(2024, 1, 2)},
        ["B-2", "00012345678905", 7.25, 0, None],
    ]
    data = write_xlsx(rows, ["sku", "upc", "cost", "qty", "since"], sheet_title="Items")
    reader = read_records("xlsx", data, {"sheet": "Items"})
    records = list(reader)
    assert reader.headers == ["sku", "upc", "cost", "qty", "since"]
    assert records[0].values == {
        "sku": "A-1",
        "upc": "036000291452",
        "cost": "12.5",
        "qty": "3",
        "since": "2024-01-02",
    }
    assert records[1].values["upc"] == "00012345678905"
    assert records[1].values["since"] == ""
    assert [(record.row, record.line) for record in records] == [(1, 2), (2, 3)]


def test_xlsx_sheet_by_index_header_row_and_column_index_records():
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.title = "Cover"
    sheet = workbook.create_sheet("Stock")
    sheet["B3"], sheet["C3"] = "sku", "qty"
    sheet["B4"], sheet["C4"] = "A", 5
    buffer = io.BytesIO()
    workbook.save(buffer)
    records = list(read_records("xlsx", buffer.getvalue(), {"sheet": 1}))
    assert records[0].values == {"column_1": "", "sku": "A", "qty": "5"}
    assert records[0].line == 4
    lists = list(read_records("xlsx", buffer.getvalue(), {"sheet": "Stock", "header": False}))
    assert lists[0].values == ["", "sku", "qty"]
    assert lists[1].values == ["", "A", "5"]


def test_xlsx_unknown_sheet_and_garbage_are_format_errors():
    data = write_xlsx([], ["sku"])
    with pytest.raises(FormatError, match="no sheet 'Nope'"):
        read_records("xlsx", data, {"sheet": "Nope"})
    with pytest.raises(FormatError, match="XLSX"):
        read_records("xlsx", b"sku,qty\n", {})
    with pytest.raises(FormatError, match="empty"):
        read_records("xlsx", b"", {})


def test_json_array_at_a_dotted_path_skips_siblings():
    document = {
        "meta": {"note": "a ] and } inside a string", "pages": [1, 2]},
        "data": {"count": 2, "items": [{"sku": "A", "cost": 19.99}, {"sku": "B", "tags": ["x"]}]},
    }
    records = list(read_records("json", json.dumps(document).encode(), {"path": "data.items"}))
    assert [record.values["sku"] for record in records] == ["A", "B"]
    assert records[0].values["cost"] == Decimal("19.99")
    assert [record.row for record in records] == [1, 2]


def test_json_streams_in_small_chunks(monkeypatch):
    monkeypatch.setattr(json_format, "CHUNK_CHARS", 5)
    items = [{"sku": f"S{i}", "qty": i * 1000} for i in range(200)]
    data = json.dumps({"items": items}).encode()
    records = list(read_records("json", io.BytesIO(data), {"path": "items"}))
    assert [record.values for record in records] == items


def test_json_top_level_array_and_empty_array():
    assert [record.values for record in read_records("json", b" [1, 22, 333] ", {})] == [1, 22, 333]
    assert list(read_records("json", b"[]", {})) == []


@pytest.mark.parametrize(
    ("data", "options", "message"),
    [
        (b'{"items": []}', {}, "give the dotted path"),
        (b'{"data": {"rows": []}}', {"path": "data.items"}, "no key 'items' in the object at data"),
        (b'{"items": {"a": 1}}', {"path": "items"}, "is an object"),
        (b"[1, 2", {}, "after element 2"),
        (b'[{"a": 1} {"b": 2}]', {}, "after element 1"),
        (b'[{"a": tru}]', {}, "invalid JSON"),
        (b"", {}, "empty"),
    ],
)
def test_json_errors_say_what_and_where(data, options, message):
    with pytest.raises(FormatError, match=message):
        list(read_records("json", data, options))


def test_json_record_size_cap():
    data = json.dumps([{"blob": "x" * 5000}]).encode()
    with pytest.raises(FormatError, match="larger than"):
        list(read_records("json", data, {"max_record_bytes": 1000}))


def test_json_lines_skip_blank_lines_and_report_bad_ones():
    records = list(read_records("jsonl", b'{"sku": "A"}\n\n{"sku": "B"}\n', {}))
    assert [(record.row, record.line, record.values["sku"]) for record in records] == [(1, 1, "A"), (2, 3, "B")]
    with pytest.raises(FormatError, match="line 2"):
        list(read_records("jsonl", b'{"sku": "A"}\n{"sku": \n', {}))


@pytest.mark.parametrize("headers", [None, ["a", "b", "c"], ["a", "b"]], ids=["no header", "header", "short header"])
@pytest.mark.parametrize("pad", [0, 2])
def test_xlsx_generated_row_function_converts_as_cell_text_does(headers, pad):
    """The reader's generated row conversion gives what ``cell_text`` per cell gives, whatever the cells hold."""
    from datetime import datetime, time, timedelta

    from sources.formats.xlsx import _row_function, cell_text

    samples = ["", "text", " ", 0.0, 1.0, -2.0, 2.5, 1e16, 1e17, -0.0, float("nan"), float("inf"), 7, True, False]
    samples += [None, date(2024, 1, 2), datetime(2024, 1, 2, 3, 4, 5), time(6, 7), timedelta(days=1, seconds=3)]
    if headers is not None:
        headers = [f"pad{index}" for index in range(pad)] + headers
    convert = _row_function(pad, 3, headers)
    rows = [[first, second, third] for first in samples for second in ("", 1.5) for third in ("", "x", 3.0)]
    rows += [["a"], ["", "", "", "more"]]  # another width than the sheet's: the general way
    for raw in rows:
        cells = [""] * pad + [cell_text(cell) for cell in raw]
        if not any(cells):
            expected = None
        elif headers is None:
            expected = cells
        else:
            values = dict(zip(headers, cells, strict=False))
            expected = (values,) if any(cells[len(headers) :]) else values
        assert convert(raw) == expected, raw


def test_xlsx_cells_beyond_the_header_are_reported_on_their_row():
    data = write_xlsx([["A", 1, None], ["B", 2, "stray"], [None, None, None], ["C", 3, None]], ["sku", "qty"])
    records = list(read_records("xlsx", data, {}))
    assert [(record.row, record.line, record.values, record.error) for record in records] == [
        (1, 2, {"sku": "A", "qty": "1"}, None),
        (2, 3, {"sku": "B", "qty": "2"}, "sheet row 3: cells beyond the header"),
        (3, 5, {"sku": "C", "qty": "3"}, None),
    ]
