"""Per-token rate limits: one bucket per token, refilled every minute, counted in the Django cache.

The cache is Redis in production (an atomic INCR shared by every web process) and the database cache in
the embedded mode. A token's ``rate_limit_per_minute`` overrides the default rate, which is
``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["token"]``. Every answer to a token request carries
``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` (seconds until the bucket
refills); a request over the limit gets 429 with ``Retry-After``.
"""

import math
import time
from dataclasses import dataclass

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

WINDOW_SECONDS = 60
DEFAULT_RATE = "600/min"


@dataclass(frozen=True)
class RateState:
    limit: int
    remaining: int
    reset_seconds: int
    allowed: bool

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_seconds),
        }


def default_limit_per_minute() -> int:
    rate = (api_settings.DEFAULT_THROTTLE_RATES or {}).get("token") or DEFAULT_RATE
    count, duration = SimpleRateThrottle.parse_rate(None, rate)
    return max(1, round(count * WINDOW_SECONDS / duration))


# INCR, and give a new counter its lifetime: one command, atomic in Redis.
_INCR_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""


def _incr_script(backend: RedisCache):
    """The counting script on the backend's Redis client, both built once per process.

    Django builds a new client (~170 response callbacks) for every command and has no scripting API; its
    client stores integers as plain Redis integers, so the counters stay readable with ``cache.get``. The
    connection pool is the backend's own (fork-safe). The script runs as EVALSHA (EVAL once if unknown).
    """
    script = getattr(backend, "_flx_incr_script", None)
    if script is None:
        client = backend._cache.get_client(write=True)
        script = backend._flx_incr_script = client.register_script(_INCR_SCRIPT)
    return script


def counter_incr(*, key: str, timeout: int) -> int:
    """Add one to the counter ``key`` (created to live ``timeout`` seconds) and return its new value.

    On Redis that is one command (a script doing INCR, then EXPIRE for a new key); Django's ``add`` +
    ``incr`` would take three round trips (SET NX, EXISTS, INCR). Other caches (the embedded mode's
    database cache) go through Django's API.
    """
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        return _incr_script(backend)(keys=[backend.make_and_validate_key(key)], args=[timeout])
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=timeout)
        return 1


def rate_limit_hit(*, bucket: str, limit: int, now: float | None = None) -> RateState:
    """Count one request against ``bucket`` in the current minute and say whether it is within ``limit``."""
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    count = counter_incr(key=f"flx:ratelimit:{bucket}:{window}", timeout=WINDOW_SECONDS * 2)
    reset = max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
    return RateState(limit=limit, remaining=max(0, limit - count), reset_seconds=reset, allowed=count <= limit)


class TokenRateThrottle(BaseThrottle):
    """DRF throttle over ``rate_limit_hit``; leaves the state on the request for the rate-limit headers."""

    def allow_request(self, request, view) -> bool:
        token = request.auth
        if token is None:
            return True
        limit = token.rate_limit_per_minute or default_limit_per_minute()
        self.state = rate_limit_hit(bucket=token.prefix, limit=limit)
        request.rate_limit = self.state
        return self.state.allowed

    def wait(self) -> float | None:
        return float(self.state.reset_seconds)
