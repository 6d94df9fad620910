"""The FR page built as JSON by PostgreSQL is byte for byte the page the Python serializer path renders."""

import json
from datetime import UTC, datetime

import pytest
from rest_framework.renderers import JSONRenderer

from flxhub.api.pagination import cursor_decode, keyset_page
from orders.api import selectors
from orders.models import FRLine, FulfillmentRequest, Order
from orders.selectors.fr_api import fr_page_json

pytestmark = pytest.mark.django_db

AWKWARD = 'Quote " back \\ newline \n tab \t bell \x07 del \x7f sep \u2028\u2029 é 日本 😀'


def python_page(queryset, *, start, limit) -> bytes:
    page = keyset_page(selectors.fr_values(queryset), start=start, limit=limit)
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
    queryset = FulfillmentRequest.objects.filter(source=source)

    start, pages = None, []
    while True:
        expected = python_page(queryset, start=start, limit=2)
        assert fr_page_json(queryset, start=start, limit=2) == expected
        page = json.loads(expected)
        pages.append([row["id"] for row in page["data"]])
        if not page["has_more"]:
            break
        start = cursor_decode(page["next_cursor"])
    assert [len(ids) for ids in pages] == [2, 2, 1]
    # A poll after the last page is empty and keeps the cursor.
    start = cursor_decode(page["next_cursor"])
    assert fr_page_json(queryset, start=start, limit=2) == python_page(queryset, start=start, limit=2)
    assert json.loads(fr_page_json(queryset, start=start, limit=2))["data"] == []


def test_sql_page_of_nothing_without_a_start_has_no_cursor(source):
    queryset = FulfillmentRequest.objects.filter(source=source)
    assert fr_page_json(queryset, start=None, limit=100) == b'{"data":[],"next_cursor":null,"has_more":false}'
    assert fr_page_json(queryset, start=None, limit=100) == python_page(queryset, start=None, limit=100)
