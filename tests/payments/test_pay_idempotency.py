"""Paying follows checkout's Idempotency-Key rule (``orders.services.idempotency``): required, one
answer per key replayed as often as asked, the same key with another order or token refused (422),
a twin sent while the first is being answered told so (409), and a refused request does not use its
key up. And an order past its payment window is expired and refused the moment it is paid."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from shop.catalog.models import Stock
from shop.kernel import DomainError
from shop.orders.api import IdempotencyKeyInUse
from shop.orders.models import Order, PayRequest
from shop.orders.services import idempotency
from shop.orders.services import pay as pay_service
from shop.payments.adapters.gateways.simulated import SimulatedGateway
from shop.payments.models import Payment, Transaction
from shop.users.models import User
from tests.helpers import assert_problem
from tests.payments.conftest import pay

pytestmark = pytest.mark.django_db(transaction=True)  # events are relayed on commit, as in production

OrderFor = Callable[..., tuple[Order, APIClient]]


def charges() -> int:
    return Transaction.objects.filter(kind="charge").count()


def status_of(order: Order) -> str:
    order.refresh_from_db()
    return order.status


def test_the_key_is_required_printable_and_bounded_like_checkouts(order_for: OrderFor) -> None:
    order, client = order_for()
    url = f"/api/v1/orders/{order.pk}/pay/"
    for headers in (
        {},
        {"HTTP_IDEMPOTENCY_KEY": "  "},
        {"HTTP_IDEMPOTENCY_KEY": "k" * 256},
        {"HTTP_IDEMPOTENCY_KEY": "a\tb"},
    ):
        assert_problem(
            client.post(url, {"token": "tok_success"}, format="json", **headers), 400, "idempotency_key_required"
        )
    assert pay(client, order, "tok_success", key="k" * 255).status_code == 200  # 255 is fine, as at checkout
    assert charges() == 1


def test_the_same_key_and_token_get_the_same_answer_and_one_charge(order_for: OrderFor) -> None:
    order, client = order_for()
    first = pay(client, order, "tok_success", key="once")
    again = pay(client, order, "tok_success", key="once")
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json() and first.json()["status"] == "paid"
    assert charges() == 1 and Payment.objects.get().attempts == 1


def test_the_same_key_with_another_token_is_refused_and_charges_nothing(order_for: OrderFor) -> None:
    order, client = order_for()
    declined = pay(client, order, "tok_decline", key="attempt-1")
    assert declined.json()["payment"]["status"] == "failed"

    reused = pay(client, order, "tok_success", key="attempt-1")  # was 200 (a replay) before: issue 12 #15

    assert_problem(reused, 422, "idempotency_key_reused")
    assert status_of(order) == "pending_payment"
    assert charges() == 1 and Payment.objects.get().attempts == 1
    assert pay(client, order, "tok_success", key="attempt-2").json()["status"] == "paid"  # a new key: a new attempt


def test_the_same_key_for_another_order_is_refused(order_for: OrderFor) -> None:
    order, client = order_for()
    other, _ = order_for(User.objects.get(pk=order.customer_id))
    assert pay(client, order, "tok_success", key="mine").status_code == 200
    assert_problem(pay(client, other, "tok_success", key="mine"), 422, "idempotency_key_reused")
    assert status_of(other) == "pending_payment" and charges() == 1


def test_a_twin_sent_while_the_first_is_being_answered_is_told_so(
    order_for: OrderFor, monkeypatch: pytest.MonkeyPatch
) -> None:
    order, client = order_for()
    twins: list[Any] = []
    real_create = SimulatedGateway.create_payment

    def create_while_a_twin_arrives(self: SimulatedGateway, **kwargs: Any) -> Any:
        # The customer double-clicked: the same request arrives while payments is asking the gateway.
        # (Called as the service, not over HTTP: a nested test-client request inside the in-process
        # transport would close the outer request's connection, a harness artefact.)
        try:
            pay_service.pay(
                customer_id=order.customer_id, order_id=order.pk, idempotency_key="busy", token="tok_success"
            )
        except DomainError as exc:
            twins.append(exc)
        return real_create(self, **kwargs)

    monkeypatch.setattr(SimulatedGateway, "create_payment", create_while_a_twin_arrives)
    first = pay(client, order, "tok_success", key="busy")

    assert first.status_code == 200 and first.json()["status"] == "paid"
    (twin,) = twins
    assert type(twin) is IdempotencyKeyInUse and (twin.code, twin.status) == ("idempotency_key_in_use", 409)
    monkeypatch.undo()
    assert pay(client, order, "tok_success", key="busy").json() == first.json()  # once answered: the answer
    assert charges() == 1


def test_a_claim_left_by_a_request_that_died_is_taken_over_after_its_lease(order_for: OrderFor) -> None:
    order, client = order_for()
    PayRequest.objects.create(
        order=order,
        customer_id=order.customer_id,
        idempotency_key="died",
        request_fingerprint=idempotency.fingerprint({"order_id": order.pk, "token": "tok_success"}),
        claimed_at=timezone.now(),
    )
    assert_problem(pay(client, order, "tok_success", key="died"), 409, "idempotency_key_in_use")  # within the lease
    PayRequest.objects.filter(idempotency_key="died").update(claimed_at=timezone.now() - timedelta(minutes=5))

    taken_over = pay(client, order, "tok_success", key="died")

    assert taken_over.status_code == 200 and taken_over.json()["status"] == "paid"
    assert PayRequest.objects.get(idempotency_key="died").finished_at is not None and charges() == 1


def test_a_refused_request_does_not_use_its_key_up(order_for: OrderFor) -> None:
    order, client = order_for()
    assert_problem(pay(client, order, "4242 4242 4242 4242", key="fix-me"), 400, "invalid_payment_token")
    assert not PayRequest.objects.exists()
    assert pay(client, order, "tok_success", key="fix-me").json()["status"] == "paid"  # corrected, same key


def test_an_overdue_order_is_expired_and_refused_when_it_is_paid_whatever_the_scheduler_did(
    order_for: OrderFor,
) -> None:
    order, client = order_for()
    Order.objects.filter(pk=order.pk).update(payment_due_by=timezone.now() - timedelta(seconds=1))
    sku = order.lines.get().sku
    assert Stock.objects.get(variant__sku=sku).reserved == 2  # the expiry job has not run

    late = pay(client, order, "tok_success", key=str(uuid.uuid4()))

    body = assert_problem(late, 409, "order_expired")
    assert order.number in body["detail"]
    order.refresh_from_db()
    assert order.status == "cancelled"
    expired = order.history.order_by("at", "id").last()
    assert expired is not None and (expired.actor, expired.note) == ("system", "Not paid in time.")
    assert Stock.objects.get(variant__sku=sku).reserved == 0  # its stock went back then and there
    assert not Payment.objects.exists() and charges() == 0  # payments was never asked
    assert_problem(pay(client, order, "tok_success", key=str(uuid.uuid4())), 409, "order_expired")  # and stays so


def test_an_order_within_its_window_is_paid_as_usual(order_for: OrderFor) -> None:
    order, client = order_for()
    Order.objects.filter(pk=order.pk).update(payment_due_by=timezone.now() + timedelta(seconds=30))
    assert pay(client, order, "tok_success").json()["status"] == "paid"
