"""A versioned read cache for storefront responses.

Every catalog write bumps one version number after its transaction commits; readers put the
version into their cache keys, so a write makes every older entry unreachable at once (no stale
price or availability, no key scans). A Redis outage degrades to database reads: the cache alias
ignores errors, and a missing version simply means "read from the database".

A bump that cannot reach Redis is remembered by the process and retried before its next cache
read, so entries cached before an outage are not served after it once this process touches the
cache again; in any case they expire after ``TTL_S``. A fresh version number starts from the clock,
so a version lost to a flush or an eviction is never reused while old entries may still exist.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from shop.registry.router import alias_for_context

T = TypeVar("T")

VERSION_KEY = "catalog:version"
TTL_S = 300
_missed_bump = False  # a committed write whose bump did not reach the cache (per process)


def _fresh_version() -> int:
    return time.time_ns() // 1_000_000


def catalog_version() -> int:
    """The current version, or 0 when the cache is unreachable (then: read from the database)."""
    if _missed_bump:
        _bump()
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, _fresh_version(), timeout=None)
        version = cache.get(VERSION_KEY) or 0
    return int(version)


def _bump() -> None:
    global _missed_bump  # noqa: PLW0603 -- one flag per process, by design
    try:
        bumped = cache.incr(VERSION_KEY) is not None  # None: the error was ignored, Redis is down
    except ValueError:  # no version (never set, flushed or evicted): start a fresh one
        cache.set(VERSION_KEY, _fresh_version(), timeout=None)
        bumped = cache.get(VERSION_KEY) is not None
    _missed_bump = not bumped


def invalidate_catalog() -> None:
    """Call inside any write of catalog data: the bump happens when (and only if) it commits."""
    transaction.on_commit(_bump, using=alias_for_context("catalog"))


def bypass_requested(headers: Mapping[str, str]) -> bool:
    """Benchmarks only: ``SHOP_CATALOG_CACHE_BYPASS_HEADER`` (unset everywhere but ``bench.settings``)
    names a request header that, set to ``1``, skips the cache, so the uncached read path can be
    measured in the same run. Unset, clients cannot force database reads."""
    header: str = getattr(settings, "SHOP_CATALOG_CACHE_BYPASS_HEADER", "")
    return bool(header) and headers.get(header) == "1"


def cached(key: str, build: Callable[[], T], *, ttl_s: int = TTL_S, bypass: bool = False) -> T:
    """``build()`` once per catalog version and key; a cache outage just calls ``build()``.

    Cache the serialized body, not model instances: a hit then costs two Redis GETs (version, entry)
    and no serializer work. ``build()`` returning ``None`` (e.g. "not found") is never cached.
    """
    if bypass:
        return build()
    version = catalog_version()
    if version <= 0:
        return build()
    full_key = f"catalog:v{version}:{hashlib.sha256(key.encode()).hexdigest()[:32]}"
    hit = cache.get(full_key)
    if hit is not None:
        return hit
    value = build()
    if value is not None:
        cache.set(full_key, value, ttl_s)
    return value
