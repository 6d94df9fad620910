"""FR documents (``orders.services.fr_documents``): kept equal to the FR as rendered now, whatever writes it."""

import threading
import time

import pytest
from django.db import connection, transaction

from orders.models import FRDocument, FRLine, FulfillmentRequest, Order
from orders.selectors.fr_api import DOCUMENT_VERSION, FRPoll, document_select, fr_page_json
from orders.services.fr_documents import documents_install

from .test_fr_page_json import python_page

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="documents are kept on PostgreSQL only")


def rendered_now(fr_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(document_select("ANY(%s)"), [[fr_id]])
        ((_, _, body),) = cursor.fetchall()
    return body


def stored(fr_id: int) -> FRDocument:
    return FRDocument.objects.get(pk=fr_id)


def assert_current(fr_id: int) -> None:
    document = stored(fr_id)
    fr = FulfillmentRequest.objects.get(pk=fr_id)
    assert (document.body, document.updated_at, document.version) == (
        rendered_now(fr_id),
        fr.updated_at,
        DOCUMENT_VERSION,
    )


@pytest.mark.django_db
def test_a_new_fr_has_its_document_with_its_lines(sent_fr):
    fr = sent_fr(2, 1)
    assert_current(fr.pk)
    assert stored(fr.pk).body.count('"sku":') == 2


@pytest.mark.django_db
def test_every_write_that_shows_in_the_document_renders_it_again(sent_fr):
    fr = sent_fr(2, 1)
    first_line = fr.lines.order_by("pk").first()

    FRLine.objects.filter(pk=first_line.pk).update(title="Renamed", acknowledged_quantity=2)  # the FR is untouched
    assert '"title":"Renamed"' in stored(fr.pk).body
    assert_current(fr.pk)

    Order.objects.filter(pk=fr.order_id).update(ship_city="Shelbyville", customer_phone="555-0199")
    assert '"city":"Shelbyville"' in stored(fr.pk).body
    assert_current(fr.pk)

    FulfillmentRequest.objects.filter(pk=fr.pk).update(status_reason="Checked")
    assert_current(fr.pk)

    FRLine.objects.filter(pk=first_line.pk).delete()
    assert stored(fr.pk).body.count('"sku":') == 1
    assert_current(fr.pk)


@pytest.mark.django_db
def test_an_order_change_outside_the_ship_to_leaves_the_documents_alone(sent_fr):
    fr = sent_fr()
    with connection.cursor() as cursor:
        cursor.execute("SELECT xmin::text FROM orders_frdocument WHERE fulfillment_request_id = %s", [fr.pk])
        (before,) = cursor.fetchone()
        Order.objects.filter(pk=fr.order_id).update(status="shipped")
        cursor.execute("SELECT xmin::text FROM orders_frdocument WHERE fulfillment_request_id = %s", [fr.pk])
        assert cursor.fetchone() == (before,)


@pytest.mark.django_db
def test_a_deleted_fr_takes_its_document_with_it(sent_fr):
    fr, kept = sent_fr(), sent_fr()
    fr.delete()
    assert list(FRDocument.objects.values_list("pk", flat=True)) == [kept.pk]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "spoil",
    [
        lambda documents: documents.delete(),
        lambda documents: documents.update(version="older"),
        lambda documents: documents.update(body='{"stale":true}', updated_at="2001-01-01T00:00:00Z"),
    ],
    ids=["missing", "another-version", "stale"],
)
def test_the_page_renders_an_fr_whose_document_it_cannot_use(sent_fr, source, spoil, django_assert_num_queries):
    frs = [sent_fr() for _ in range(3)]
    spoil(FRDocument.objects.filter(pk=frs[1].pk))
    poll = FRPoll(source_id=source.pk)
    with django_assert_num_queries(2):  # the page, then the one FR rendered now
        page = fr_page_json(poll, start=None, limit=10)
    assert page == python_page(poll, start=None, limit=10)
    assert b'"stale"' not in page


@pytest.mark.django_db
def test_a_page_of_stored_documents_is_one_statement(sent_fr, source, django_assert_num_queries):
    for _ in range(3):
        sent_fr()
    poll = FRPoll(source_id=source.pk)
    with django_assert_num_queries(1):
        page = fr_page_json(poll, start=None, limit=10)
    assert page == python_page(poll, start=None, limit=10)


@pytest.mark.django_db
def test_install_renders_what_is_missing_or_stale_and_is_idempotent(sent_fr):
    frs = [sent_fr() for _ in range(3)]
    FRDocument.objects.filter(pk=frs[0].pk).delete()
    FRDocument.objects.filter(pk=frs[1].pk).update(version="older")
    assert documents_install() == 2
    for fr in frs:
        assert_current(fr.pk)
    assert documents_install() == 0


@pytest.mark.django_db(transaction=True)
def test_two_transactions_changing_different_lines_of_one_fr_leave_both_changes_in_its_document(sent_fr):
    """Without the trigger's lock the second render, made before the first commits, would lose the first's line."""
    fr = sent_fr(2, 1)
    first, second = fr.lines.order_by("pk")
    first_done, release = threading.Event(), threading.Event()
    errors = []

    def change_first():
        try:
            with transaction.atomic():
                FRLine.objects.filter(pk=first.pk).update(title="First")
                first_done.set()
                release.wait(10)
        except Exception as exc:  # asserted below
            errors.append(exc)
        finally:
            connection.close()

    def change_second():
        try:
            with transaction.atomic():
                FRLine.objects.filter(pk=second.pk).update(title="Second")
        except Exception as exc:  # asserted below
            errors.append(exc)
        finally:
            connection.close()

    one = threading.Thread(target=change_first)
    one.start()
    assert first_done.wait(10)
    two = threading.Thread(target=change_second)
    two.start()
    waiting = False
    for _ in range(200):  # until the second waits for the first's lock
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                waiting = True
                break
        time.sleep(0.02)
    release.set()
    one.join(10)
    two.join(10)
    assert errors == []
    assert waiting
    body = stored(fr.pk).body
    assert '"title":"First"' in body and '"title":"Second"' in body
    assert_current(fr.pk)
