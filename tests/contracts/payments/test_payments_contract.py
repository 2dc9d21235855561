"""The ``PaymentsAPI`` contract, run against the local service and over HTTP (fixture ``binding``):
what orders sees of a payment (status, Money amounts, reasons) and which errors it gets do not
depend on the binding."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shop.kernel import Money, ValidationFailed
from shop.payments.api import (
    AlreadyPaid,
    IdempotencyKeyReused,
    InvalidPaymentToken,
    NotRefundable,
    Payment,
    PaymentInProgress,
    PaymentNotFound,
    PaymentsAPI,
    Refund,
    RefundTooLarge,
)
from shop.payments.services import PaymentsService
from tests.contracts.kit import assert_implements

EUR = "EUR"


def eur(amount: str) -> Money:
    return Money(Decimal(amount), EUR)


def _implementations_satisfy_the_protocol() -> None:
    """Never called: mypy checks this assignment, so a signature drifting from ``PaymentsAPI`` fails CI."""
    impl: PaymentsAPI = PaymentsService()
    del impl


def test_implementations_have_the_protocols_signatures() -> None:
    assert_implements(PaymentsAPI, PaymentsService)


def start(api_: PaymentsAPI, token: str = "tok_success", key: str = "k1", order_id: int = 10) -> Payment:
    return api_.start_payment(order_id=order_id, customer_id=7, amount=eur("42.50"), token=token, idempotency_key=key)


def test_a_successful_charge_round_trips_the_dto(payments_api: PaymentsAPI) -> None:
    got = start(payments_api)
    assert type(got) is Payment
    assert (got.order_id, got.customer_id, got.status, got.gateway, got.attempts) == (
        10,
        7,
        "succeeded",
        "simulated",
        1,
    )
    assert (got.amount, got.refunded) == (eur("42.50"), eur("0.00"))
    assert type(got.amount.amount) is Decimal
    assert payments_api.get_payment(payment_id=got.id) == got
    assert payments_api.payment_for_order(order_id=10) == got
    assert payments_api.payment_for_order(order_id=11) is None


def test_the_same_key_is_the_same_payment_and_a_new_key_a_new_attempt(payments_api: PaymentsAPI) -> None:
    declined = start(payments_api, token="tok_decline", key="a")
    assert (declined.status, declined.failure_code) == ("failed", "card_declined")
    assert start(payments_api, token="tok_decline", key="a") == declined
    paid = start(payments_api, token="tok_success", key="b")
    assert (paid.id, paid.status, paid.attempts) == (declined.id, "succeeded", 2)
    with pytest.raises(AlreadyPaid):
        start(payments_api, key="c")
    with pytest.raises(IdempotencyKeyReused):
        payments_api.start_payment(
            order_id=99, customer_id=7, amount=eur("1.00"), token="tok_success", idempotency_key="a"
        )


def test_in_progress_and_bad_tokens(payments_api: PaymentsAPI) -> None:
    waiting = start(payments_api, token="tok_requires_action", key="x")
    assert waiting.status == "requires_action" and waiting.next_action_url
    with pytest.raises(PaymentInProgress) as busy:
        start(payments_api, key="y")
    assert busy.value.extra["payment_status"] == "requires_action"
    with pytest.raises(InvalidPaymentToken):
        start(payments_api, token="4242 4242 4242 4242", key="z", order_id=12)
    with pytest.raises(PaymentNotFound):
        payments_api.get_payment(payment_id=987654)


def test_refunds(payments_api: PaymentsAPI) -> None:
    paid = start(payments_api)
    part = payments_api.refund(payment_id=paid.id, amount=eur("2.50"), reason="damaged", idempotency_key="r1")
    assert (part.status, part.refunded) == ("partially_refunded", eur("2.50"))
    assert payments_api.refund(payment_id=paid.id, amount=eur("2.50"), reason="damaged", idempotency_key="r1") == part
    with pytest.raises(RefundTooLarge) as too_large:
        payments_api.refund(payment_id=paid.id, amount=eur("40.01"), reason="x", idempotency_key="r2")
    assert too_large.value.extra["refundable"] == "40.00"
    full = payments_api.refund(payment_id=paid.id, amount=None, reason="return", idempotency_key="r3")
    assert (full.status, full.refunded) == ("refunded", eur("42.50"))
    with pytest.raises(NotRefundable):
        payments_api.refund(payment_id=paid.id, amount=None, reason="again", idempotency_key="r4")


def test_payments_and_refunds_of_orders_for_staff_pages(payments_api: PaymentsAPI) -> None:
    """What orders shows staff: the payments of a page of orders in one call, and an order's refunds."""
    paid = payments_api.start_payment(
        order_id=20,
        customer_id=7,
        amount=eur("42.50"),
        token="tok_success",
        idempotency_key="p20",
        order_number="SO-AAAA-0020",
    )
    declined = start(payments_api, token="tok_decline", key="p21", order_id=21)
    found = payments_api.payments_for_orders(order_ids=[21, 20, 99])
    assert [(p.order_id, p.status) for p in found] == [(20, "succeeded"), (21, "failed")]
    assert all(type(p) is Payment for p in found) and found[0] == payments_api.get_payment(payment_id=paid.id)
    assert payments_api.payments_for_orders(order_ids=[]) == []
    with pytest.raises(ValidationFailed):
        payments_api.payments_for_orders(order_ids=list(range(1, 202)))

    assert payments_api.refunds_for_order(order_id=20) == []
    payments_api.refund(payment_id=paid.id, amount=eur("2.50"), reason="dent", idempotency_key="r20")
    payments_api.refund(payment_id=paid.id, amount=None, reason="return", idempotency_key="r21")
    refunds = payments_api.refunds_for_order(order_id=20)
    assert [(type(r), r.payment_id, r.amount, r.outcome) for r in refunds] == [
        (Refund, paid.id, eur("2.50"), "succeeded"),
        (Refund, paid.id, eur("40.00"), "succeeded"),
    ]
    assert refunds[0].created_at <= refunds[1].created_at
    assert payments_api.refunds_for_order(order_id=declined.order_id) == []
    assert payments_api.refunds_for_order(order_id=12345) == []
