"""What only the Stripe adapter does: speak Stripe's API (checked on the requests the fake saw) and
classify every kind of failure the SDK can raise."""

from __future__ import annotations

import socket
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from shop.kernel import Money
from shop.payments.adapters.gateways import get_gateway
from shop.payments.adapters.gateways.base import GatewayRejected, InvalidWebhook, TransientGatewayError
from tests.payments.gateways import stripe_fake
from tests.payments.gateways.conftest import StripeHarness
from tests.payments.gateways.stripe_fake import FakeStripe

AMOUNT = Money(Decimal("42.50"), "EUR")


def pay(token: str = stripe_fake.SUCCEEDS, *, key: str = "key-1", amount: Money = AMOUNT, return_url: str = "") -> Any:
    return get_gateway("stripe").create_payment(
        amount=amount,
        token=token,
        idempotency_key=key,
        metadata={"order_id": "7", "payment_id": "11"},
        return_url=return_url,
    )


def test_a_payment_is_a_confirmed_payment_intent(fake_stripe: FakeStripe, settings: Any) -> None:
    settings.SHOP_PUBLIC_URL = "https://shop.example"
    charge = pay(key="order-7-attempt-1", return_url="https://shop.example/orders/status/signed/")
    ((method, path, form, headers),) = fake_stripe.requests  # one request: the SDK never retries on its own
    assert (method, path) == ("POST", "/v1/payment_intents")
    assert form == {
        "amount": "4250",
        "currency": "eur",
        "payment_method": stripe_fake.SUCCEEDS,
        "confirm": "true",
        "return_url": "https://shop.example/orders/status/signed/",  # the caller's page for the order
        "metadata[order_id]": "7",
        "metadata[payment_id]": "11",
    }
    assert headers["Idempotency-Key"] == "order-7-attempt-1"
    assert headers["Authorization"] == f"Bearer {stripe_fake.API_KEY}"
    assert charge.raw["id"] == charge.reference and charge.raw["object"] == "payment_intent"


def test_without_a_return_url_the_customer_comes_back_to_the_public_start_page(
    fake_stripe: FakeStripe, settings: Any
) -> None:
    settings.SHOP_PUBLIC_URL = "http://127.0.0.1:8310"
    pay()
    assert fake_stripe.requests[0][2]["return_url"] == "http://127.0.0.1:8310/"


def test_amounts_travel_in_minor_units_of_their_currency(fake_stripe: FakeStripe) -> None:
    pay(amount=Money(Decimal("1500"), "JPY"))
    assert (fake_stripe.requests[0][2]["amount"], fake_stripe.requests[0][2]["currency"]) == ("1500", "jpy")


def test_a_decline_carries_the_intent_and_the_error_in_raw(fake_stripe: FakeStripe) -> None:
    charge = pay(stripe_fake.DECLINED)
    assert charge.raw["error"]["payment_intent"]["id"] == charge.reference
    assert charge.failure_message == "Your card was declined."


def test_a_transient_failure_is_not_retried_by_the_sdk(fake_stripe: FakeStripe) -> None:
    with pytest.raises(TransientGatewayError):
        pay(stripe_fake.UNAVAILABLE_ONCE)
    assert len(fake_stripe.requests) == 1


@pytest.mark.parametrize(
    ("status", "error_type", "code", "raised"),
    [
        (500, "api_error", None, TransientGatewayError),
        (502, "api_error", None, TransientGatewayError),
        (429, "invalid_request_error", "rate_limit", TransientGatewayError),
        (409, "idempotency_error", None, TransientGatewayError),  # same key still in flight
        (400, "invalid_request_error", "parameter_missing", GatewayRejected),
        (400, "idempotency_error", None, GatewayRejected),
        (401, "invalid_request_error", None, GatewayRejected),
        (403, "invalid_request_error", None, GatewayRejected),
        (404, "invalid_request_error", "resource_missing", GatewayRejected),
    ],
)
def test_errors_are_classified(
    fake_stripe: FakeStripe, status: int, error_type: str, code: str | None, raised: type[Exception]
) -> None:
    for call in ("create", "fetch", "refund"):
        fake_stripe.fail_next(status, error_type, code)
        gateway = get_gateway("stripe")
        with pytest.raises(raised):
            if call == "create":
                pay(key=f"k-{call}")
            elif call == "fetch":
                gateway.fetch_payment(reference="pi_123")
            else:
                gateway.refund(reference="pi_123", amount=AMOUNT, idempotency_key=f"k-{call}")


def test_a_wrong_api_key_is_rejected(fake_stripe: FakeStripe, settings: Any) -> None:
    settings.SHOP_STRIPE_SECRET_KEY = "sk_test_wrong"
    with pytest.raises(GatewayRejected):
        pay()


def test_an_unreachable_api_is_transient(fake_stripe: FakeStripe, settings: Any) -> None:
    with socket.socket() as probe:  # a port nobody listens on: connection refused, no network needed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.SHOP_STRIPE_API_BASE = f"http://127.0.0.1:{port}"
    with pytest.raises(TransientGatewayError):
        pay()


def test_a_slow_api_times_out_as_transient(fake_stripe: FakeStripe, settings: Any) -> None:
    settings.SHOP_GATEWAY_TIMEOUT_S = 0.2
    fake_stripe.delay_s = 0.6
    with pytest.raises(TransientGatewayError):
        pay()


def test_without_an_api_key_calls_fail_loudly_but_webhooks_still_work(
    stripe_harness: StripeHarness, settings: Any
) -> None:
    settings.SHOP_STRIPE_SECRET_KEY = ""
    gateway = get_gateway("stripe")
    with pytest.raises(ImproperlyConfigured):
        gateway.fetch_payment(reference="pi_123")
    body = stripe_harness.event(kind="payment.succeeded", reference="pi_123")
    assert gateway.parse_webhook(body=body, headers=stripe_harness.sign(body)).reference == "pi_123"


def test_without_a_webhook_secret_every_webhook_is_refused(stripe_harness: StripeHarness, settings: Any) -> None:
    body = stripe_harness.event(kind="payment.succeeded", reference="pi_123")
    headers = stripe_harness.sign(body, secret="")
    settings.SHOP_STRIPE_WEBHOOK_SECRET = ""
    with pytest.raises(InvalidWebhook):
        get_gateway("stripe").parse_webhook(body=body, headers=headers)


def test_a_canceled_intent_is_a_failed_charge(fake_stripe: FakeStripe) -> None:
    charge = pay(stripe_fake.PROCESSING)
    fake_stripe.intents[charge.reference].update(status="canceled", cancellation_reason="abandoned")
    fetched = get_gateway("stripe").fetch_payment(reference=charge.reference)
    assert (fetched.status, fetched.failure_code) == ("failed", "canceled")


def test_a_failed_authentication_reports_stripes_code(fake_stripe: FakeStripe) -> None:
    charge = pay(stripe_fake.REQUIRES_ACTION)
    fake_stripe.complete_action(charge.reference, approve=False)
    fetched = get_gateway("stripe").fetch_payment(reference=charge.reference)
    assert (fetched.status, fetched.failure_code) == ("failed", "payment_intent_authentication_failure")


def test_a_refund_event_for_a_charge_without_an_intent_is_other(stripe_harness: StripeHarness) -> None:
    body = stripe_harness.event(kind="payment.refunded", reference="pi_1", amount_refunded=AMOUNT)
    body = body.replace(b'"payment_intent": "pi_1"', b'"payment_intent": null')
    event = stripe_harness.gateway.parse_webhook(body=body, headers=stripe_harness.sign(body))
    assert (event.kind, event.amount_refunded) == ("other", None)


def test_an_empty_reference_is_rejected_before_calling_stripe(fake_stripe: FakeStripe) -> None:
    with pytest.raises(GatewayRejected):
        get_gateway("stripe").fetch_payment(reference="")
    assert fake_stripe.requests == []
