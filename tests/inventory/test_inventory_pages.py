"""Operators' inventory pages through the Django client: filters and keyset pages, SKU usage, linking and creating
products, exclusion rules, permissions (Operators view, admins change), and the typed confirmation of Remove
Inventory and Delete Source (the browser flow is in tests/browser/test_inventory_pages.py)."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.urls import reverse

from inventory.models import ExclusionRule, InventoryVariant, Product
from inventory.selectors import PAGE_SIZE
from inventory.tasks import products_create_from_variants_task
from sources.models import GlobalSettings, IntegrationRun, Source
from tests.factories import IntegrationFactory, ProductVariantFactory, SourceFactory, VariantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def source():
    return SourceFactory(name="Acme Supply", sku_prefix="AC-")


@pytest.fixture
def operator(client, django_user_model):
    """A staff user in the Operators group, logged in."""
    call_command("ensure_operator_group", stdout=open("/dev/null", "w"))
    user = django_user_model.objects.create_user(username="operator", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Operators"))
    client.force_login(user)
    return user


def list_url(source, **query) -> str:
    url = reverse("inventory:variant_list", args=[source.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def shown_skus(response) -> list[str]:
    return [variant.sku for variant in response.context["page"].variants]


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def assorted(source):
    linked_to = ProductVariantFactory(master_sku="AC-LINKED")
    return {
        "in": VariantFactory(source=source, sku="A-IN", title="Blue mug", upc="0001", quantity=5),
        "out": VariantFactory(source=source, sku="B-OUT", quantity=3, committed_quantity=3),
        "archived": VariantFactory(source=source, sku="C-ARCH", status="archived", quantity=0),
        "linked": VariantFactory(source=source, sku="D-LINK", master_sku="AC-LINKED", product_variant=linked_to),
        "excluded": VariantFactory(source=source, sku="E-EXCL", is_excluded=True, cost=Decimal("2.50")),
        "elsewhere": VariantFactory(sku="A-IN-OTHER"),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["A-IN", "B-OUT", "C-ARCH", "D-LINK", "E-EXCL"]),
        ({"status": "archived"}, ["C-ARCH"]),
        ({"stock": "in"}, ["A-IN", "D-LINK", "E-EXCL"]),
        ({"stock": "out"}, ["B-OUT", "C-ARCH"]),
        ({"linked": "yes"}, ["D-LINK"]),
        ({"linked": "no", "excluded": "no", "status": "active"}, ["A-IN", "B-OUT"]),
        ({"excluded": "yes"}, ["E-EXCL"]),
        ({"q": "blue"}, ["A-IN"]),
        ({"q": "0001"}, ["A-IN"]),
        ({"q": "ac-link"}, ["D-LINK"]),
    ],
)
def test_variant_list_filters(client, operator, source, assorted, query, expected):
    response = client.get(list_url(source, **query))
    assert response.status_code == 200
    assert shown_skus(response) == expected


def test_variant_list_shows_the_columns_an_operator_needs(client, operator, source, assorted):
    html = client.get(list_url(source, q="B-OUT")).content.decode()
    for text in ["B-OUT", "AC-B-OUT", "10.0000", "not linked"]:
        assert text in html
    assert '<td class="num out">0</td>' in html  # available = quantity − committed
    assert "AC-LINKED" in client.get(list_url(source, linked="yes")).content.decode()


def test_a_bad_filter_value_is_ignored_with_a_message(client, operator, source, assorted):
    response = client.get(list_url(source, stock="plenty"))
    assert shown_skus(response) == ["A-IN", "B-OUT", "C-ARCH", "D-LINK", "E-EXCL"]
    assert "Filter stock='plenty' is not one of in, out; ignored." in messages_of(response)


def test_variant_list_pages_by_sku_forwards_and_back_keeping_filters(client, operator, source):
    InventoryVariant.objects.bulk_create(
        InventoryVariant(source=source, sku=f"SKU-{n:03d}", master_sku=f"AC-SKU-{n:03d}", quantity=n % 2)
        for n in range(2 * PAGE_SIZE + 10)
    )
    first = client.get(list_url(source, stock="in"))
    assert shown_skus(first) == [f"SKU-{n:03d}" for n in range(1, 2 * PAGE_SIZE, 2)][:PAGE_SIZE]
    assert first.context["page"].previous_before is None
    second = client.get(list_url(source) + "?" + first.context["next_query"])
    assert shown_skus(second) == [f"SKU-{n:03d}" for n in range(2 * PAGE_SIZE + 1, 2 * PAGE_SIZE + 10, 2)]
    assert second.context["page"].next_after is None
    back = client.get(list_url(source) + "?" + second.context["previous_query"])
    assert shown_skus(back) == shown_skus(first)
    assert back.context["page"].is_first


def test_header_counts_plan_skus_for_the_account_and_the_source_by_status(client, operator, source, assorted):
    settings = GlobalSettings.load()
    settings.sku_limit = 6
    settings.save()

    response = client.get(list_url(source))

    usage = response.context["usage"]
    assert (usage.limit, usage.account, usage.source, usage.room, usage.over) == (6, 6, 5, 0, True)
    assert usage.source_by_status == {"active": 4, "archived": 1, "discontinued": 0}
    assert "at the limit" in response.content.decode()


def test_variant_list_of_a_missing_source_is_404(client, operator):
    assert client.get(reverse("inventory:variant_list", args=[98765])).status_code == 404


def test_pages_need_a_staff_login(client, source):
    response = client.get(list_url(source))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


# Permissions --------------------------------------------------------------------------------------------------------


def test_operators_link_create_and_exclude_but_get_403_on_deletes_and_see_no_danger_zone(
    client, operator, source, assorted
):
    html = client.get(list_url(source)).content.decode()
    assert "Link all unlinked" in html and "Create products" in html and "Danger zone" not in html
    assert client.get(reverse("inventory:exclusions")).status_code == 200
    rule = ExclusionRule.objects.create(field="sku", value="X")
    refused = [
        (reverse("inventory:exclusion_delete", args=[rule.pk]), {}),
        (reverse("inventory:remove_inventory", args=[source.pk]), {"confirm_name": "Acme Supply"}),
        (reverse("inventory:delete_source", args=[source.pk]), {"confirm_name": "Acme Supply"}),
    ]
    for url, data in refused:
        assert client.post(url, data).status_code == 403, url
    for name in ("remove_inventory", "delete_source"):
        assert client.get(reverse(f"inventory:{name}", args=[source.pk])).status_code == 403
    assert Source.objects.filter(pk=source.pk).exists()
    assert list(ExclusionRule.objects.all()) == [rule]
    assert client.post(reverse("inventory:exclusions"), {"field": "brand", "value": "Zeta"}).status_code == 302
    assert ExclusionRule.objects.filter(field="brand", value="Zeta").exists()


def test_staff_outside_the_operators_group_see_no_buttons_and_get_403_on_every_change(
    client, django_user_model, source, assorted
):
    client.force_login(django_user_model.objects.create_user(username="stan", password="pw", is_staff=True))
    html = client.get(list_url(source)).content.decode()
    assert "Link selected" not in html and "Create products" not in html and "Danger zone" not in html
    posts = [
        (reverse("inventory:variants_link", args=[source.pk]), {"scope": "all"}),
        (reverse("inventory:products_create", args=[source.pk]), {"scope": "all"}),
        (reverse("inventory:exclusions"), {"field": "brand", "value": "Zeta"}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    assert InventoryVariant.objects.filter(source=source, product_variant__isnull=True).count() == 4
    assert not ExclusionRule.objects.exists()


def test_a_staff_user_granted_only_the_change_permission_links_but_cannot_create_products(
    client, django_user_model, source
):
    user = django_user_model.objects.create_user(username="lina", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="change_inventoryvariant"))
    client.force_login(user)
    ProductVariantFactory(master_sku="AC-1")
    variant = VariantFactory(source=source, sku="1")

    html = client.get(list_url(source)).content.decode()
    assert "Link all unlinked" in html and "Create products" not in html
    client.post(reverse("inventory:variants_link", args=[source.pk]), {"scope": "all"})
    assert InventoryVariant.objects.get(pk=variant.pk).product_variant.master_sku == "AC-1"
    assert client.post(reverse("inventory:products_create", args=[source.pk]), {"scope": "all"}).status_code == 403


# Linking and creating products --------------------------------------------------------------------------------------


def test_link_selected_links_only_those_and_returns_to_the_filtered_list(admin_client, source):
    ProductVariantFactory(master_sku="AC-1")
    ProductVariantFactory(master_sku="AC-2")
    one, two = VariantFactory(source=source, sku="1"), VariantFactory(source=source, sku="2")

    response = admin_client.post(
        reverse("inventory:variants_link", args=[source.pk]), {"scope": "selected", "variant": [one.pk], "linked": "no"}
    )

    assert response["Location"] == list_url(source, linked="no")
    assert InventoryVariant.objects.get(pk=one.pk).product_variant_id is not None
    assert InventoryVariant.objects.get(pk=two.pk).product_variant_id is None
    page = admin_client.get(response["Location"])
    assert "Linked 1 of 1 selected variants to products (by master SKU, then UPC)." in messages_of(page)
    assert shown_skus(page) == ["2"]


def test_bulk_actions_without_a_selection_say_so(admin_client, source):
    VariantFactory(source=source, sku="1")
    for name in ("variants_link", "products_create"):
        response = admin_client.post(reverse(f"inventory:{name}", args=[source.pk]), {"scope": "selected"}, follow=True)
        assert "Select at least one variant" in messages_of(response)[0]
    assert InventoryVariant.objects.get(sku="1").product_variant_id is None


def test_create_products_from_all_unlinked_reports_what_it_did(admin_client, source):
    VariantFactory(source=source, sku="1")
    VariantFactory(source=source, sku="2", master_sku="")
    response = admin_client.post(reverse("inventory:products_create", args=[source.pk]), {"scope": "all"}, follow=True)
    assert messages_of(response) == [
        "Created 1 products with 1 variants and linked 1 source variants to them; linked 0 to existing products. "
        "Skipped 1 variants without a master SKU."
    ]


def test_create_products_for_more_unlinked_variants_than_a_request_handles_runs_in_a_task(
    admin_client, source, settings, django_capture_on_commit_callbacks
):
    settings.FLXHUB_PRODUCTS_IN_REQUEST_LIMIT = 2
    for sku in ("1", "2", "3"):
        VariantFactory(source=source, sku=sku)
    url = reverse("inventory:products_create", args=[source.pk])

    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = admin_client.post(url, {"scope": "all"}, follow=True)

    assert "a background task is creating and linking them" in messages_of(response)[0]
    assert len(queued) == 1 and not Product.objects.exists()
    products_create_from_variants_task(source.pk)  # what the worker runs
    assert Product.objects.count() == 3
    assert not InventoryVariant.objects.filter(source=source, product_variant__isnull=True).exists()


# Exclusion rules ----------------------------------------------------------------------------------------------------


def test_exclusions_page_adds_and_deletes_rules_and_marks_variants(admin_client, source):
    zeta = VariantFactory(source=source, brand="Zeta")
    url = reverse("inventory:exclusions")

    response = admin_client.post(url, {"source": source.pk, "field": "brand", "value": "zeta", "filter_source": ""})
    assert response["Location"] == url
    rule = ExclusionRule.objects.get()
    assert (rule.source, rule.field, rule.value) == (source, "brand", "zeta")
    assert InventoryVariant.objects.get(pk=zeta.pk).is_excluded
    page = admin_client.get(url + f"?source={source.pk}")
    assert "Added: exclude brand = 'zeta' (Acme Supply); 1 variants excluded." in messages_of(page)
    assert list(page.context["rules"]) == [rule]

    response = admin_client.post(reverse("inventory:exclusion_delete", args=[rule.pk]), {"filter_source": source.pk})
    assert response["Location"] == url + f"?source={source.pk}"
    assert not InventoryVariant.objects.get(pk=zeta.pk).is_excluded
    assert not ExclusionRule.objects.exists()


def test_exclusions_page_filters_by_source_and_keeps_account_wide_rules(admin_client, source):
    everywhere = ExclusionRule.objects.create(field="upc", value="1")
    mine = ExclusionRule.objects.create(source=source, field="sku", value="2")
    ExclusionRule.objects.create(source=SourceFactory(), field="sku", value="3")
    page = admin_client.get(reverse("inventory:exclusions") + f"?source={source.pk}")
    assert list(page.context["rules"]) == [everywhere, mine]
    assert len(admin_client.get(reverse("inventory:exclusions")).context["rules"]) == 3


def test_a_bad_rule_is_refused_with_its_message(admin_client, source):
    response = admin_client.post(reverse("inventory:exclusions"), {"field": "colour", "value": "red"}, follow=True)
    assert "Exclusion field 'colour' is not one of sku, upc, brand, category." in messages_of(response)
    response = admin_client.post(reverse("inventory:exclusions"), {"source": "acme", "field": "sku", "value": "red"})
    assert not ExclusionRule.objects.exists()


# Dangerous actions --------------------------------------------------------------------------------------------------


def test_remove_inventory_page_shows_counts_and_a_wrong_name_deletes_nothing(admin_client, source, assorted):
    url = reverse("inventory:remove_inventory", args=[source.pk])
    page = admin_client.get(url)
    assert page.context["deletes"][0] == (5, "inventory variants")
    assert 'data-expected="Acme Supply"' in page.content.decode()

    response = admin_client.post(url, {"confirm_name": "acme supply"}, follow=True)

    assert response.redirect_chain[-1][0] == url
    assert "The name typed ('acme supply') is not the source's name ('Acme Supply'); nothing was deleted." in (
        messages_of(response)
    )
    assert InventoryVariant.objects.filter(source=source).count() == 5

    response = admin_client.post(url, {"confirm_name": "Acme Supply"}, follow=True)
    assert response.redirect_chain[-1][0] == list_url(source)
    assert "Removed Acme Supply's inventory: 5 variants, 0 parents, 0 images." in messages_of(response)
    assert not InventoryVariant.objects.filter(source=source).exists()


def test_remove_inventory_can_queue_a_forced_reimport(admin_client, source, assorted):
    integration = IntegrationFactory(source=source)
    url = reverse("inventory:remove_inventory", args=[source.pk])
    assert 'name="reimport"' in admin_client.get(url).content.decode()

    response = admin_client.post(url, {"confirm_name": "Acme Supply", "reimport": "1"}, follow=True)

    run = IntegrationRun.objects.get(integration=integration)
    assert run.force
    assert f"Queued forced Get Inventory run(s) {run.pk} to re-import it." in messages_of(response)[0]


def test_remove_inventory_page_names_the_live_frs_that_block_it(admin_client, source, assorted, make_fr):
    fr = make_fr((assorted["in"], 1))
    url = reverse("inventory:remove_inventory", args=[source.pk])
    assert fr.number in admin_client.get(url).context["blockers"][0]
    response = admin_client.post(url, {"confirm_name": "Acme Supply"}, follow=True)
    assert f"live FRs hold committed stock on Acme Supply's variants ({fr.number})" in messages_of(response)[0]
    assert InventoryVariant.objects.filter(source=source).count() == 5


def test_delete_source_with_the_right_name_deletes_it_and_a_referenced_one_is_refused(admin_client, source, make_fr):
    gone = SourceFactory(name="Old Supplier")
    VariantFactory(source=gone)
    response = admin_client.post(
        reverse("inventory:delete_source", args=[gone.pk]), {"confirm_name": "Old Supplier"}, follow=True
    )
    assert "Deleted source Old Supplier: 0 integrations, 0 connections, 0 schedules and 1 inventory variants." in (
        messages_of(response)
    )
    assert not Source.objects.filter(pk=gone.pk).exists()

    fr = make_fr((VariantFactory(source=source), 1))
    url = reverse("inventory:delete_source", args=[source.pk])
    assert admin_client.get(url).context["blockers"] == [f"Referenced by fulfillment requests: {fr.number}."]
    response = admin_client.post(url, {"confirm_name": "Acme Supply"}, follow=True)
    assert "Delete Source refused" in messages_of(response)[0]
    assert Source.objects.filter(pk=source.pk).exists()


def test_admin_sees_the_danger_zone_and_bulk_buttons(admin_client, source):
    html = admin_client.get(list_url(source)).content.decode()
    for text in ["Link selected", "Create products from all unlinked", "Remove Inventory…", "Delete Source…"]:
        assert text in html
