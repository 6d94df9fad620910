"""A variant's source, parent and product variant exist: the triggers of inventory migrations 0004 and 0007 (no
FOREIGN KEY), on both databases.

Each scenario below runs on PostgreSQL (the suite's database) and, in one subprocess, on SQLite (the embedded mode).
"""

import os
import subprocess
import sys
import threading
import time

import pytest
from django.db import IntegrityError, connection, transaction

from inventory.models import InventoryParent, InventoryVariant, ProductVariant
from sources.models import Source
from tests.factories import ProductVariantFactory, SourceFactory, VariantFactory
from tests.workers import REPO_ROOT

MISSING_ID = 987_654_321
VARIANT = InventoryVariant._meta.db_table
COPIED_COLUMNS = (
    "sku, master_sku, upc, ean, mpn, title, brand, category, options, attributes, images, quantity, "
    "committed_quantity, status, is_excluded, content_hash, created_at, updated_at"
)


def _parent(source: Source, sku: str = "P-1") -> InventoryParent:
    return InventoryParent.objects.create(source=source, parent_sku=sku)


def _execute(sql: str, params: list) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _refused(sql: str, params: list) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        _execute(sql, params)


def _copy_variants(*, from_source: Source, to_source_id: int, parent_id_of_sku: tuple[str, int] | None = None) -> int:
    """INSERT … SELECT every variant of ``from_source`` into ``to_source_id`` (one of them under another parent)."""
    sku, parent_id = parent_id_of_sku or ("", None)
    return _execute(
        f"INSERT INTO {VARIANT} (source_id, parent_id, {COPIED_COLUMNS}) "  # noqa: S608
        f"SELECT %s, CASE WHEN sku = %s THEN %s ELSE parent_id END, {COPIED_COLUMNS} FROM {VARIANT} "
        "WHERE source_id = %s",
        [to_source_id, sku, parent_id, from_source.pk],
    )


def variant_of_a_missing_source_is_refused_and_nothing_is_stored():
    with pytest.raises(IntegrityError), transaction.atomic():
        InventoryVariant.objects.create(source_id=MISSING_ID, sku="ORPHAN")
    assert not InventoryVariant.objects.filter(sku="ORPHAN").exists()


def variant_of_a_missing_parent_is_refused_and_nothing_is_stored():
    source = SourceFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        InventoryVariant.objects.create(source=source, parent_id=MISSING_ID, sku="ORPHAN")
    assert not InventoryVariant.objects.filter(source=source).exists()
    InventoryVariant.objects.create(source=source, parent=_parent(source), sku="CHILD")
    InventoryVariant.objects.create(source=source, parent=None, sku="NO-PARENT")
    assert InventoryVariant.objects.filter(source=source).count() == 2


def bulk_insert_with_one_missing_parent_or_source_stores_none_of_its_rows():
    first, second = SourceFactory(), SourceFactory()
    parent = _parent(first)
    InventoryVariant.objects.bulk_create(
        InventoryVariant(source=first, parent=parent, sku=f"SKU-{n:03d}") for n in range(200)
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        _copy_variants(from_source=first, to_source_id=second.pk, parent_id_of_sku=("SKU-137", MISSING_ID))
    with pytest.raises(IntegrityError), transaction.atomic():
        _copy_variants(from_source=first, to_source_id=MISSING_ID)
    with pytest.raises(IntegrityError), transaction.atomic():
        InventoryVariant.objects.bulk_create(
            [InventoryVariant(source=second, sku="OK-1"), InventoryVariant(source_id=MISSING_ID, sku="OK-2")]
        )
    assert not InventoryVariant.objects.filter(source=second).exists()
    assert not InventoryVariant.objects.filter(source_id=MISSING_ID).exists()
    assert _copy_variants(from_source=first, to_source_id=second.pk) == 200


def deleting_a_source_or_parent_that_variants_reference_is_refused():
    source = SourceFactory()
    parent = _parent(source)
    VariantFactory(source=source, parent=parent)
    _refused("DELETE FROM inventory_inventoryparent WHERE id = %s", [parent.pk])
    _refused("DELETE FROM sources_source WHERE id = %s", [source.pk])
    _refused("UPDATE inventory_inventoryparent SET id = %s WHERE id = %s", [MISSING_ID, parent.pk])
    _refused("UPDATE sources_source SET id = %s WHERE id = %s", [MISSING_ID, source.pk])
    assert Source.objects.filter(pk=source.pk).exists() and InventoryParent.objects.filter(pk=parent.pk).exists()
    assert _execute("UPDATE sources_source SET name = 'renamed' WHERE id = %s", [source.pk]) == 1


def deleting_a_source_or_parent_after_its_variants_works():
    source = SourceFactory()
    parent, other_parent = _parent(source), _parent(source, "P-2")
    VariantFactory(source=source, parent=parent)
    VariantFactory(source=source, parent=other_parent)
    assert _execute(f"DELETE FROM {VARIANT} WHERE parent_id = %s", [parent.pk]) == 1  # noqa: S608
    assert _execute("DELETE FROM inventory_inventoryparent WHERE id = %s", [parent.pk]) == 1
    # Django's collector knows the relations: it nulls the variants' parent, then deletes the parent, and deletes
    # the source's variants before the source.
    other_parent.delete()
    assert InventoryVariant.objects.get(source=source).parent_id is None
    _parent(source, "P-3")
    source.delete()
    assert not InventoryVariant.objects.filter(source_id=source.pk).exists()


def moving_a_variant_to_a_missing_source_or_parent_is_refused():
    source = SourceFactory()
    variant = VariantFactory(source=source, parent=_parent(source))
    with pytest.raises(IntegrityError), transaction.atomic():
        InventoryVariant.objects.filter(pk=variant.pk).update(source_id=MISSING_ID)
    with pytest.raises(IntegrityError), transaction.atomic():
        InventoryVariant.objects.filter(pk=variant.pk).update(parent_id=MISSING_ID)
    other = SourceFactory()
    InventoryVariant.objects.filter(pk=variant.pk).update(source=other, parent=_parent(other))
    variant.refresh_from_db()
    assert variant.source_id == other.pk and variant.parent.source_id == other.pk
    variant.title = "saved whole, source unchanged"
    variant.save()


def variant_of_a_missing_product_variant_is_refused_on_insert_and_update():
    source, product = SourceFactory(), ProductVariantFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        InventoryVariant.objects.create(source=source, product_variant_id=MISSING_ID, sku="ORPHAN")
    with pytest.raises(IntegrityError), transaction.atomic():
        InventoryVariant.objects.bulk_create(
            [
                InventoryVariant(source=source, sku="OK-1"),
                InventoryVariant(source=source, sku="OK-2", product_variant_id=MISSING_ID),
            ]
        )
    assert not InventoryVariant.objects.filter(source=source).exists()
    variant = VariantFactory(source=source, product_variant=product)
    with pytest.raises(IntegrityError), transaction.atomic():
        InventoryVariant.objects.filter(pk=variant.pk).update(product_variant_id=MISSING_ID)
    assert InventoryVariant.objects.filter(product_variant=None).update(product_variant=product) == 0
    assert _execute(f"UPDATE {VARIANT} SET product_variant_id = NULL WHERE id = %s", [variant.pk]) == 1  # noqa: S608
    assert InventoryVariant.objects.filter(pk=variant.pk).update(product_variant=product) == 1
    variant.refresh_from_db()
    variant.title = "saved whole, product variant unchanged"
    variant.save()


def deleting_a_product_variant_that_variants_reference_is_refused_unless_they_let_go():
    product, other = ProductVariantFactory(), ProductVariantFactory()
    variant = VariantFactory(product_variant=product)
    _refused("DELETE FROM inventory_productvariant WHERE id = %s", [product.pk])
    _refused("UPDATE inventory_productvariant SET id = %s WHERE id = %s", [MISSING_ID, product.pk])
    assert _execute("UPDATE inventory_productvariant SET title = 'renamed' WHERE id = %s", [product.pk]) == 1
    assert _execute("DELETE FROM inventory_productvariant WHERE id = %s", [other.pk]) == 1
    product.delete()  # Django's collector sets the variants' product variant to NULL first (SET_NULL)
    variant.refresh_from_db()
    assert variant.product_variant_id is None and not ProductVariant.objects.filter(pk=product.pk).exists()


SCENARIOS = [
    variant_of_a_missing_source_is_refused_and_nothing_is_stored,
    variant_of_a_missing_parent_is_refused_and_nothing_is_stored,
    bulk_insert_with_one_missing_parent_or_source_stores_none_of_its_rows,
    deleting_a_source_or_parent_that_variants_reference_is_refused,
    deleting_a_source_or_parent_after_its_variants_works,
    moving_a_variant_to_a_missing_source_or_parent_is_refused,
    variant_of_a_missing_product_variant_is_refused_on_insert_and_update,
    deleting_a_product_variant_that_variants_reference_is_refused_unless_they_let_go,
]


@pytest.mark.django_db
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda scenario: scenario.__name__)
def test_variant_references_on_postgresql(scenario):
    scenario()


@pytest.mark.django_db
def test_truncating_sources_or_parents_that_variants_reference_is_refused():
    source = SourceFactory()
    VariantFactory(source=source, parent=_parent(source))
    _execute("SET CONSTRAINTS ALL IMMEDIATE", [])  # TRUNCATE refuses a table with deferred checks pending
    _refused("TRUNCATE inventory_inventoryparent", [])
    _refused("TRUNCATE sources_source CASCADE", [])  # CASCADE follows foreign keys: the variants have none now
    _execute(f"TRUNCATE {VARIANT}, inventory_inventoryparent, sources_source CASCADE", [])  # as Django's flush does
    assert not Source.objects.exists()


@pytest.mark.django_db
def test_truncating_product_variants_that_variants_reference_is_refused():
    VariantFactory(product_variant=ProductVariantFactory())
    _execute("SET CONSTRAINTS ALL IMMEDIATE", [])
    _refused("TRUNCATE inventory_productvariant CASCADE", [])
    _execute(f"TRUNCATE {VARIANT}, inventory_productvariant CASCADE", [])
    assert not ProductVariant.objects.exists()


SQLITE_PROBE = """
from importlib import import_module
from django.db import connection, models, transaction
from inventory.models import InventoryParent, InventoryVariant, ProductVariant
from sources.models import Source
from tests.inventory.test_variant_integrity import SCENARIOS

def run_scenarios(stage):
    for scenario in SCENARIOS:
        try:
            with transaction.atomic():
                scenario()
                transaction.set_rollback(True)
            print("passed", stage, scenario.__name__)
        except BaseException as exc:
            print("failed", stage, scenario.__name__, repr(exc))

run_scenarios("migrated")
# What a later migration altering these tables does (see migration 0004): SQLite remakes each table.
integrity = import_module("inventory.migrations.0004_variant_integrity_triggers")
products = import_module("inventory.migrations.0007_variant_product_triggers")
for model, name in (
    (Source, "sku_prefix"), (InventoryParent, "title"), (ProductVariant, "title"), (InventoryVariant, "mpn")
):
    old = model._meta.get_field(name)
    new = models.CharField(max_length=old.max_length + 1, blank=True)
    new.set_attributes_from_name(name)
    new.model = model
    with connection.schema_editor() as editor:
        products.drop_triggers(None, editor)
        integrity.drop_triggers(None, editor)
        editor.alter_field(model, old, new)
        integrity.create_triggers(None, editor)
        products.create_triggers(None, editor)
run_scenarios("remade")
"""


@pytest.mark.slow
def test_variant_references_on_sqlite(tmp_path):
    """The same scenarios on the embedded mode's SQLite, migrated from scratch as `make run` does; and again after
    the four tables are remade the way migrations 0004 and 0007 tell a later migration to."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")}
    env.update({"DJANGO_SETTINGS_MODULE": "flxhub.settings.base", "FLXHUB_DATA_DIR": str(tmp_path / "data")})
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], cwd=REPO_ROOT, env=env, check=True, timeout=300)
    out = subprocess.run(
        [*manage, "shell", "-c", SQLITE_PROBE], cwd=REPO_ROOT, env=env, timeout=300, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    verdicts = [line.split(" ", 3)[:3] for line in out.stdout.splitlines() if line.startswith(("passed", "failed"))]
    assert verdicts == [
        ["passed", stage, scenario.__name__] for stage in ("migrated", "remade") for scenario in SCENARIOS
    ], out.stdout


# The race: two transactions on two connections, one inserting a variant of a source, one deleting that source.


def _wait_until_blocked(backend_pid: int) -> None:
    """Return once the backend waits for a lock another transaction holds (fail after 30 s)."""
    deadline = time.monotonic() + 30
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT cardinality(pg_blocking_pids(%s))", [backend_pid])
            if cursor.fetchone()[0]:
                return
            time.sleep(0.01)
    raise AssertionError(f"backend {backend_pid} never waited for a lock")


def _in_other_transaction(work) -> tuple[threading.Thread, dict]:
    """Run ``work()`` in a transaction on another connection (a thread); the dict gets its pid and its outcome."""
    outcome: dict = {}
    ready = threading.Event()

    def run():
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                outcome["pid"] = cursor.fetchone()[0]
            ready.set()
            with transaction.atomic():
                work()
            outcome["result"] = "done"
        except IntegrityError as exc:
            outcome["result"] = "refused"
            outcome["error"] = str(exc)
        finally:
            ready.set()
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    ready.wait(30)
    return thread, outcome


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("first_commits", [True, False], ids=["insert-commits", "insert-rolls-back"])
def test_source_delete_waits_for_a_concurrent_variant_insert(first_commits):
    """Insert first: the delete waits for the inserting transaction, then is refused if the variant was committed."""
    source = SourceFactory()
    with transaction.atomic():
        variant = VariantFactory(source=source)
        thread, outcome = _in_other_transaction(
            lambda: _execute("DELETE FROM sources_source WHERE id = %s", [source.pk])
        )
        _wait_until_blocked(outcome["pid"])
        transaction.set_rollback(not first_commits)
    thread.join(30)
    if first_commits:
        assert outcome["result"] == "refused" and f"key (id)=({source.pk})" in outcome["error"]
        assert Source.objects.filter(pk=source.pk).exists() and InventoryVariant.objects.filter(pk=variant.pk).exists()
    else:
        assert outcome["result"] == "done"
        assert not Source.objects.filter(pk=source.pk).exists() and not InventoryVariant.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("first_commits", [True, False], ids=["delete-commits", "delete-rolls-back"])
def test_variant_insert_waits_for_a_concurrent_source_delete(first_commits):
    """Delete first: the insert waits for the deleting transaction, then is refused if the source is gone."""
    source = SourceFactory()
    with transaction.atomic():
        _execute("DELETE FROM sources_source WHERE id = %s", [source.pk])
        thread, outcome = _in_other_transaction(
            lambda: InventoryVariant.objects.create(source_id=source.pk, sku="RACER")
        )
        _wait_until_blocked(outcome["pid"])
        transaction.set_rollback(not first_commits)
    thread.join(30)
    if first_commits:
        assert outcome["result"] == "refused" and f"key (source_id)=({source.pk})" in outcome["error"]
        assert not Source.objects.filter(pk=source.pk).exists() and not InventoryVariant.objects.exists()
    else:
        assert outcome["result"] == "done"
        assert InventoryVariant.objects.get(sku="RACER").source_id == source.pk


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("first_commits", [True, False], ids=["link-commits", "link-rolls-back"])
def test_product_variant_delete_waits_for_a_concurrent_link(first_commits):
    """Link first: the delete waits for the linking transaction, then is refused if the link was committed."""
    product, variant = ProductVariantFactory(), VariantFactory()
    with transaction.atomic():
        InventoryVariant.objects.filter(pk=variant.pk).update(product_variant=product)
        thread, outcome = _in_other_transaction(
            lambda: _execute("DELETE FROM inventory_productvariant WHERE id = %s", [product.pk])
        )
        _wait_until_blocked(outcome["pid"])
        transaction.set_rollback(not first_commits)
    thread.join(30)
    variant.refresh_from_db()
    if first_commits:
        assert outcome["result"] == "refused" and f"key (id)=({product.pk})" in outcome["error"]
        assert variant.product_variant_id == product.pk
    else:
        assert outcome["result"] == "done"
        assert not ProductVariant.objects.filter(pk=product.pk).exists() and variant.product_variant_id is None


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("first_commits", [True, False], ids=["delete-commits", "delete-rolls-back"])
def test_link_waits_for_a_concurrent_product_variant_delete(first_commits):
    """Delete first: the link waits for the deleting transaction, then is refused if the product variant is gone."""
    product, variant = ProductVariantFactory(), VariantFactory()
    with transaction.atomic():
        _execute("DELETE FROM inventory_productvariant WHERE id = %s", [product.pk])
        thread, outcome = _in_other_transaction(
            lambda: InventoryVariant.objects.filter(pk=variant.pk).update(product_variant_id=product.pk)
        )
        _wait_until_blocked(outcome["pid"])
        transaction.set_rollback(not first_commits)
    thread.join(30)
    variant.refresh_from_db()
    if first_commits:
        assert outcome["result"] == "refused" and f"key (product_variant_id)=({product.pk})" in outcome["error"]
        assert variant.product_variant_id is None
    else:
        assert outcome["result"] == "done" and variant.product_variant_id == product.pk
