"""Each simulated token, end to end as the customer sees it: order → pay → (webhook) → the order
is paid, or still payable with a clear reason. Nothing is ever stuck."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from shop.catalog.models import Stock
from shop.orders.models import Order
from shop.payments.adapters.gateways import get_gateway
from shop.payments.models import Payment, Transaction
from shop.payments.services import webhooks
from tests.helpers import assert_problem
from tests.payments.conftest import pay

pytestmark = pytest.mark.django_db(transaction=True)  # events are relayed on commit, as in production

OrderFor = Callable[..., tuple[Order, APIClient]]
JSON_FORM = "/api/v1/payments/simulated/authenticate/"


def stock_of(order: Order) -> tuple[int, int]:
    row = Stock.objects.get(variant__sku=order.lines.get().sku)
    return row.on_hand, row.reserved


def status_of(order: Order) -> str:
    order.refresh_from_db()
    return order.status


def test_tok_success_pays_the_order_and_sells_the_stock(order_for: OrderFor) -> None:
    order, client = order_for()
    response = pay(client, order, "tok_success")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "paid"
    assert body["payment"]["status"] == "succeeded"
    assert body["payment"]["amount"] == body["total"]
    assert stock_of(order) == (8, 0)
    assert [h["to_status"] for h in client.get(f"/api/v1/orders/{order.pk}/").json()["history"]] == [
        "pending_payment",
        "paid",
    ]


@pytest.mark.parametrize(
    ("token", "code"), [("tok_decline", "card_declined"), ("tok_insufficient_funds", "insufficient_funds")]
)
def test_a_decline_leaves_the_order_payable_with_a_reason(order_for: OrderFor, token: str, code: str) -> None:
    order, client = order_for()
    body = pay(client, order, token).json()
    assert body["status"] == "pending_payment"
    assert (body["payment"]["status"], body["payment"]["failure_code"]) == ("failed", code)
    assert body["payment"]["failure_message"]
    assert stock_of(order) == (10, 2)  # still held for the customer
    # A new attempt with another card, on the same payment.
    again = pay(client, order, "tok_success").json()
    assert (again["status"], again["payment"]["status"], again["payment"]["attempts"]) == ("paid", "succeeded", 2)
    assert Payment.objects.count() == 1


def test_requires_action_waits_for_the_customer_then_the_webhook_pays(order_for: OrderFor) -> None:
    order, client = order_for()
    body = pay(client, order, "tok_requires_action").json()
    assert (body["status"], body["payment"]["status"]) == ("pending_payment", "requires_action")
    reference = Payment.objects.get().gateway_reference
    assert body["payment"]["next_action_url"].endswith(f"/payments/authenticate/{reference}/")  # the bank's page

    # Its JSON form (for scripts); the page itself is covered in test_authentication_page.py.
    approved = APIClient().post(f"{JSON_FORM}{reference}/", {"approve": True}, format="json")

    assert approved.status_code == 200, approved.content
    assert status_of(order) == "paid"
    assert Payment.objects.get().status == "succeeded"


def test_a_failed_3ds_check_leaves_the_order_payable(order_for: OrderFor) -> None:
    order, client = order_for()
    pay(client, order, "tok_requires_action")
    reference = Payment.objects.get().gateway_reference
    APIClient().post(f"{JSON_FORM}{reference}/", {"approve": False}, format="json")
    payment = Payment.objects.get()
    assert (payment.status, payment.failure_code) == ("failed", "authentication_failed")
    assert status_of(order) == "pending_payment"


def test_a_delayed_success_arrives_by_webhook(order_for: OrderFor) -> None:
    order, client = order_for()
    body = pay(client, order, "tok_delayed_success").json()
    assert (body["status"], body["payment"]["status"]) == ("pending_payment", "pending")
    payment = Payment.objects.get()
    raw, headers = get_gateway("simulated").settle(reference=payment.gateway_reference, succeed=True)  # type: ignore[attr-defined]
    response = APIClient().post(
        "/api/v1/payments/webhooks/simulated/",
        data=raw,
        content_type="application/json",
        **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()},
    )
    assert response.status_code == 200, response.content
    assert status_of(order) == "paid"


def test_a_timeout_is_retried_within_the_bound_and_succeeds(order_for: OrderFor, settings: Any) -> None:
    settings.SHOP_SIMULATED_GATEWAY_TIMEOUTS = 1
    settings.SHOP_GATEWAY_MAX_ATTEMPTS = 3
    order, client = order_for()
    body = pay(client, order, "tok_timeout").json()
    assert (body["status"], body["payment"]["status"]) == ("paid", "succeeded")
    ledger = list(Transaction.objects.filter(kind="charge").values_list("outcome", flat=True))
    assert ledger == ["error", "succeeded"]


def test_timeouts_past_the_bound_end_failed_with_a_reason_never_stuck(order_for: OrderFor, settings: Any) -> None:
    settings.SHOP_SIMULATED_GATEWAY_TIMEOUTS = 99
    settings.SHOP_GATEWAY_MAX_ATTEMPTS = 3
    order, client = order_for()
    body = pay(client, order, "tok_timeout").json()
    assert (body["payment"]["status"], body["payment"]["failure_code"]) == ("failed", "gateway_unavailable")
    assert body["status"] == "pending_payment"
    assert Transaction.objects.filter(kind="charge", outcome="error").count() == 3
    assert pay(client, order, "tok_success").json()["status"] == "paid"  # the customer can try again


def test_bad_pay_requests_are_problems_and_change_nothing(order_for: OrderFor) -> None:
    order, client = order_for()
    assert_problem(
        client.post(f"/api/v1/orders/{order.pk}/pay/", {"token": "tok_success"}, format="json"),
        400,
        "idempotency_key_required",
    )
    assert_problem(pay(client, order, "tok_success", card_number="4242424242424242"), 400, "validation_error")
    assert_problem(pay(client, order, "tok_success", amount="0.01"), 400, "validation_error")
    assert_problem(pay(client, order, "4242 4242 4242 4242"), 400, "invalid_payment_token")
    assert Payment.objects.filter(status="succeeded").count() == 0
    assert status_of(order) == "pending_payment"


def test_a_paid_order_cannot_be_paid_again_but_a_retry_is_answered(order_for: OrderFor) -> None:
    order, client = order_for()
    first = pay(client, order, "tok_success", key="pay-once")
    retry = pay(client, order, "tok_success", key="pay-once")  # e.g. the first answer was lost on the way
    assert (retry.status_code, retry.json()["status"]) == (200, "paid")
    assert retry.json()["payment"] == first.json()["payment"]
    assert_problem(pay(client, order, "tok_success", key="pay-twice"), 409, "already_paid")
    lifecycle_fulfilled = client.get(f"/api/v1/orders/{order.pk}/").json()["status"]
    assert lifecycle_fulfilled == "paid"
    assert Transaction.objects.filter(kind="charge", outcome="succeeded").count() == 1


def test_the_same_key_twice_is_one_charge(order_for: OrderFor) -> None:
    order, client = order_for()
    first = pay(client, order, "tok_decline", key="pay-1").json()
    again = pay(client, order, "tok_decline", key="pay-1").json()
    assert first["payment"] == again["payment"]
    assert Transaction.objects.filter(kind="charge").count() == 1


def test_customers_only_see_their_own_payments(order_for: OrderFor) -> None:
    order, alice = order_for()
    _, bob = order_for()
    payment_id = pay(alice, order, "tok_success").json()["payment"]["id"]
    assert alice.get(f"/api/v1/payments/{payment_id}/").json()["status"] == "succeeded"
    assert_problem(bob.get(f"/api/v1/payments/{payment_id}/"), 404, "not_found", resource="payment")
    assert_problem(
        bob.post(f"/api/v1/orders/{order.pk}/pay/", {"token": "tok_success"}, format="json", HTTP_IDEMPOTENCY_KEY="x"),
        404,
        "not_found",
        resource="order",
    )


def test_no_card_data_field_exists_anywhere() -> None:
    from django.apps import apps

    suspicious = ("card", "pan", "cvc", "cvv", "expiry", "exp_month", "exp_year")
    fields = [f"{m._meta.label}.{f.name}" for m in apps.get_models() for f in m._meta.get_fields()]
    assert not [f for f in fields if any(word in f.rsplit(".", 1)[1].lower() for word in suspicious)]


def test_webhook_processing_is_idempotent(order_for: OrderFor) -> None:
    order, client = order_for()
    pay(client, order, "tok_delayed_success")
    payment = Payment.objects.get()
    raw, headers = get_gateway("simulated").settle(reference=payment.gateway_reference, succeed=True)  # type: ignore[attr-defined]
    first = webhooks.ingest(gateway_name="simulated", body=raw, headers=headers)
    second = webhooks.ingest(gateway_name="simulated", body=raw, headers=headers)
    assert (first.duplicate, second.duplicate) == (False, True)
    assert status_of(order) == "paid"
    assert order.history.filter(to_status="paid").count() == 1
