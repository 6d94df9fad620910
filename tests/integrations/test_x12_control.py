"""Persisted X12 control numbers: per partner and kind, never repeated, safe across concurrent connections."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from sources.models import X12ControlSequence
from sources.services.x12_control import DatabaseControlNumbers, x12_control_number_next


@pytest.mark.django_db
def test_numbers_count_up_per_partner_and_kind():
    numbers = DatabaseControlNumbers("ACME")
    assert [numbers.next("interchange") for _ in range(3)] == [1, 2, 3]
    assert numbers.next("group") == 1
    assert DatabaseControlNumbers("OTHER").next("interchange") == 1
    assert X12ControlSequence.objects.get(partner="ACME", kind="interchange").last_value == 3


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_get_the_same_number():
    def take(_):
        try:
            return [x12_control_number_next(partner="BUSY", kind="transaction") for _ in range(10)]
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=4) as pool:
        taken = [number for batch in pool.map(take, range(4)) for number in batch]
    assert sorted(taken) == list(range(1, 41))
