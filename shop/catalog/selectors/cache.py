"""A versioned read cache for storefront responses.

Every catalog write bumps one version number after its transaction commits; readers put the
version into their cache keys, so a write makes every older entry unreachable at once (no stale
price or availability, no key scans). A Redis outage degrades to database reads: the cache alias
ignores errors, and a missing version simply means "read from the database".
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache
from django.db import transaction

from shop.registry.router import alias_for_context

T = TypeVar("T")

VERSION_KEY = "catalog:version"
TTL_S = 300


def catalog_version() -> int:
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, 1, timeout=None)
        version = cache.get(VERSION_KEY) or 0
    return int(version)


def _bump() -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # no version yet (or the cache was flushed): start a new one
        cache.set(VERSION_KEY, 2, timeout=None)


def invalidate_catalog() -> None:
    """Call inside any write of catalog data: the bump happens when (and only if) it commits."""
    transaction.on_commit(_bump, using=alias_for_context("catalog"))


def cached(key: str, build: Callable[[], T], *, ttl_s: int = TTL_S) -> T:
    """``build()`` once per catalog version and key; a cache outage just calls ``build()``."""
    version = catalog_version()
    if version <= 0:
        return build()
    full_key = f"catalog:v{version}:{hashlib.sha256(key.encode()).hexdigest()[:32]}"
    hit = cache.get(full_key)
    if hit is not None:
        return hit  # type: ignore[no-any-return]
    value = build()
    cache.set(full_key, value, ttl_s)
    return value
