"""Helpers that keep tests honest in every CI mode (one database, one per context, remote)."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from typing import Any

from django.db import connections
from django.db.models import QuerySet
from django.test import Client

from shop.kernel.problems import PROBLEM_CONTENT_TYPE
from shop.registry.models import InternalCallNonce, OutboxEvent, ScheduledRetry
from shop.registry.router import alias_for_context


def outbox(context: str) -> QuerySet[OutboxEvent]:
    """The publisher's outbox lives on the publisher's database."""
    return OutboxEvent.objects.using(alias_for_context(context))


def scheduled_retries(context: str) -> QuerySet[ScheduledRetry]:
    """The durable tasks' pending retries kept on ``context``'s database."""
    return ScheduledRetry.objects.using(alias_for_context(context)).filter(context=context)


def run_retries(*, rounds: int = 1) -> int:
    """What the retry sweep does over ``rounds`` backoff periods, without the wait: every pending retry
    is made due, then ``shop.registry.retry_due`` runs (on every database). Returns how many ran."""
    from django.utils import timezone

    from shop.registry.bus.tasks import retry_due

    ran = 0
    for _ in range(rounds):
        for alias in connections:
            ScheduledRetry.objects.using(alias).update(next_attempt_at=timezone.now())
        ran += int(retry_due.apply(throw=True).get())
    return ran


def connection_of(context: str) -> Any:
    """The connection a context's queries run on (for query-count assertions)."""
    return connections[alias_for_context(context)]


def method_queries(captured: Any) -> list[str]:
    """The statements a use case ran (from ``CaptureQueriesContext``), in every CI mode: with contexts
    bound remote in-process, the internal transport's own bookkeeping (the nonce that makes each
    signed call run once, ``shop.registry.transport.replay``) runs on the same connection and is left out."""
    nonces = InternalCallNonce._meta.db_table
    return [q["sql"] for q in captured.captured_queries if nonces not in q["sql"]]


def assert_problem(response: Any, status: int, code: str, *, resource: str | None = None) -> dict[str, Any]:
    """What every client may rely on in an error: status, media type, and the RFC 9457 members (and,
    for ``not_found``, the ``resource`` that was not found)."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM_CONTENT_TYPE
    body: dict[str, Any] = json.loads(response.content)
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"https://shop.example/problems/{code.replace('_', '-')}"
    assert isinstance(body["title"], str) and body["title"]
    if resource is not None:
        assert body.get("resource") == resource, body
    return body


# --- the admin kit's pages, driven like a browser submits a plain HTML form -------------------------
class _KitForm(HTMLParser):
    """The named inputs of the admin kit's form (``#kit-form``): what a browser would submit."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = False
        self.fields: list[tuple[str, str]] = []
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "form" and found.get("id") == "kit-form":
            self.inside = True
        if not self.inside or "name" not in found:
            return
        if tag == "input" and found.get("type") not in ("submit", "checkbox", "radio"):
            self.fields.append((found["name"], found.get("value", "")))
        elif tag == "input" and "checked" in found:
            self.fields.append((found["name"], found.get("value", "on")))
        elif tag == "textarea":
            self._textarea = found["name"]
            self.fields.append((found["name"], ""))
        elif tag == "select":
            self.fields.append((found["name"], ""))  # the tests give select values explicitly

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            name, text = self.fields[-1]
            self.fields[-1] = (name, text + data.strip("\n"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "form":
            self.inside = False


def kit_fields(response: Any) -> dict[str, list[str]]:
    """The fields the page's kit form would send (fails when the page has no kit form)."""
    parser = _KitForm()
    parser.feed(response.content.decode())
    assert parser.fields, "no admin kit form on this page"
    fields: dict[str, list[str]] = {}
    for name, value in parser.fields:
        fields.setdefault(name, []).append(value)
    return fields


def submit_kit_form(client: Client, url: str, response: Any, **values: str) -> Any:
    """Submit the kit form ``response`` shows, to ``url``, with ``values`` typed into its inputs."""
    fields = kit_fields(response)
    for name, value in values.items():
        fields[name] = [value]
    return client.post(url, fields)


# The data migrations a shop is migrated with (module, function): pricing's tax classes, EU VAT rates, the
# rest-of-world rate and the standard shipping method.
MIGRATED_DATA = (
    ("shop.pricing.migrations.0002_tax_classes_and_eu_vat_rates", "seed"),
    ("shop.pricing.migrations.0003_worldwide_shipping_method", "create"),
    ("shop.pricing.migrations.0004_elsewhere_standard_rate", "create"),
)


def restore_migrated_data() -> None:
    """Put back the rows the data migrations wrote, after a transactional test flushed every table
    (each migration function is idempotent, so a freshly migrated database is left as it is)."""
    import importlib
    from types import SimpleNamespace

    from django.apps import apps

    from shop.registry.router import alias_for_app

    editor = SimpleNamespace(connection=connections[alias_for_app("pricing")])
    for module, function in MIGRATED_DATA:
        getattr(importlib.import_module(module), function)(apps, editor)
