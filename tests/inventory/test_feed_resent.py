"""Re-sent feeds: the rows a feed repeats from the last one, byte for byte or not, and fingerprints it cannot use."""

import pytest

from inventory.models import InventoryVariant
from tests.factories import SourceFactory

from .conftest import csv_feed

ROWS = [(f"R-{n}", f"Row {n}", "", "1.50", n, "active") for n in range(1, 41)]


def variants(source):
    return {v.sku: v for v in InventoryVariant.objects.filter(source=source)}


def test_a_row_repeated_byte_for_byte_is_reported_once_and_applied_once(apply_feed):
    source = SourceFactory()
    apply_feed(source, csv_feed(ROWS))
    result = apply_feed(source, csv_feed([*ROWS, ROWS[4]]))
    assert [(error.row, error.sku) for error in result.row_errors] == [(41, "R-5")]
    assert "repeats" in result.row_errors[0].message
    counts = result.counts
    assert (counts["read"], counts["error"], counts["updated"], counts["created"], counts["archived"]) == (
        41,
        1,
        0,
        0,
        0,
    )
    assert counts["unchanged"] == 40
    assert variants(source)["R-5"].quantity == 5


def test_a_changed_row_before_an_unchanged_one_of_the_same_sku_applies_and_the_later_is_reported(apply_feed):
    source = SourceFactory()
    apply_feed(source, csv_feed(ROWS))
    result = apply_feed(source, csv_feed([("R-9", "Row 9 first", "", "1.50", 99, "active"), *ROWS]))
    assert [(error.row, error.sku) for error in result.row_errors] == [(10, "R-9")]
    assert "repeats" in result.row_errors[0].message
    assert (result.counts["updated"], result.counts["unchanged"], result.counts["error"]) == (1, 39, 1)
    stored = variants(source)["R-9"]
    assert (stored.title, stored.quantity) == ("Row 9 first", 99)


def test_a_resent_feed_with_new_changed_and_missing_rows_applies_each_once(apply_feed):
    source = SourceFactory()
    apply_feed(source, csv_feed(ROWS))
    rows = [*ROWS[:10], ("R-11", "Row 11", "", "2", 11, "active"), *ROWS[11:39], ("R-99", "New", "", "3", 1, "active")]
    result = apply_feed(source, csv_feed(rows))
    counts = result.counts
    assert (counts["created"], counts["updated"], counts["archived"], counts["unchanged"]) == (1, 1, 1, 38)
    stored = variants(source)
    assert stored["R-11"].cost == 2 and stored["R-40"].status == "archived" and stored["R-99"].quantity == 1
    again = apply_feed(source, csv_feed(rows))
    assert (again.counts["unchanged"], again.counts["updated"], again.counts["archived"]) == (40, 0, 0)


def test_fingerprints_of_an_older_kind_map_every_row_once_and_are_replaced(apply_feed, engine):
    if engine == "portable":
        pytest.skip("the PostgreSQL diff; the portable path compares each row's fingerprint as it maps it")
    source = SourceFactory()
    apply_feed(source, csv_feed(ROWS))
    InventoryVariant.objects.filter(source=source).update(content_hash="0123456789abcdef0123456789abcdef")
    changed = [*ROWS[:-1], ("R-40", "Row 40", "", "1.50", 0, "active")]
    result = apply_feed(source, csv_feed(changed))
    assert (result.counts["updated"], result.counts["unchanged"]) == (1, 39)
    assert variants(source)["R-40"].quantity == 0
    again = apply_feed(source, csv_feed(changed))
    assert (again.counts["updated"], again.counts["unchanged"], again.counts["read"]) == (0, 40, 40)
    assert not any(len(v.content_hash) == 32 for v in variants(source).values())


def test_an_unreadable_fingerprint_maps_every_row(apply_feed, engine):
    if engine == "portable":
        pytest.skip("the PostgreSQL diff; the portable path compares each row's fingerprint as it maps it")
    source = SourceFactory()
    apply_feed(source, csv_feed(ROWS))
    InventoryVariant.objects.filter(source=source, sku="R-3").update(content_hash="not-hex-at-all!!")
    changed = [*ROWS[:-1], ("R-40", "Row 40", "", "1.50", 0, "active")]
    result = apply_feed(source, csv_feed(changed))
    assert (result.counts["updated"], result.counts["unchanged"], result.counts["error"]) == (1, 39, 0)
    assert variants(source)["R-40"].quantity == 0


def test_a_variant_without_a_fingerprint_missing_from_the_feed_is_archived(apply_feed):
    source = SourceFactory()
    apply_feed(source, csv_feed(ROWS))
    InventoryVariant.objects.filter(source=source, sku__in=["R-7", "R-40"]).update(content_hash="")
    result = apply_feed(source, csv_feed(ROWS[:-1]))
    assert result.counts["archived"] == 1
    stored = variants(source)
    assert (stored["R-40"].status, stored["R-40"].quantity) == ("archived", 0)
    assert stored["R-7"].status == "active" and stored["R-7"].content_hash


def test_a_resent_feed_adding_rows_to_a_small_source_creates_only_those(apply_feed):
    source = SourceFactory()  # most rows fall into fingerprint parts where the source has no variant yet
    apply_feed(source, csv_feed(ROWS[:1]))
    result = apply_feed(source, csv_feed(ROWS[:2]))
    assert (result.counts["created"], result.counts["unchanged"], result.counts["archived"]) == (1, 1, 0)
    assert sorted(variants(source)) == ["R-1", "R-2"]


def test_a_row_whose_bytes_change_but_not_its_values_keeps_its_new_fingerprint(apply_feed, engine):
    source = SourceFactory()
    apply_feed(source, csv_feed(ROWS))
    rows = [*ROWS[:2], ("R-3", "Row 3", "", "1.5", 3, "active"), *ROWS[3:]]
    result = apply_feed(source, csv_feed(rows))
    assert (result.counts["updated"] if engine == "postgres" else 0, result.counts["created"]) == (0, 0)
    again = apply_feed(source, csv_feed(rows))
    assert (again.counts["updated"], again.counts["unchanged"]) == (0, 40)
    if engine == "postgres":
        assert "40 rows: 0 changed since the last apply, mapping only those." in again.log
