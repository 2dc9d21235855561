"""Helpers that keep tests honest in every CI mode (one database, one per context, remote)."""

from __future__ import annotations

from typing import Any

from django.db import connections
from django.db.models import QuerySet

from shop.registry.models import OutboxEvent
from shop.registry.router import alias_for_context


def outbox(context: str) -> QuerySet[OutboxEvent]:
    """The publisher's outbox lives on the publisher's database."""
    return OutboxEvent.objects.using(alias_for_context(context))


def connection_of(context: str) -> Any:
    """The connection a context's queries run on (for query-count assertions)."""
    return connections[alias_for_context(context)]
