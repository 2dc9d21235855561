"""Each signed internal call runs once: its nonce is remembered until its signature expires.

Kept in the database of the context the call is for (a registry table on every database), not in
the cache: every process that serves the context shares that database in every topology (the
embedded default on SQLite, one PostgreSQL, one per context), one ``INSERT … ON CONFLICT DO
NOTHING`` on the primary key decides concurrent replays atomically, and it adds no dependency the
call does not already have (when that database is down the method could not run either, so the
call fails closed at no extra cost). Redis would be faster, but while it is down (or with the
embedded default's local-memory cache, one per process) the check would have to fail closed,
taking every cross-context call down with a cache blip, or fail open, which is no protection.
Expired nonces are deleted by ``purge`` (celery beat, per database), never in a request.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db import connections
from django.utils import timezone

from shop.registry.models import InternalCallNonce
from shop.registry.router import alias_for_context
from shop.registry.transport.signing import WINDOW_SECONDS

CLOCK_SLACK = timedelta(seconds=60)  # servers' clocks differ a little: keep nonces that much longer
_INSERT = "INSERT INTO {table} (nonce, expires_at) VALUES (%s, %s) ON CONFLICT DO NOTHING"


def first_use(*, context: str, nonce: str, timestamp: int) -> bool:
    """Record the nonce of a verified call for ``context``; False when it was already used.

    One statement, no savepoint: safe inside a caller's transaction, and no error that would abort it."""
    connection = connections[alias_for_context(context)]
    expires_at = datetime.fromtimestamp(timestamp + WINDOW_SECONDS, tz=UTC) + CLOCK_SLACK
    with connection.cursor() as cursor:
        cursor.execute(
            _INSERT.format(table=connection.ops.quote_name(InternalCallNonce._meta.db_table)),
            [nonce, connection.ops.adapt_datetimefield_value(expires_at)],
        )
        return cursor.rowcount == 1


def purge(*, alias: str) -> int:
    """Delete the nonces whose signatures can no longer be accepted; returns how many."""
    deleted, _ = InternalCallNonce.objects.using(alias).filter(expires_at__lt=timezone.now()).delete()
    return deleted
