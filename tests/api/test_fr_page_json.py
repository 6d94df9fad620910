"""The FR page built as JSON by PostgreSQL is byte for byte the page the Python serializer path renders."""

import json
from dataclasses import asdict, replace
from datetime import UTC, datetime

import pytest
from django.db import connection
from rest_framework.renderers import JSONRenderer

from flxhub.api.pagination import HORIZON_SQL, cursor_decode, keyset_page
from orders.api import selectors
from orders.models import FRLine, FulfillmentRequest, Order
from orders.selectors.fr_api import PAGE_SQL, FRPoll, fr_page_json

pytestmark = pytest.mark.django_db
Status = FulfillmentRequest.Status

AWKWARD = 'Quote " back \\ newline \n tab \t bell \x07 del \x7f sep \u2028\u2029 é 日本 😀'


def python_page(poll: FRPoll, *, start, limit) -> bytes:
    poll = selectors.fr_filter(FulfillmentRequest.objects.all(), **asdict(poll))
    page = keyset_page(selectors.fr_values(poll), start=start, limit=limit)
    return JSONRenderer().render(page.envelope(selectors.fr_present_rows(page.rows)))


def test_sql_page_is_the_python_page_byte_for_byte_on_every_page(sent_fr, source):
    first, second, *_ = [sent_fr(2, 1) for _ in range(4)] + [sent_fr(3)]
    # A whole second (no fraction), escapes and non-ASCII text, a null and a large cost, a set timestamp.
    FulfillmentRequest.objects.filter(pk=first.pk).update(
        status_reason=AWKWARD, source_reference="SO-1", updated_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    )
    FulfillmentRequest.objects.filter(pk=second.pk).update(
        acknowledged_at=datetime(2026, 1, 2, 3, 4, 6, 120000, tzinfo=UTC), status="acknowledged"
    )
    FRLine.objects.filter(fulfillment_request=first).update(cost=None, title=AWKWARD)
    FRLine.objects.filter(fulfillment_request=second).update(cost="1234567.5")
    Order.objects.filter(pk=first.order_id).update(ship_name='Zoë "Q" O\'Brien', ship_address2="")
    poll = FRPoll(source_id=source.pk)

    start, pages = None, []
    while True:
        expected = python_page(poll, start=start, limit=2)
        assert fr_page_json(poll, start=start, limit=2) == expected
        page = json.loads(expected)
        pages.append([row["id"] for row in page["data"]])
        if not page["has_more"]:
            break
        start = cursor_decode(page["next_cursor"])
    assert [len(ids) for ids in pages] == [2, 2, 1]
    # A poll after the last page is empty and keeps the cursor.
    start = cursor_decode(page["next_cursor"])
    assert fr_page_json(poll, start=start, limit=2) == python_page(poll, start=start, limit=2)
    assert json.loads(fr_page_json(poll, start=start, limit=2))["data"] == []


def test_sql_page_of_nothing_without_a_start_has_no_cursor(source):
    poll = FRPoll(source_id=source.pk)
    assert fr_page_json(poll, start=None, limit=100) == b'{"data":[],"next_cursor":null,"has_more":false}'
    assert fr_page_json(poll, start=None, limit=100) == python_page(poll, start=None, limit=100)


@pytest.mark.parametrize(
    "poll",
    [
        FRPoll(),
        FRPoll(statuses=["processing", "acknowledged"]),
        FRPoll(statuses=["processed"], acknowledged=False),
        FRPoll(shipping_statuses=["awaiting_shipment"], acknowledged=True),
        FRPoll(since_id=0, numbers=["nope"]),
    ],
    ids=["all", "statuses", "status+unacknowledged", "shipping+acknowledged", "since_id+numbers"],
)
def test_sql_page_selects_what_the_orm_filters_select(sent_fr, source, other_source, poll):
    mine = [sent_fr(1), sent_fr(2, status=Status.PROCESSED), sent_fr(1, status=Status.ACKNOWLEDGED)]
    FulfillmentRequest.objects.filter(pk=mine[1].pk).update(source=other_source)
    if poll.numbers:
        poll = replace(poll, numbers=[mine[2].number, "nope"], since_id=mine[0].pk)
    found = []
    for scoped in (poll, replace(poll, source_id=source.pk), replace(poll, order_id=mine[0].order_id)):
        body = fr_page_json(scoped, start=None, limit=10)
        assert body == python_page(scoped, start=None, limit=10)
        found.append(len(json.loads(body)["data"]))
    assert found[0] >= 1  # every case selects something when not cut to one source or order


def test_the_endpoint_negotiates_as_before(api, tokens, sent_fr):
    fr = sent_fr()
    client = api(tokens.source)
    plain = client.get("/api/v1/fulfillment-requests", HTTP_ACCEPT="application/json")
    assert plain.status_code == 200 and plain["Content-Type"] == "application/json"
    assert client.get("/api/v1/fulfillment-requests").content == plain.content  # no Accept: */*
    indented = client.get("/api/v1/fulfillment-requests", HTTP_ACCEPT="application/json; indent=2")
    assert indented.status_code == 200 and b'\n  "data"' in indented.content
    assert json.loads(indented.content) == json.loads(plain.content)
    assert [row["id"] for row in json.loads(plain.content)["data"]] == [fr.pk]
    assert client.get("/api/v1/fulfillment-requests", HTTP_ACCEPT="text/html").status_code == 406
    assert client.get("/api/v1/fulfillment-requests?format=xml").status_code == 404


def test_the_hot_statements_are_prepared_once_per_connection_and_others_are_not(source, sent_fr):
    sent_fr()
    for _ in range(3):
        fr_page_json(FRPoll(source_id=source.pk), start=None, limit=10)
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    page_statement = PAGE_SQL.partition("{where}")[0]
    assert any(statement.startswith(page_statement) for statement in prepared)
    # The cursor horizon of the other lists is the only other statement prepared; the ORM's statements never are.
    assert all(statement.startswith((page_statement, HORIZON_SQL)) for statement in prepared)


@pytest.mark.django_db(transaction=True)
def test_a_poll_after_the_server_dropped_the_connection_reconnects_instead_of_failing():
    import psycopg
    from django.db import connection

    from flxhub.api.prepared import prepared_fetchall

    assert prepared_fetchall("SELECT %s::int", [1]) == [(1,)]
    pid = connection.connection.info.backend_pid
    settings = connection.settings_dict
    dsn = f"host={settings['HOST']} port={settings['PORT'] or 5432} user={settings['USER']} dbname={settings['NAME']}"
    with psycopg.connect(dsn, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])

    assert prepared_fetchall("SELECT %s::int", [2]) == [(2,)]
    assert connection.connection.info.backend_pid != pid
