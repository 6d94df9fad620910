"""An admin runs Remove Inventory in a browser: the typed confirmation is required, in the page and on the server."""

import re

import pytest
from playwright.sync_api import expect

from inventory.models import InventoryParent, InventoryVariant
from tests.factories import SourceFactory, VariantFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct horse battery"


@pytest.fixture
def admin_page(page, live_server, django_user_model):
    """A browser page logged in as a superuser (operator_page has no permissions: it may not remove inventory)."""
    django_user_model.objects.create_superuser(username="owner", password=PASSWORD, email="owner@example.com")
    page.goto(f"{live_server.url}/admin/login/?next=/orders/")
    page.fill("#id_username", "owner")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/orders/")
    return page


def test_remove_inventory_needs_the_exact_source_name_typed(admin_page, live_server, artifacts):
    page = admin_page
    source = SourceFactory(name="Acme Supply")
    parent = InventoryParent.objects.create(source=source, parent_sku="MUG")
    for sku in ("MUG-BLUE", "MUG-RED", "MUG-GREEN"):
        VariantFactory(source=source, parent=parent, sku=sku)
    kept = VariantFactory(sku="MUG-BLUE")  # another source's variant with the same SKU

    page.goto(f"{live_server.url}/sources/{source.pk}/inventory/")
    expect(page.get_by_test_id("sku-source")).to_have_text("3")
    page.screenshot(path=artifacts / "inventory-variant-list.png", full_page=True)
    page.get_by_role("link", name="Remove Inventory…").click()
    expect(page.get_by_role("heading", name="Remove Inventory: Acme Supply")).to_be_visible()
    expect(page.get_by_test_id("deletes")).to_contain_text("3 inventory variants")

    button = page.get_by_role("button", name="Remove Inventory")
    field = page.get_by_label(re.compile("Type the source's name"))
    expect(button).to_be_disabled()
    for almost in ("Acme", "acme supply", "Acme Supply "):
        field.fill(almost)
        expect(button).to_be_disabled()
    page.screenshot(path=artifacts / "inventory-remove-confirm-disabled.png", full_page=True)

    # Around the disabled button (form.submit() skips the page's checks): the server refuses the wrong name too.
    page.locator("form[data-typed-confirmation]").evaluate("form => form.submit()")
    expect(page.locator(".messages .error")).to_contain_text("is not the source's name ('Acme Supply'); nothing was")
    assert InventoryVariant.objects.filter(source=source).count() == 3

    field = page.get_by_label(re.compile("Type the source's name"))
    field.fill("Acme Supply")
    expect(button).to_be_enabled()
    page.screenshot(path=artifacts / "inventory-remove-confirm-enabled.png", full_page=True)
    button.click()

    page.wait_for_url(f"{live_server.url}/sources/{source.pk}/inventory/")
    expect(page.locator(".messages .success")).to_have_text(
        "Removed Acme Supply's inventory: 3 variants, 1 parents, 0 images."
    )
    expect(page.get_by_test_id("variants")).to_contain_text("No variants match.")
    expect(page.get_by_test_id("sku-source")).to_have_text("0")
    page.screenshot(path=artifacts / "inventory-removed.png", full_page=True)
    assert not InventoryVariant.objects.filter(source=source).exists()
    assert list(InventoryVariant.objects.all()) == [kept]
