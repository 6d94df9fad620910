"""Query-string serializers reuse their fields between requests and still validate each request on its own."""

import threading

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
