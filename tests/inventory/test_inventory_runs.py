"""Get Inventory runs end to end in-process: real feeds through the built-in templates over the upload transport."""

import shutil

import pytest

from inventory.models import InventoryParent, InventoryVariant
from sources.models import FieldRule, IntegrationRun, MappingTemplate, RunRowError
from sources.services.runs import RunContext, integration_trigger, run_execute, run_release_held
from tests.conftest import REALDATA

from .conftest import csv_feed, spec_for
from .helpers import template_from_builtin, upload_integration

Status = IntegrationRun.Status
FEEDS = REALDATA / "feeds"
pytestmark = pytest.mark.django_db


def run_now(integration, force=False):
    return run_execute(run_id=integration_trigger(integration_id=integration.pk, force=force, enqueue=False).pk)


def test_shopify_product_csv_creates_parents_variants_options_and_images(tmp_path):
    shutil.copy(FEEDS / "shopify_product_template.csv", tmp_path / "products.csv")
    integration = upload_integration(tmp_path, template=template_from_builtin("shopify_products"))
    run = run_now(integration)
    assert run.status == Status.SUCCEEDED, run.message
    assert (run.read_count, run.created_count, run.skipped_count) == (17, 16, 1)
    shirt = InventoryParent.objects.get(source=integration.source, parent_sku="example-shirt")
    assert shirt.title == "Example T-Shirt" and shirt.brand == "Acme"
    variant = InventoryVariant.objects.get(source=integration.source, sku="SRT_COT_122")
    assert variant.parent == shirt and variant.title == "Example T-Shirt"
    assert variant.options == {"Color": "Green", "Size": "M"}
    assert variant.images and variant.master_sku == f"{integration.source.sku_prefix}SRT_COT_122"
    assert run.input_name == "products.csv" and len(run.input_hash) == 64


def test_the_same_file_is_not_applied_twice_unless_forced(tmp_path):
    shutil.copy(FEEDS / "shopify_product_template.csv", tmp_path / "products.csv")
    integration = upload_integration(tmp_path, template=template_from_builtin("shopify_products"))
    first = run_now(integration)
    again = run_now(integration)
    assert again.status == Status.SUCCEEDED
    assert again.message == f"Same file as run {first.pk}; nothing to apply."
    assert again.created_count == again.updated_count == again.read_count == 0
    forced = run_now(integration, force=True)
    assert (forced.read_count, forced.unchanged_count, forced.updated_count) == (17, 16, 0)


def test_bots_pricat_reports_its_repeated_article_numbers_as_row_errors(tmp_path):
    shutil.copy(FEEDS / "bots_pricat_articledata01.csv", tmp_path / "pricat.csv")
    integration = upload_integration(tmp_path, template=template_from_builtin("bots_pricat"))
    run = run_now(integration)
    assert run.status == Status.PARTIAL
    assert (run.read_count, run.created_count, run.error_count) == (3, 1, 2)
    errors = list(RunRowError.objects.filter(run=run).values_list("row_number", "sku"))
    assert errors == [(2, "123456"), (3, "123456")]
    variant = InventoryVariant.objects.get(source=integration.source, sku="123456")
    assert variant.ean == "8712345678906" and str(variant.msrp) == "40.0000"


def test_a_secondary_run_updates_quantities_and_notes_unknown_skus(tmp_path):
    primary_folder, secondary_folder = tmp_path / "p", tmp_path / "s"
    primary_folder.mkdir()
    secondary_folder.mkdir()
    shutil.copy(FEEDS / "shopify_product_template.csv", primary_folder / "products.csv")
    primary = upload_integration(primary_folder, template=template_from_builtin("shopify_products"))
    run_now(primary)
    (secondary_folder / "stock.csv").write_bytes(
        csv_feed([("SRT_COT_122", 7), ("NOPE", 1)], columns=("sku", "quantity"))
    )
    from sources.models import MappingTemplate

    template = MappingTemplate.objects.create(name="stock", kind="inventory")
    for position, rule in enumerate(spec_for("sku", "quantity")["fields"]):
        template.field_rules.create(position=position, **{k: v for k, v in rule.items() if k != "default"})
    secondary = upload_integration(
        secondary_folder,
        operation="get_inventory_secondary",
        template=template,
        source=primary.source,
        archive_folder="done",
    )
    run = run_now(secondary)
    assert (run.status, run.updated_count, run.skipped_count, run.error_count) == (Status.SUCCEEDED, 1, 1, 0)
    assert RunRowError.objects.get(run=run).sku == "NOPE"
    assert InventoryVariant.objects.get(source=primary.source, sku="SRT_COT_122").quantity == 7
    assert (secondary_folder / "done" / "stock.csv").exists() and not (secondary_folder / "stock.csv").exists()


def test_feed_safety_holds_a_truncated_feed_until_an_operator_releases_it(tmp_path):
    template = template_from_builtin("generic_csv_inventory")
    integration = upload_integration(tmp_path, template=template, file_pattern="inv_*.csv")
    rows = [(f"S-{n}", f"Item {n}", n) for n in range(10)]
    (tmp_path / "inv_1.csv").write_bytes(csv_feed(rows, ("sku", "title", "quantity")))
    assert run_now(integration).created_count == 10
    (tmp_path / "inv_2.csv").write_bytes(csv_feed(rows[:3], ("sku", "title", "quantity")))
    held = run_now(integration)
    assert held.status == Status.HELD
    assert "7 of 10 active variants" in held.message
    assert InventoryVariant.objects.filter(source=integration.source, status="active").count() == 10
    released = run_execute(run_id=run_release_held(run_id=held.pk).pk)
    assert (released.status, released.archived_count) == (Status.SUCCEEDED, 7)
    assert InventoryVariant.objects.filter(source=integration.source, status="archived", quantity=0).count() == 7


def test_an_x12_846_feed_applies_through_a_template(tmp_path):
    from sources.models import MappingTemplate

    shutil.copy(REALDATA / "x12" / "846_ingram_coedition_1.edi", tmp_path / "stock.edi")
    template = MappingTemplate.objects.create(name="846", kind="inventory")
    for position, (target, source) in enumerate(
        [("sku", "sku"), ("upc", "UP"), ("title", "description"), ("quantity", "quantity")]
    ):
        template.field_rules.create(position=position, target=target, source_type="x12_element", source=source)
    integration = upload_integration(tmp_path, template=template, file_format="x12")
    run = run_now(integration)
    assert (run.status, run.read_count, run.created_count) == (Status.SUCCEEDED, 7, 7), run.message
    variant = InventoryVariant.objects.get(source=integration.source, sku="ACR DAMP8392D")
    assert (variant.upc, variant.quantity) == ("054961839292", 8)


def test_a_run_reads_the_integrations_own_folder_under_the_connections_folder(tmp_path):
    (tmp_path / "inventory").mkdir()
    shutil.copy(FEEDS / "shopify_product_template.csv", tmp_path / "inventory" / "products.csv")
    (tmp_path / "elsewhere.csv").write_text("not the feed\n")
    integration = upload_integration(tmp_path, template=template_from_builtin("shopify_products"), path="inventory")

    run = run_now(integration)

    assert run.status == Status.SUCCEEDED, run.message
    assert run.input_name == "products.csv" and run.created_count == 16


def test_a_csv_run_reports_an_estimated_row_total_while_it_streams(tmp_path, monkeypatch):
    rows = 65_000  # more than three progress reports' worth
    lines = ["sku,quantity,title"] + [f"S{n},{n % 7},Title {n}" for n in range(rows)]
    (tmp_path / "feed.csv").write_text("\n".join(lines) + "\n")
    template = MappingTemplate.objects.create(name="plain", kind="inventory")
    for position, target in enumerate(("sku", "quantity", "title")):
        FieldRule.objects.create(template=template, position=position, target=target, source=target)
    integration = upload_integration(tmp_path, template=template)
    reports = []
    progress = RunContext.progress
    monkeypatch.setattr(
        RunContext,
        "progress",
        lambda ctx, done, total=None: (reports.append((done, total)), progress(ctx, done, total)),
    )

    run = run_now(integration)

    assert run.status == Status.SUCCEEDED, run.message
    assert len(reports) >= 3 and all(total is not None and total > done for done, total in reports[:-1])
    assert abs(reports[1][1] - rows) / rows < 0.25  # the share of bytes read tracks the share of rows
    assert reports[-1] == (rows, rows) and (run.progress_done, run.progress_total) == (rows, rows)


def test_the_estimated_total_never_reaches_done_before_the_file_is_read():
    from io import BytesIO

    from inventory.runners import _with_estimated_total

    stream, seen = BytesIO(b"x" * 1000), []
    report = _with_estimated_total(lambda done, total: seen.append((done, total)), stream, 1000)
    stream.seek(250)
    report(100)
    stream.seek(999)
    report(399)
    stream.seek(1000)
    report(400)
    report(400, 7)  # a runner's own total wins
    assert seen == [(100, 400), (399, 400), (400, 400), (400, 7)]
