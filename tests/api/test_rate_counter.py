"""The rate-limit counter: one Redis round trip that counts and expires, readable through Django's cache."""

import uuid

import pytest
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache

from flxhub.api.throttles import counter_incr, rate_limit_hit


def redis_client():
    backend = caches["default"]
    assert isinstance(backend, RedisCache), "the tests run on Redis, as production does"
    return backend, backend._cache.get_client(write=True)


def test_counter_counts_and_expires_with_its_window():
    key = f"test:counter:{uuid.uuid4().hex}"
    backend, client = redis_client()
    cache.delete(key)
    assert [counter_incr(key=key, timeout=120) for _ in range(3)] == [1, 2, 3]
    assert cache.get(key) == 3  # the same integer Django's cache API reads and writes
    assert 0 < client.ttl(backend.make_and_validate_key(key)) <= 120
    client.expire(backend.make_and_validate_key(key), 5)
    counter_incr(key=key, timeout=120)  # a later hit never pushes the window's expiry back
    assert client.ttl(backend.make_and_validate_key(key)) <= 5
    cache.delete(key)


@pytest.mark.parametrize("limit", [1, 2])
def test_rate_limit_hit_allows_up_to_the_limit_in_one_window(limit):
    bucket = f"test-{uuid.uuid4().hex}"
    now = 1_900_000_000.0
    states = [rate_limit_hit(bucket=bucket, limit=limit, now=now) for _ in range(limit + 1)]
    assert [state.allowed for state in states] == [True] * limit + [False]
    assert [state.remaining for state in states] == list(range(limit - 1, -1, -1)) + [0]
    assert rate_limit_hit(bucket=bucket, limit=limit, now=now + 60).allowed  # the next minute starts afresh
