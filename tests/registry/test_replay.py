"""A signed internal call runs once. The adversarial run replayed a captured, correctly signed
``cart.add_line`` ten times inside its 300 s window and got a quantity of 10; now every replay is
refused (401 ``replayed_call``), concurrent replays included, while the client's own retries (each
with a fresh nonce) still go through. Nonces live in the called context's database (real PostgreSQL)."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from django.conf import settings
from django.db import connections
from django.test import Client

from shop.cart.models import CartLine
from shop.registry.models import InternalCallNonce
from shop.registry.router import alias_for_context
from shop.registry.transport import signing
from shop.registry.transport.inprocess import InProcessWSGIApp
from shop.registry.transport.tasks import purge_internal_nonces
from shop.users.api import UsersAPI
from tests.catalog.factories import VariantFactory
from tests.contracts.kit import remote
from tests.factories import UserFactory
from tests.helpers import assert_problem

ADD_LINE = "/internal/cart/add_line"
GET_USER = "/internal/users/get_user"


def _signed(path: str, body: bytes, **options: Any) -> dict[str, str]:
    return signing.signed_headers(secret=settings.SHOP_INTERNAL_SECRET, method="POST", path=path, body=body, **options)


def _send(path: str, body: bytes, headers: dict[str, str]) -> Any:
    return Client().post(path, data=body, content_type="application/json", headers=headers)


@pytest.mark.django_db
def test_a_replayed_add_line_is_refused_and_adds_nothing() -> None:
    user, variant = UserFactory.create(), VariantFactory.create()
    body = json.dumps({"owner": {"user_id": user.pk}, "sku": variant.sku, "quantity": 1}).encode()
    headers = _signed(ADD_LINE, body)

    first = _send(ADD_LINE, body, headers)
    replays = [_send(ADD_LINE, body, headers) for _ in range(9)]

    assert first.status_code == 200, first.content
    for replay in replays:
        assert_problem(replay, 401, "replayed_call")
        assert signing.DOMAIN_ERROR_HEADER not in replay  # a refusal, not a business answer
    assert CartLine.objects.get(cart__user_id=user.pk).quantity == 1


@pytest.mark.django_db
def test_the_same_call_signed_again_is_a_new_call() -> None:
    """Only a replay is refused: the same arguments with a new nonce (a client's next call) run."""
    user = UserFactory.create()
    body = json.dumps({"user_id": user.pk}).encode()
    assert _send(GET_USER, body, _signed(GET_USER, body)).status_code == 200
    assert _send(GET_USER, body, _signed(GET_USER, body)).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({signing.NONCE_HEADER: None}, id="no-nonce"),
        pytest.param({signing.NONCE_HEADER: "0" * 32}, id="nonce-swapped"),
        pytest.param({signing.NONCE_HEADER: "not-hex-and-not-32-long"}, id="garbage-nonce"),
    ],
)
def test_the_nonce_is_required_and_signed(headers: dict[str, str | None]) -> None:
    body = b'{"user_id": 1}'
    sent = _signed(GET_USER, body)
    for name, value in headers.items():
        if value is None:
            sent.pop(name)
        else:
            sent[name] = value
    assert_problem(_send(GET_USER, body, sent), 401, "bad_signature")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_replays_run_the_call_once() -> None:
    user, variant = UserFactory.create(), VariantFactory.create()
    body = json.dumps({"owner": {"user_id": user.pk}, "sku": variant.sku, "quantity": 1}).encode()
    headers = _signed(ADD_LINE, body)
    start = threading.Barrier(8)
    statuses: list[int] = []

    def replay() -> None:
        try:
            start.wait(timeout=10)
            statuses.append(_send(ADD_LINE, body, headers).status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=replay) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(statuses) == [200] + [401] * 7
    assert CartLine.objects.get(cart__user_id=user.pk).quantity == 1


class LosesTheFirstAnswer(httpx.BaseTransport):
    """The first request reaches the server and runs there, then its answer is lost (a read timeout):
    the client's retry of the idempotent method must not be taken for a replay."""

    def __init__(self) -> None:
        self.inner = httpx.WSGITransport(app=InProcessWSGIApp())
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        response = self.inner.handle_request(request)
        if len(self.requests) == 1:
            raise httpx.ReadTimeout("answer lost", request=request)
        return response


@pytest.mark.django_db
def test_a_client_retry_after_a_lost_answer_is_not_a_replay() -> None:
    user = UserFactory.create()
    transport = LosesTheFirstAnswer()
    users: Any = remote(UsersAPI, urls=["http://testserver"], transport=transport)

    assert users.get_user(user_id=user.pk).email == user.email
    nonces = [request.headers[signing.NONCE_HEADER] for request in transport.requests]
    assert len(nonces) == 2 and nonces[0] != nonces[1]


@pytest.mark.django_db
def test_nonces_are_kept_for_the_window_then_purged() -> None:
    alias = alias_for_context("users")
    user = UserFactory.create()
    body = json.dumps({"user_id": user.pk}).encode()
    old = _signed(GET_USER, body, now=time.time() - signing.WINDOW_SECONDS + 5)  # still valid, just
    assert _send(GET_USER, body, old).status_code == 200
    fresh = _signed(GET_USER, body)
    assert _send(GET_USER, body, fresh).status_code == 200
    kept = InternalCallNonce.objects.using(alias)
    assert set(kept.values_list("nonce", flat=True)) >= {old[signing.NONCE_HEADER], fresh[signing.NONCE_HEADER]}
    # The old signature stops being accepted at its timestamp + window; its nonce lives a little longer.
    assert kept.get(nonce=old[signing.NONCE_HEADER]).expires_at <= datetime.now(UTC) + timedelta(seconds=66)

    kept.filter(nonce=old[signing.NONCE_HEADER]).update(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    assert purge_internal_nonces(context="users") == 1
    assert list(kept.values_list("nonce", flat=True)) == [fresh[signing.NONCE_HEADER]]
