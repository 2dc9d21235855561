"""Helpers that keep tests honest in every CI mode (one database, one per context, remote)."""

from __future__ import annotations

import json
from typing import Any

from django.db import connections
from django.db.models import QuerySet

from shop.kernel.problems import PROBLEM_CONTENT_TYPE
from shop.registry.models import InternalCallNonce, OutboxEvent
from shop.registry.router import alias_for_context


def outbox(context: str) -> QuerySet[OutboxEvent]:
    """The publisher's outbox lives on the publisher's database."""
    return OutboxEvent.objects.using(alias_for_context(context))


def connection_of(context: str) -> Any:
    """The connection a context's queries run on (for query-count assertions)."""
    return connections[alias_for_context(context)]


def method_queries(captured: Any) -> list[str]:
    """The statements a use case ran (from ``CaptureQueriesContext``), in every CI mode: with contexts
    bound remote in-process, the internal transport's own bookkeeping (the nonce that makes each
    signed call run once, ``shop.registry.replay``) runs on the same connection and is left out."""
    nonces = InternalCallNonce._meta.db_table
    return [q["sql"] for q in captured.captured_queries if nonces not in q["sql"]]


def assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    """What every client may rely on in an error: status, media type, and the RFC 9457 members."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM_CONTENT_TYPE
    body: dict[str, Any] = json.loads(response.content)
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"https://shop.example/problems/{code.replace('_', '-')}"
    assert isinstance(body["title"], str) and body["title"]
    return body
