"""An operator builds a mapping template against a sample with errors and watches the preview follow each edit
without a reload, then saves it as a new version; and tries a built-in on a real spreadsheet-damaged feed."""

from pathlib import Path

import pytest
from django.contrib.auth.models import Permission, User
from playwright.sync_api import expect

from sources.models import MappingTemplate
from sources.services.directory import template_ensure_builtin
from tests.conftest import REALDATA

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SAMPLE = "SKU;Name;Qty;Cost\nA-1;Anvil;5;12,50\nA-2;Rope;x7;3,10\n;Nameless;3;1,00\nA-4;Tongs;2;7\n"


@pytest.fixture
def editor_page(operator_page, settings, tmp_path):
    settings.FLXHUB_MAPPING_SAMPLE_DIR = str(tmp_path / "samples")
    User.objects.get(username="operator").user_permissions.add(Permission.objects.get(codename="add_mappingtemplate"))
    return operator_page


def mark_page(page) -> None:
    """Put a marker on the window: it survives htmx swaps and disappears on a reload."""
    page.evaluate("window.__notReloaded = true")


def assert_not_reloaded(page) -> None:
    assert page.evaluate("window.__notReloaded === true")


def test_preview_and_row_errors_follow_each_edit_then_save_as_new_version(
    editor_page, live_server, artifacts, tmp_path
):
    page = editor_page
    sample = tmp_path / "acme-stock.csv"
    sample.write_text(SAMPLE)
    page.goto(f"{live_server.url}/mapping-templates/new/?kind=inventory")
    mark_page(page)
    page.fill("[name=name]", "Acme stock")
    page.fill("[name=rule-0-source]", "SKU")
    page.get_by_test_id("add-rule").click()
    page.select_option("[name=rule-1-target]", "quantity")
    page.fill("[name=rule-1-source]", "Qty")
    page.get_by_test_id("add-rule").click()
    page.select_option("[name=rule-2-target]", "cost")
    page.fill("[name=rule-2-source]", "Cost")

    page.get_by_test_id("sample-file").set_input_files(str(sample))
    errors = page.get_by_test_id("row-errors")
    expect(page.get_by_test_id("preview-counts")).to_contain_text("4 rows read · 1 mapped")
    expect(errors).to_contain_text("add the decimal_comma transform")
    expect(errors.locator("tbody tr")).to_have_count(5)  # cost in rows 1-3, quantity in row 2, sku in row 3
    expect(errors.locator("tbody tr", has_text="'x7' is not a number")).to_contain_text("A-2")
    expect(errors.locator("tbody tr", has_text="a value is required")).to_contain_text("sku")
    page.screenshot(path=str(artifacts / "mapping-editor-1-sample-errors.png"), full_page=True)

    page.get_by_test_id("rule-2-add-transform").click()
    page.select_option("[name=rule-2-t-0-op]", "decimal_comma")
    expect(errors).not_to_contain_text("decimal_comma")
    expect(errors.locator("tbody tr")).to_have_count(2)
    expect(page.get_by_test_id("preview-counts")).to_contain_text("4 rows read · 2 mapped")
    expect(page.get_by_test_id("preview")).to_contain_text("12.50")

    page.locator("[name=rule-0-default]").press_sequentially("UNKNOWN")
    expect(page.get_by_test_id("preview-counts")).to_contain_text("4 rows read · 3 mapped")
    expect(errors.locator("tbody tr")).to_have_count(1)
    expect(page.get_by_test_id("preview")).to_contain_text("UNKNOWN")
    page.get_by_test_id("rule-2").get_by_role("button", name="Move up").click()
    expect(page.get_by_test_id("preview").locator("thead th")).to_have_text(["Row", "sku", "cost", "quantity"])
    assert_not_reloaded(page)
    page.screenshot(path=str(artifacts / "mapping-editor-2-after-edits.png"), full_page=True)

    page.get_by_test_id("save-template").click()
    expect(page.locator(".messages")).to_contain_text("Saved Acme stock v1 (inventory)")
    saved = MappingTemplate.objects.get(name="Acme stock")
    assert page.url.endswith(f"/mapping-templates/{saved.pk}/")
    spec = saved.to_spec()
    assert [(rule["target"], rule["source"]) for rule in spec["fields"]] == [
        ("sku", "SKU"),
        ("cost", "Cost"),
        ("quantity", "Qty"),
    ]
    assert spec["fields"][0]["default"] == "UNKNOWN"
    assert spec["fields"][1]["transforms"] == [{"op": "decimal_comma"}]


FEED = REALDATA / "feeds" / "shopify_product_template_excel_resaved.csv"


@pytest.mark.skipif(not FEED.is_file(), reason="../shared/realdata/feeds is absent")
def test_a_builtin_on_a_spreadsheet_damaged_feed_shows_the_upc_errors_and_saving_keeps_the_builtin(
    editor_page, live_server, artifacts
):
    page = editor_page
    builtin = template_ensure_builtin(key="shopify_products")
    page.goto(f"{live_server.url}/mapping-templates/{builtin.pk}/?next=/runs/")
    mark_page(page)
    page.get_by_test_id("sample-file").set_input_files(str(Path(FEED)))
    errors = page.get_by_test_id("row-errors")
    expect(page.get_by_test_id("preview-counts")).to_contain_text("17 rows read · 0 mapped · 1 skipped")
    expect(errors.locator("tbody tr")).to_have_count(16)
    expect(errors.locator("tbody tr").first).to_contain_text("SRT_COT_111")
    expect(errors).to_contain_text("scientific notation")
    page.screenshot(path=str(artifacts / "mapping-editor-3-builtin-upc-errors.png"), full_page=True)

    upc_rule = page.locator(".rule", has=page.locator("select.target option[value=upc][selected]"))
    upc_rule.get_by_role("button", name="Remove rule").click()
    expect(page.get_by_test_id("preview-counts")).to_contain_text("17 rows read · 16 mapped")
    expect(errors).to_contain_text("No row errors.")
    assert_not_reloaded(page)

    page.get_by_test_id("save-template").click()
    page.wait_for_url("**/runs/?template=*")
    mine = MappingTemplate.objects.get(name=builtin.name, version=2)
    assert page.url.endswith(f"/runs/?template={mine.pk}")
    assert not mine.is_builtin
    assert "upc" not in [rule.target for rule in mine.field_rules.all()]
    assert "upc" in [rule.target for rule in MappingTemplate.objects.get(pk=builtin.pk).field_rules.all()]
