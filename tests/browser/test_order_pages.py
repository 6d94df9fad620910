"""Operators handle FRs on the order page in a real browser (Playwright + Debian chromium)."""

import pytest
from playwright.sync_api import expect

from orders.models import FulfillmentRequest
from tests.factories import VariantFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_operator_processes_and_voids_an_fr_from_the_order_page(operator_page, live_server, make_fr, artifacts):
    page = operator_page
    variant = VariantFactory(quantity=5)
    fr = make_fr((variant, 2))
    page.goto(f"{live_server.url}/orders/{fr.order_id}/")
    section = page.locator(f"section.fr[data-fr='{fr.number}']")
    expect(section.get_by_test_id("fr-status")).to_have_text("unprocessed")
    expect(section.get_by_role("button", name="Mark processed")).to_have_count(0)  # not allowed yet

    section.get_by_role("button", name="Process").click()
    expect(page.locator(".messages")).to_contain_text(f"FR {fr.number} is now processing")
    expect(section.get_by_test_id("fr-status")).to_have_text("processing")

    section.get_by_label("Void reason").fill("customer canceled")
    section.get_by_role("button", name="Void").click()
    expect(section.get_by_test_id("fr-status")).to_have_text("voided")
    expect(section).to_contain_text("customer canceled")
    expect(section.get_by_role("button")).to_have_count(0)
    page.screenshot(path=str(artifacts / "order-page.png"), full_page=True)
    variant.refresh_from_db()
    assert variant.committed_quantity == 0


def test_a_forbidden_move_posted_anyway_is_refused(operator_page, live_server, make_fr):
    page = operator_page
    fr = make_fr((VariantFactory(), 1))
    FulfillmentRequest.objects.filter(pk=fr.pk).update(status="voided")
    page.goto(f"{live_server.url}/orders/{fr.order_id}/")
    # Post the form of a move the page no longer offers, as a stale tab would.
    page.evaluate(
        """([url, token]) => { const f = document.createElement('form'); f.method = 'post'; f.action = url;
           const i = document.createElement('input'); i.name = 'csrfmiddlewaretoken'; i.value = token;
           f.appendChild(i); document.body.appendChild(f); f.submit(); }""",
        [f"/frs/{fr.pk}/process/", next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")],
    )
    expect(page.locator(".messages")).to_contain_text("voided; it cannot become processing")


def test_fr_list_filters_and_bulk_processes(operator_page, live_server, make_fr):
    page = operator_page
    first, second = make_fr((VariantFactory(), 1)), make_fr((VariantFactory(), 1))
    page.goto(f"{live_server.url}/frs/?source={first.source_id}")
    expect(page.get_by_role("cell", name=first.number, exact=True)).to_be_visible()
    expect(page.get_by_role("cell", name=second.number, exact=True)).to_have_count(0)
    page.goto(f"{live_server.url}/frs/")
    page.get_by_label(f"select {first.number}").check()
    page.get_by_label(f"select {second.number}").check()
    page.get_by_role("button", name="Process selected").click()
    expect(page.locator(".messages")).to_contain_text("Processed 2 FR(s).")
    assert set(FulfillmentRequest.objects.values_list("status", flat=True)) == {"processing"}


def test_preview_shows_roadblocks_and_generate_creates_frs(operator_page, live_server, artifacts):
    from orders.models import Order
    from tests.factories import OrderFactory, OrderLineFactory, ProductVariantFactory

    page = operator_page
    linked = ProductVariantFactory(master_sku="M-LINKED")
    cheap = VariantFactory(
        product_variant=linked,
        cost="8.00",
        quantity=5,
        source__name="Cheap Co",
        source__shipping_method_map={"ground": "UPS-GND"},
    )
    VariantFactory(product_variant=linked, cost="12.00", quantity=5, source__name="Dear Co")
    order = OrderFactory(channel_order_number="70001")
    OrderLineFactory(order=order, master_sku="M-LINKED", quantity=2)
    OrderLineFactory(order=order, master_sku="M-NOWHERE", quantity=1)

    page.goto(f"{live_server.url}/orders/{order.pk}/")
    preview = page.get_by_test_id("preview")
    expect(preview.locator("[data-code='sku_not_linked']")).to_contain_text("M-NOWHERE")
    expect(preview).to_contain_text(f"{cheap.source.name}: {cheap.sku} × 2")
    assert not order.fulfillment_requests.exists()  # preview wrote nothing

    preview.get_by_role("button", name="Generate FRs").click()
    expect(page.locator(".messages")).to_contain_text("Generated FR 70001-1 (Cheap Co)")
    section = page.locator("section.fr[data-fr='70001-1']")
    expect(section.get_by_test_id("fr-status")).to_have_text("unprocessed")
    section.get_by_role("button", name="Regenerate").click()
    expect(page.locator(".messages")).to_contain_text("FR 70001-1 voided and regenerated: 70001-2")
    expect(page.locator("section.fr[data-fr='70001-1']").get_by_test_id("fr-status")).to_have_text("voided")
    page.screenshot(path=str(artifacts / "order-generate.png"), full_page=True)
    assert Order.objects.get(pk=order.pk).fulfillment_requests.count() == 2
