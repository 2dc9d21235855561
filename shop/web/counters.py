"""Rate counters for the throttles: fixed windows anchored at their first hit.

With Redis configured, a hit is one round trip (a Lua ``INCRBY`` that sets the expiry when it
creates the key) shared by every process. When Redis errors (down, timing out) or no Redis is
configured, counters live in a bounded per-process memory store instead, so limits keep holding
during an outage, per process (N processes allow up to N times the rate). After an error Redis is
left alone for ``REDIS_RETRY_AFTER_S`` so a dead cache costs one timeout, not one per request.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from redis.commands.core import Script
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

REDIS_RETRY_AFTER_S = 5.0
LOCAL_MAX_KEYS = 50_000

# KEYS[1] counter, ARGV[1] window in ms, ARGV[2] increment (0 = read). Never leaves a key without expiry.
_HIT = """
local count = redis.call('INCRBY', KEYS[1], ARGV[2])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
"""


@dataclass(frozen=True, slots=True)
class Count:
    """Hits in the current window (this one included) and the seconds until the window ends."""

    hits: int
    resets_in: float


class LocalCounters:
    """The per-process store: a dict bounded at ``max_keys`` (expired windows go first, then the
    oldest), guarded by one lock. Also the store of the embedded default (local-memory cache)."""

    def __init__(self, max_keys: int = LOCAL_MAX_KEYS) -> None:
        self.max_keys = max_keys
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[float, int]] = {}  # key -> (window ends at, hits)

    def hit(self, key: str, *, window_s: float, amount: int = 1) -> Count:
        now = time.monotonic()
        with self._lock:
            ends, hits = self._windows.get(key, (0.0, 0))
            if ends <= now:
                if key not in self._windows and len(self._windows) >= self.max_keys:
                    self._evict(now)
                ends, hits = now + window_s, 0
            hits += amount
            self._windows[key] = (ends, hits)
        return Count(hits=hits, resets_in=ends - now)

    def _evict(self, now: float) -> None:
        for key in [k for k, (ends, _) in self._windows.items() if ends <= now]:
            del self._windows[key]
        if len(self._windows) >= self.max_keys:  # all still live: drop the oldest tenth
            for key in list(itertools.islice(self._windows, max(1, self.max_keys // 10))):
                del self._windows[key]

    def clear(self) -> None:
        with self._lock:
            self._windows.clear()


class RedisCounters:
    """The shared store: the default cache's Redis, keys prefixed and versioned like cache keys."""

    def __init__(self) -> None:
        self._down_until = 0.0
        self._script: Script | None = None

    @property
    def available(self) -> bool:
        return time.monotonic() >= self._down_until

    def reset(self) -> None:
        self._down_until = 0.0

    def hit(self, key: str, *, window_s: float, amount: int = 1) -> Count:
        from django_redis import get_redis_connection

        try:
            client = get_redis_connection("default")
            if self._script is None:
                self._script = client.register_script(_HIT)  # EVALSHA, loading the script once per server
            hits, ttl_ms = self._script(
                keys=[str(cache.make_key(key))], args=[max(1, int(window_s * 1000)), amount], client=client
            )
        except (RedisError, OSError):
            self._down_until = time.monotonic() + REDIS_RETRY_AFTER_S
            logger.warning("throttle counters: Redis unavailable, counting in this process for now", exc_info=True)
            raise
        return Count(hits=int(hits), resets_in=int(ttl_ms) / 1000)


local = LocalCounters()
shared = RedisCounters()


def _uses_redis() -> bool:
    backend: str = settings.CACHES["default"]["BACKEND"]
    return backend.startswith("django_redis.")


def hit(key: str, *, window_s: float, amount: int = 1) -> Count:
    """Count ``amount`` hits on ``key`` (0 reads the count) in a window of ``window_s`` seconds."""
    if _uses_redis() and shared.available:
        try:
            return shared.hit(key, window_s=window_s, amount=amount)
        except (RedisError, OSError):
            pass
    return local.hit(key, window_s=window_s, amount=amount)
