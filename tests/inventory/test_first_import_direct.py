"""A source's first import on PostgreSQL copies straight into the variant table (inventory.feeds.direct).

What it stores must be exactly what the stage merge stores; whatever the table or the plan refuses sends the
feed through the stage, which reports the rows; progress is written by a thread while the copy runs.
"""

import threading

import pytest
from django.forms.models import model_to_dict

from inventory.feeds import direct, postgres
from inventory.models import ExclusionRule, InventoryVariant
from tests.factories import ProductVariantFactory, SourceFactory

from .conftest import csv_feed

pytestmark = pytest.mark.parametrize("engine", ["postgres"], indirect=True)

COLUMNS = ("sku", "title", "brand", "upc", "cost", "quantity", "status", "master_sku", "option:Color", "image")
SPEC = {
    "kind": "inventory",
    "fields": [
        {"target": "sku", "source": "sku", "required": True},
        {"target": "title", "source": "title"},
        {"target": "brand", "source": "brand"},
        {"target": "upc", "source": "upc"},
        {"target": "cost", "source": "cost", "transforms": [{"op": "number"}]},
        {"target": "quantity", "source": "quantity", "transforms": [{"op": "integer"}]},
        {"target": "status", "source": "status"},
        {"target": "master_sku", "source": "master_sku"},
        {"target": "option:Color", "source": "option:Color"},
        {"target": "image", "source": "image"},
    ],
}
# Text with every character COPY escapes, empty values, a mapped master SKU, JSON with a backslash escape.
FEED = (
    b"sku,title,brand,upc,cost,quantity,status,master_sku,option:Color,image\n"
    b'S-1,"Tab\there","Back\\slash",012345678905,10.50,5,active,,Red,http://x/1.jpg\n'
    b'S-2,"Two\nlines",Acme,,,,,MASTER-2,"Blue ""navy""",\n'
    b"S-3,Plain,Excluded Brand,,0,0,discontinued,,,\n"
    b"S-4,,,,1,,,,,\n"
)
VOLATILE = {"id", "source", "created_at", "updated_at", "quantity_updated_at"}


def stored(source) -> dict[str, dict]:
    return {
        variant.sku: {k: v for k, v in model_to_dict(variant).items() if k not in VOLATILE}
        for variant in InventoryVariant.objects.filter(source=source)
    }


@pytest.fixture
def stage_used(monkeypatch):
    """Record whether a feed went through the stage."""
    used = []
    stage = postgres._Stage

    def spy(*args, **kwargs):
        used.append(True)
        return stage(*args, **kwargs)

    monkeypatch.setattr(postgres, "_Stage", spy)
    return used


def test_the_direct_copy_stores_exactly_what_the_stage_stores(apply_feed, monkeypatch, stage_used):
    ExclusionRule.objects.create(field="brand", value="excluded brand")
    product = ProductVariantFactory(master_sku="MASTER-2")
    direct_source, staged_source = SourceFactory(sku_prefix="D-"), SourceFactory(sku_prefix="D-")

    result = apply_feed(direct_source, FEED, spec=SPEC)
    assert stage_used == [] and result.counts["created"] == 4 and result.counts["error"] == 0
    monkeypatch.setattr(postgres, "apply_first_import", lambda *args: False)
    apply_feed(staged_source, FEED, spec=SPEC)
    assert stage_used == [True]

    copied, staged = stored(direct_source), stored(staged_source)
    assert copied == staged
    assert copied["S-1"]["title"] == "Tab\there" and copied["S-1"]["brand"] == "Back\\slash"
    assert copied["S-2"]["title"] == "Two\nlines" and copied["S-2"]["options"] == {"Color": 'Blue "navy"'}
    assert copied["S-2"]["master_sku"] == "MASTER-2" and copied["S-2"]["product_variant"] == product.pk
    assert copied["S-1"]["master_sku"] == "D-S-1" and copied["S-4"]["status"] == "active"
    assert copied["S-3"]["is_excluded"] and not copied["S-1"]["is_excluded"]
    assert copied["S-2"]["cost"] is None and copied["S-4"]["quantity"] == 0
    # Left to the table's defaults (migration 0005): the time of the apply.
    stamps = InventoryVariant.objects.filter(source=direct_source).values_list(
        "created_at", "updated_at", "quantity_updated_at"
    )
    assert all(created and updated and quantity for created, updated, quantity in stamps)


def test_a_repeated_sku_sends_the_first_import_through_the_stage_which_reports_it(apply_feed, stage_used):
    source = SourceFactory()
    feed = csv_feed(
        [("R-1", "One", "", "1", 1, "active"), ("R-2", "Two", "", "1", 1, ""), ("R-1", "Again", "", "", 2, "")]
    )

    result = apply_feed(source, feed)

    assert stage_used == [True]
    assert result.counts["created"] == 2 and result.counts["error"] == 1
    assert [(e.row, e.sku) for e in result.row_errors] == [(3, "R-1")]
    assert any("through the stage" in line for line in result.log)
    assert InventoryVariant.objects.get(source=source, sku="R-1").title == "One"


def test_a_value_the_table_refuses_sends_the_first_import_through_the_stage(apply_feed, stage_used):
    source = SourceFactory()
    feed = csv_feed([("OK-1", "Fine", "", "1", 1, "active"), ("LONG", "x" * 501, "", "1", 1, "active")])

    result = apply_feed(source, feed)

    assert stage_used == [True] and result.counts["created"] == 1
    assert [(e.row, e.sku) for e in result.row_errors] == [(2, "LONG")]
    assert set(InventoryVariant.objects.filter(source=source).values_list("sku", flat=True)) == {"OK-1"}


def test_the_sku_limit_sends_the_first_import_through_the_stage(apply_feed, sku_limit, stage_used):
    sku_limit(2)
    source = SourceFactory()

    result = apply_feed(source, csv_feed([(f"L-{n}", "", "", "1", 1, "") for n in range(3)]))

    assert stage_used == [True] and result.counts["created"] == 2 and result.counts["error"] == 1
    assert InventoryVariant.objects.filter(source=source).count() == 2


def test_a_source_with_variants_never_takes_the_direct_copy(apply_feed, stage_used):
    source = SourceFactory()
    apply_feed(source, csv_feed([("A", "", "", "1", 1, "")]))
    assert stage_used == []
    apply_feed(source, csv_feed([("A", "", "", "1", 1, ""), ("B", "", "", "1", 1, "")]))
    assert stage_used == [True]


def test_progress_is_written_by_a_thread_while_the_copy_runs_and_last_by_the_caller(apply_feed, monkeypatch):
    monkeypatch.setattr(direct, "PROGRESS_EVERY", 1000)
    monkeypatch.setattr(direct, "COPY_LINES", 1000)
    source = SourceFactory()
    reports = []

    def progress(done, total):
        reports.append((done, threading.current_thread() is threading.main_thread()))

    result = apply_feed(source, csv_feed([(f"P-{n}", "", "", "1", 1, "") for n in range(3500)]), progress=progress)

    assert result.counts["created"] == 3500
    assert reports == [(1000, False), (2000, False), (3000, False), (3500, True)]
