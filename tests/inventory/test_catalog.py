"""Catalogue services: link variants to products, create products, exclusion rules, Remove Inventory, Delete Source."""

import pytest
from django_celery_beat.models import PeriodicTask

from flxhub.exceptions import Conflict, NotFound, ValidationFailed
from inventory.models import ExclusionRule, InventoryParent, InventoryVariant, Product, ProductVariant, VariantImage
from inventory.services.catalog import (
    exclusion_rule_add,
    exclusion_rule_remove,
    products_create_from_variants,
    variants_link_products,
)
from inventory.services.source_removal import source_delete, source_inventory_remove
from orders.models import FRLine, FulfillmentRequest
from orders.services.fr_actions import fr_void
from sources.models import Connection, Integration, IntegrationRun, Source
from sources.services.schedules import integration_save
from tests.factories import IntegrationFactory, ProductVariantFactory, SourceFactory, VariantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def source():
    return SourceFactory(name="Acme Supply", sku_prefix="AC-")


def linked_to(variant) -> ProductVariant | None:
    variant.refresh_from_db()
    return variant.product_variant


# Linking ------------------------------------------------------------------------------------------------------------


def test_link_matches_master_sku_before_upc(source):
    by_master = ProductVariantFactory(master_sku="AC-1", upc="")
    by_upc = ProductVariantFactory(master_sku="OTHER-1", upc="012345678905")
    variant = VariantFactory(source=source, sku="1", master_sku="AC-1", upc="012345678905")

    assert variants_link_products(source_id=source.pk) == 1
    assert linked_to(variant) == by_master
    assert by_upc.source_variants.count() == 0


def test_link_falls_back_to_upc_and_leaves_unmatched_and_already_linked_variants(source):
    by_upc = ProductVariantFactory(master_sku="OTHER-2", upc="012345678912")
    chosen = ProductVariantFactory(master_sku="CHOSEN")
    upc_only = VariantFactory(source=source, sku="2", upc="012345678912")
    unmatched = VariantFactory(source=source, sku="3", upc="999")
    already = VariantFactory(source=source, sku="4", master_sku="OTHER-2", product_variant=chosen)

    assert variants_link_products(source_id=source.pk) == 1
    assert linked_to(upc_only) == by_upc
    assert linked_to(unmatched) is None
    assert linked_to(already) == chosen


def test_link_selected_touches_only_the_selection_of_that_source(source):
    ProductVariantFactory(master_sku="AC-5")
    ProductVariantFactory(master_sku="AC-6")
    selected = VariantFactory(source=source, sku="5")
    not_selected = VariantFactory(source=source, sku="6")
    other_source = VariantFactory(sku="7", master_sku="AC-5")

    assert variants_link_products(source_id=source.pk, variant_ids=[selected.pk, other_source.pk]) == 1
    assert linked_to(selected).master_sku == "AC-5"
    assert linked_to(not_selected) is None
    assert linked_to(other_source) is None


def test_link_for_a_missing_source_is_not_found():
    with pytest.raises(NotFound):
        variants_link_products(source_id=987654)


# Creating products ------------------------------------------------------------------------------------------------


def test_create_products_makes_one_product_per_parent_and_per_lone_variant(source):
    shirt = InventoryParent.objects.create(source=source, parent_sku="SHIRT", title="Oxford shirt", brand="Acme")
    small = VariantFactory(source=source, sku="SHIRT-S", parent=shirt, title="Oxford shirt S", upc="111")
    large = VariantFactory(source=source, sku="SHIRT-L", parent=shirt, title="Oxford shirt L")
    mug = VariantFactory(source=source, sku="MUG", title="Mug", brand="Acme Home")

    result = products_create_from_variants(source_id=source.pk)

    assert (result.products, result.product_variants, result.linked_new, result.linked_existing) == (2, 3, 3, 0)
    assert linked_to(small).product == linked_to(large).product
    assert linked_to(small).product.title == "Oxford shirt"
    assert linked_to(small).upc == "111"
    assert linked_to(mug).product.title == "Mug"
    assert linked_to(mug).product.brand == "Acme Home"
    assert sorted(ProductVariant.objects.values_list("master_sku", flat=True)) == ["AC-MUG", "AC-SHIRT-L", "AC-SHIRT-S"]


def test_create_products_never_duplicates_an_existing_master_sku_or_upc(source):
    existing = ProductVariantFactory(master_sku="AC-A")
    by_upc = ProductVariantFactory(master_sku="ELSEWHERE", upc="222")
    same_master = VariantFactory(source=source, sku="A")
    same_upc = VariantFactory(source=source, sku="B", upc="222")
    new = VariantFactory(source=source, sku="C")
    twin = VariantFactory(source=source, sku="D", master_sku="AC-C")  # same master SKU as `new`
    products_before = Product.objects.count()

    result = products_create_from_variants(source_id=source.pk)

    assert result.linked_existing == 2
    assert (result.products, result.product_variants, result.linked_new) == (1, 1, 2)
    assert linked_to(same_master) == existing
    assert linked_to(same_upc) == by_upc
    assert linked_to(new) == linked_to(twin)
    assert Product.objects.count() == products_before + 1
    again = products_create_from_variants(source_id=source.pk)
    assert (again.products, again.product_variants, again.linked_existing) == (0, 0, 0)


def test_create_products_for_a_selection_skips_variants_without_master_sku(source):
    chosen = VariantFactory(source=source, sku="X")
    blank = VariantFactory(source=source, sku="Y", master_sku="")
    left = VariantFactory(source=source, sku="Z")

    result = products_create_from_variants(source_id=source.pk, variant_ids=[chosen.pk, blank.pk])

    assert (result.product_variants, result.skipped_without_master_sku) == (1, 1)
    assert linked_to(chosen).master_sku == "AC-X"
    assert linked_to(blank) is None
    assert linked_to(left) is None


def test_new_variants_of_a_parent_join_the_product_its_linked_variants_already_have(source):
    parent = InventoryParent.objects.create(source=source, parent_sku="P", title="Parent")
    first = VariantFactory(source=source, sku="P-1", parent=parent)
    products_create_from_variants(source_id=source.pk)
    second = VariantFactory(source=source, sku="P-2", parent=parent)

    result = products_create_from_variants(source_id=source.pk)

    assert (result.products, result.product_variants) == (0, 1)
    assert linked_to(second).product == linked_to(first).product


# Exclusion rules ----------------------------------------------------------------------------------------------------


def test_adding_a_rule_marks_matching_variants_of_its_source_only(source):
    match = VariantFactory(source=source, brand="Zeta ")
    other_brand = VariantFactory(source=source, brand="Alpha")
    other_source = VariantFactory(brand="zeta")

    change = exclusion_rule_add(field="brand", value=" ZETA", source_id=source.pk)

    assert change.variants_changed == 1
    assert change.rule.value == "ZETA"
    assert InventoryVariant.objects.filter(is_excluded=True).get() == match
    assert not InventoryVariant.objects.get(pk=other_brand.pk).is_excluded
    assert not InventoryVariant.objects.get(pk=other_source.pk).is_excluded


def test_an_account_wide_rule_marks_every_source(source):
    VariantFactory(source=source, sku="BAD-1")
    VariantFactory(sku="BAD-1")
    VariantFactory(sku="GOOD")

    change = exclusion_rule_add(field="sku", value="bad-1")

    assert change.variants_changed == 2
    assert change.rule.source is None


def test_removing_a_rule_unmarks_only_variants_no_other_rule_matches(source):
    both = VariantFactory(source=source, brand="Zeta", category="Knives")
    brand_only = VariantFactory(source=source, brand="Zeta", category="Cups")
    elsewhere = VariantFactory(brand="Zeta", category="Knives")
    brand_rule = exclusion_rule_add(field="brand", value="zeta").rule
    exclusion_rule_add(field="category", value="knives", source_id=source.pk)

    change = exclusion_rule_remove(rule_id=brand_rule.pk)

    assert change.variants_changed == 2
    assert InventoryVariant.objects.get(pk=both.pk).is_excluded
    assert not InventoryVariant.objects.get(pk=brand_only.pk).is_excluded
    assert not InventoryVariant.objects.get(pk=elsewhere.pk).is_excluded
    assert not ExclusionRule.objects.filter(pk=brand_rule.pk).exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("colour", "red", "not one of"), ("brand", "   ", "needs a value"), ("upc", "x" * 256, "longer than")],
)
def test_a_bad_rule_is_refused_with_a_message_and_nothing_is_marked(source, field, value, message):
    VariantFactory(source=source, brand="red")
    with pytest.raises(ValidationFailed, match=message):
        exclusion_rule_add(field=field, value=value, source_id=source.pk)
    assert not ExclusionRule.objects.exists()
    assert not InventoryVariant.objects.filter(is_excluded=True).exists()


def test_the_same_rule_twice_is_refused(source):
    exclusion_rule_add(field="upc", value="123", source_id=source.pk)
    with pytest.raises(ValidationFailed, match="already a rule"):
        exclusion_rule_add(field="upc", value="123 ", source_id=source.pk)


def test_removing_a_rule_twice_says_it_is_gone(source):
    rule = exclusion_rule_add(field="upc", value="123", source_id=source.pk).rule
    exclusion_rule_remove(rule_id=rule.pk)
    with pytest.raises(NotFound, match="already removed"):
        exclusion_rule_remove(rule_id=rule.pk)


# Remove Inventory ---------------------------------------------------------------------------------------------------


@pytest.fixture
def stocked(source):
    parent = InventoryParent.objects.create(source=source, parent_sku="P")
    variants = [VariantFactory(source=source, parent=parent, sku=f"V{n}") for n in range(3)]
    VariantImage.objects.create(variant=variants[0], url="https://img.example/v0.jpg")
    return variants


def test_remove_inventory_deletes_every_variant_parent_and_image_of_the_source_only(source, stocked):
    kept = VariantFactory(sku="V0")

    removed = source_inventory_remove(source_id=source.pk, confirm_name="Acme Supply")

    assert (removed.variants, removed.parents, removed.images) == (3, 1, 1)
    assert not InventoryVariant.objects.filter(source=source).exists()
    assert not InventoryParent.objects.filter(source=source).exists()
    assert list(InventoryVariant.objects.all()) == [kept]
    assert Source.objects.filter(pk=source.pk).exists()


def test_remove_inventory_with_a_wrong_name_deletes_nothing(source, stocked):
    for typed in ["acme supply", "Acme Supply ", ""]:
        with pytest.raises(ValidationFailed, match="nothing was deleted"):
            source_inventory_remove(source_id=source.pk, confirm_name=typed)
    assert InventoryVariant.objects.filter(source=source).count() == 3


def test_remove_inventory_is_refused_while_a_live_fr_holds_stock_then_allowed_once_voided(source, stocked, make_fr):
    fr = make_fr((stocked[0], 2))
    assert FRLine.objects.get(fulfillment_request=fr).committed_quantity == 2

    with pytest.raises(Conflict, match=fr.number):
        source_inventory_remove(source_id=source.pk, confirm_name="Acme Supply")
    assert InventoryVariant.objects.filter(source=source).count() == 3

    fr_void(fr_id=fr.pk, reason="customer changed their mind")
    source_inventory_remove(source_id=source.pk, confirm_name="Acme Supply")

    line = FRLine.objects.get(fulfillment_request=fr)
    assert line.variant is None
    assert (line.sku, line.quantity) == ("V0", 2)


def test_remove_inventory_with_reimport_queues_a_forced_run_of_each_enabled_primary_feed(source, stocked):
    primary = IntegrationFactory(source=source)
    IntegrationFactory(source=source, connection=primary.connection, is_enabled=False)
    IntegrationFactory(
        source=source, connection=primary.connection, operation=Integration.Operation.GET_INVENTORY_SECONDARY
    )

    removed = source_inventory_remove(source_id=source.pk, confirm_name="Acme Supply", reimport=True)

    run = IntegrationRun.objects.get()
    assert removed.reimport_runs == [run.pk]
    assert (run.integration, run.force, run.status) == (primary, True, IntegrationRun.Status.QUEUED)


def test_refused_remove_inventory_queues_no_reimport(source, stocked):
    IntegrationFactory(source=source)
    with pytest.raises(ValidationFailed):
        source_inventory_remove(source_id=source.pk, confirm_name="Acme", reimport=True)
    assert not IntegrationRun.objects.exists()


# Delete Source ------------------------------------------------------------------------------------------------------


def test_delete_source_removes_it_with_connections_integrations_schedules_and_inventory(source, stocked):
    integration = IntegrationFactory(source=source, schedule=Integration.Schedule.HOURLY)
    integration_save(integration=integration)
    task_id = Integration.objects.get(pk=integration.pk).periodic_task_id
    IntegrationRun.objects.create(integration=integration)
    exclusion_rule_add(field="brand", value="zeta", source_id=source.pk)
    other = IntegrationFactory()

    deleted = source_delete(source_id=source.pk, confirm_name="Acme Supply")

    assert (deleted.integrations, deleted.connections, deleted.periodic_tasks, deleted.inventory.variants) == (
        1,
        1,
        1,
        3,
    )
    assert not Source.objects.filter(pk=source.pk).exists()
    assert not PeriodicTask.objects.filter(pk=task_id).exists()
    assert not Connection.objects.filter(source_id=source.pk).exists()
    assert not IntegrationRun.objects.filter(integration_id=integration.pk).exists()
    assert not ExclusionRule.objects.exists()
    assert Integration.objects.filter(pk=other.pk).exists()


def test_delete_source_is_refused_while_frs_name_it_and_keeps_everything(source, stocked, make_fr):
    fr = make_fr((stocked[1], 1))
    fr_void(fr_id=fr.pk, reason="void does not erase history")
    IntegrationFactory(source=source)

    with pytest.raises(Conflict, match=f"fulfillment requests: {fr.number}") as refused:
        source_delete(source_id=source.pk, confirm_name="Acme Supply")

    assert refused.value.details["references"] == {"fulfillment requests": [fr.number]}
    assert Source.objects.filter(pk=source.pk).exists()
    assert InventoryVariant.objects.filter(source=source).count() == 3
    assert Integration.objects.filter(source=source).count() == 1
    assert FulfillmentRequest.objects.get(pk=fr.pk).lines.get().variant_id == stocked[1].pk


def test_delete_source_with_a_wrong_name_deletes_nothing(source, stocked):
    with pytest.raises(ValidationFailed, match="not the source's name"):
        source_delete(source_id=source.pk, confirm_name="Acme")
    assert Source.objects.filter(pk=source.pk).exists()
    assert InventoryVariant.objects.filter(source=source).count() == 3
