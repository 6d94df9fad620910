"""CSV reader and writer: real feeds from ../shared/realdata/feeds and generated edge cases."""

import io
from pathlib import Path

import pytest

from sources.formats import FormatError, read_records
from sources.formats.csv import write_csv

FEEDS = Path(__file__).resolve().parents[3].parent / "shared" / "realdata" / "feeds"
needs_feeds = pytest.mark.skipif(not FEEDS.is_dir(), reason="../shared/realdata/feeds is absent")


def read(data: bytes, **options):
    reader = read_records("csv", data, options)
    return reader, list(reader)


@needs_feeds
def test_bots_pricat_is_semicolon_separated_with_padded_values():
    reader, records = read((FEEDS / "bots_pricat_articledata01.csv").read_bytes())
    assert reader.delimiter == ";"
    assert reader.encoding == "utf-8"
    assert reader.headers[-1] == "DateUntill"
    assert [record.row for record in records] == [1, 2, 3]
    assert [record.line for record in records] == [2, 3, 4]
    first = records[0].values
    assert first["Color"] == "   white"
    assert first["DateFrom"] == "       30-06-2008"
    assert records[1].values["Color"] == ""
    assert records[2].values["PromoPrice"] == "30,00"


@needs_feeds
def test_shopify_template_keeps_quoted_html_with_commas_and_crlf():
    reader, records = read((FEEDS / "shopify_product_template.csv").read_bytes())
    assert reader.delimiter == ","
    assert len(reader.headers) == 48
    assert len(records) == 17
    assert "," in records[0].values["Body (HTML)"]
    assert records[0].values["Tags"] == "Made to Order, Shirt Tag"
    assert not any(value.endswith("\r") for value in records[0].values.values())


@needs_feeds
def test_woocommerce_sample_streams_from_an_open_file():
    with (FEEDS / "woocommerce_sample_products.csv").open("rb") as stream:
        records = list(read_records("csv", stream))
    assert len(records) == 24
    variation = next(record.values for record in records if record.values["SKU"] == "cc-hoodie-red")
    assert variation["Parent"] == "cc-hoodie"


def test_utf8_bom_is_removed_from_the_first_header():
    reader, records = read("\ufeffsku,qty\r\nA,1\r\n".encode())
    assert reader.encoding == "utf-8-sig"
    assert reader.headers == ["sku", "qty"]
    assert records[0].values == {"sku": "A", "qty": "1"}


def test_utf16_with_bom_is_decoded():
    reader, records = read("sku;title\r\nA;Crème brûlée\r\n".encode("utf-16"))
    assert reader.encoding == "utf-16"
    assert reader.delimiter == ";"
    assert records[0].values["title"] == "Crème brûlée"


def test_cp1252_falls_back_with_a_note():
    reader, records = read("sku,title\nA,Caf\xe9 \u20ac5\n".encode("cp1252"))
    assert reader.encoding == "cp1252"
    assert "not UTF-8" in reader.notes[0]
    assert records[0].values["title"] == "Café €5"


def test_undecodable_byte_late_in_the_file_names_its_line():
    data = b"sku,title\n" + b"A,plain\n" * 10000 + b"B,caf\xe9\n"
    reader = read_records("csv", data, {})
    assert reader.encoding == "utf-8"
    with pytest.raises(FormatError, match="line 10002"):
        list(reader)


def test_explicit_encoding_wins():
    reader, records = read("sku,qty\nÅ,1\n".encode("latin-1"), encoding="latin-1")
    assert reader.notes == []
    assert records[0].values["sku"] == "Å"


def test_crlf_quoted_newlines_and_doubled_quotes():
    data = b'sku,title,qty\r\nA,"Line one\r\nline two",1\r\nB,"9"" x 12""",2\r\n'
    _, records = read(data)
    assert records[0].values["title"] == "Line one\r\nline two"
    assert records[1].values["title"] == '9" x 12"'
    assert [(record.row, record.line) for record in records] == [(1, 2), (2, 4)]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_is_sniffed(delimiter):
    text = delimiter.join(["sku", "title", "cost"]) + "\n" + delimiter.join(["A", "B, C", "1,5"]) + "\n"
    if delimiter == ",":
        text = 'sku,title,cost\nA,"B, C","1,5"\n'
    reader, records = read(text.encode())
    assert reader.delimiter == delimiter
    assert records[0].values == {"sku": "A", "title": "B, C", "cost": "1,5"}


def test_explicit_delimiter_and_unsupported_one():
    _, records = read(b"a;b\n1;2\n", delimiter=";")
    assert records[0].values == {"a": "1", "b": "2"}
    with pytest.raises(FormatError, match="unsupported delimiter"):
        read(b"a:b\n", delimiter=":")


@pytest.mark.parametrize("data", [b"", b"   \r\n\r\n", b"\xef\xbb\xbf"])
def test_empty_file_is_a_clear_error(data):
    with pytest.raises(FormatError, match="empty"):
        read_records("csv", data, {})


def test_header_only_file_has_no_records():
    _, records = read(b"sku,qty\r\n")
    assert records == []


def test_xlsx_given_as_csv_is_refused():
    with pytest.raises(FormatError, match="XLSX"):
        read_records("csv", b"PK\x03\x04rest", {})


def test_nul_bytes_mean_wrong_encoding():
    with pytest.raises(FormatError, match="NUL"):
        read_records("csv", "sku,qty\nA,1\n".encode("utf-16-le"), {})


def test_without_header_records_are_lists_and_skip_rows_drops_lines():
    _, records = read(b"Supplier export 2024\nsku,qty\nA,1\nB,2\n", header=False, skip_rows=2)
    assert [record.values for record in records] == [["A", "1"], ["B", "2"]]
    assert records[0].line == 3


def test_blank_and_all_empty_rows_are_skipped_but_counted_as_lines():
    _, records = read(b"sku,qty\n\nA,1\n,,\nB,2\n")
    assert [(record.row, record.line, record.values["sku"]) for record in records] == [(1, 3, "A"), (2, 5, "B")]


def test_extra_cells_mark_the_record_and_short_rows_are_fine():
    _, records = read(b"sku,qty\nA,1,surprise\nB\n")
    assert "3 cells but the header has 2" in records[0].error
    assert records[1].values == {"sku": "B"}
    assert records[1].error is None


def test_duplicate_header_is_refused():
    with pytest.raises(FormatError, match="twice"):
        read_records("csv", b"sku,sku\n1,2\n", {})


def test_non_seekable_stream_is_read_whole():
    class OneWay(io.RawIOBase):
        def __init__(self, data):
            self._data = io.BytesIO(data)

        def readable(self):
            return True

        def seekable(self):
            return False

        def readinto(self, buffer):
            chunk = self._data.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    body = b"sku,qty\n" + b"".join(b"S%d,%d\n" % (i, i) for i in range(20000))
    records = list(read_records("csv", io.BufferedReader(OneWay(body)), {}))
    assert len(records) == 20000
    assert records[-1].values == {"sku": "S19999", "qty": "19999"}


def test_unknown_format_lists_the_known_ones():
    with pytest.raises(FormatError, match="csv"):
        read_records("parquet", b"x", {})


def test_write_csv_round_trips_through_the_reader():
    from datetime import date
    from decimal import Decimal

    rows = [
        {"fr_number": "54007-1", "sku": "A", "qty": 2, "cost": Decimal("12.50"), "ship_by": date(2024, 5, 31)},
        ["54007-2", 'B "big", blue', 1, None, None],
    ]
    headers = ["fr_number", "sku", "qty", "cost", "ship_by"]
    data = write_csv(rows, headers, {"delimiter": ";", "decimal_comma": True, "bom": True})
    assert data.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in data
    _, records = read(data)
    assert records[0].values == {
        "fr_number": "54007-1",
        "sku": "A",
        "qty": "2",
        "cost": "12,50",
        "ship_by": "2024-05-31",
    }
    assert records[1].values["sku"] == 'B "big", blue'
