"""Query-string serializers reuse their fields between requests and still validate each request on its own."""

import threading

import pytest
from rest_framework import serializers

from flxhub.api.fields import ListQuery
from flxhub.exceptions import ValidationFailed
from orders.api.fulfillment_requests import FRFilters, FRListQuery


def validate(serializer_class, data):
    serializer = serializer_class(data=data)
    return serializer.is_valid(), serializer


def test_repeated_validation_gives_each_request_its_own_answer():
    ok, bad = validate(FRListQuery, {"status": "bogus", "limit": "0"})
    assert not ok and set(bad.errors) == {"status", "limit"}
    ok, good = validate(FRListQuery, {"status": "processing,processed", "limit": "5"})
    assert ok and good.validated_data == {"status": ["processing", "processed"], "limit": 5}
    assert good.fields["status"].parent is good and good.fields["status"].source == "status"
    ok, count = validate(FRFilters, {"acknowledged": "false"})
    assert ok and count.validated_data == {"acknowledged": False}
    ok, bad = validate(FRListQuery, {"numbers": ""})
    assert not ok and list(bad.errors) == ["numbers"]


def test_threads_validate_with_fields_of_their_own():
    results = []

    def poll(status):
        results.append(validate(FRListQuery, {"status": status})[1].validated_data["status"])

    threads = [threading.Thread(target=poll, args=(status,)) for status in ("processing", "processed")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [["processed"], ["processing"]]


@pytest.mark.parametrize(
    "query",
    [
        {"cursor": "MjAyNi0wMS0wMlQwMzowNDowNSswMDowMHwxMg", "limit": "100"},
        {"cursor": "abc"},
        {"limit": "7"},
        {"limit": "007"},
        {},
        # Not plain: the fields read (or refuse) them.
        {"cursor": " abc "},
        {"cursor": ""},
        {"cursor": "   "},
        {"cursor": "a" * 201},
        {"cursor": "a\x00b"},
        {"cursor": "é"},
        {"limit": "0"},
        {"limit": "501"},
        {"limit": "100.0"},
        {"limit": " 5"},
        {"limit": "+5"},
        {"limit": "1_0"},
        {"limit": "٣"},
        {"limit": "9" * 20},
        {"limit": ""},
        {"cursor": "abc", "limit": "10", "status": "processing"},
        {"cursor": "abc", "updated_after": "2026-01-02T03:04:05Z"},
    ],
)
def test_a_paging_only_query_validates_as_its_fields_do(query):
    fast, fields = FRListQuery(data=query), FRListQuery(data=query)
    fields._plain_paging = lambda: None  # always through the fields
    assert fast.is_valid() == fields.is_valid()
    assert fast.errors == fields.errors
    if not fast.errors:
        assert fast.validated_data == fields.validated_data
        assert paging(fast) == paging(fields)


def paging(query):
    try:
        return query.start(), query.limit_value()
    except ValidationFailed as exc:
        return exc.code


def test_a_poll_after_its_first_page_is_read_without_the_fields():
    query = FRListQuery(data={"cursor": "abc", "limit": "100"})
    assert query._plain_paging() == {"cursor": "abc", "limit": 100}
    assert query.is_valid() and "fields" not in vars(query)  # DRF never bound its fields


def test_a_query_class_that_checks_more_is_always_validated_by_its_fields():
    class Checked(ListQuery):
        def validate(self, attrs):
            raise serializers.ValidationError("no")

    class Required(ListQuery):
        source = serializers.IntegerField()

    for query_class in (Checked, Required):
        query = query_class(data={"limit": "5"})
        assert not query.is_valid() and query.errors
