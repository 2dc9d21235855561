"""The Stripe adapter: PaymentIntents, Refunds and signed webhooks over the official SDK.

The SDK's own retries are off (``max_network_retries=0``): the caller owns retries, backoff and
the circuit breaker, and must see every failure classified: ``TransientGatewayError`` when the
same call (with the same idempotency key) may succeed later, ``GatewayRejected`` when it will not.
A declined card is neither: Stripe answers 402, and that is a ``failed`` Charge.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, Literal

import stripe
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from shop.kernel import Money
from shop.payments.adapters.gateways.base import (
    Charge,
    GatewayError,
    GatewayRejected,
    InvalidWebhook,
    Refund,
    TransientGatewayError,
    WebhookEvent,
)
from shop.web.links import absolute_url

SIGNATURE_HEADER = "Stripe-Signature"
_REFUND_STATUSES: dict[str, Literal["succeeded", "pending", "failed"]] = {
    "succeeded": "succeeded",
    "pending": "pending",
    "requires_action": "pending",
    "failed": "failed",
    "canceled": "failed",
}


@functools.lru_cache(maxsize=8)
def _client_for(*, api_key: str, api_base: str, timeout: float) -> stripe.StripeClient:
    """One client per configuration: it keeps its HTTP connections alive between payments, and a
    changed setting (``override_settings`` in tests) simply gets its own."""
    return stripe.StripeClient(
        api_key=api_key,
        base_addresses={"api": api_base},
        max_network_retries=0,
        http_client=stripe.RequestsClient(timeout=timeout),
    )


class StripeGateway:
    """The ``Gateway`` port over Stripe; reads its settings when constructed.

    Constructing never fails: a deployment that only receives Stripe webhooks needs no API key, and
    an API call without one raises ``ImproperlyConfigured`` (a loud 500, never a customer-facing
    "rejected").
    """

    name: str = "stripe"

    def __init__(self) -> None:
        self._api_key: str = settings.SHOP_STRIPE_SECRET_KEY
        self._api_base = settings.SHOP_STRIPE_API_BASE.rstrip("/")
        self._timeout = float(settings.SHOP_GATEWAY_TIMEOUT_S)
        self._webhook_secret: str = settings.SHOP_STRIPE_WEBHOOK_SECRET
        self._tolerance = int(settings.SHOP_WEBHOOK_TOLERANCE_S)

    @property
    def _api(self) -> stripe.StripeClient:
        if not self._api_key:
            raise ImproperlyConfigured("SHOP_PAYMENT_GATEWAY=stripe needs SHOP_STRIPE_SECRET_KEY")
        return _client_for(api_key=self._api_key, api_base=self._api_base, timeout=self._timeout)

    def create_payment(
        self,
        *,
        amount: Money,
        token: str,
        idempotency_key: str,
        metadata: Mapping[str, str],
        return_url: str = "",
    ) -> Charge:
        if not token:
            raise GatewayRejected("A payment method id is required.")
        if not idempotency_key:
            raise GatewayRejected("An idempotency key is required.")
        try:
            intent = self._api.v1.payment_intents.create(
                params={
                    "amount": amount.minor,
                    "currency": amount.currency.lower(),
                    "payment_method": token,
                    "confirm": True,
                    "return_url": return_url or absolute_url("/"),
                    "metadata": dict(metadata),
                },
                options={"idempotency_key": idempotency_key},
            )
        except stripe.CardError as exc:
            return _declined(exc)
        except stripe.StripeError as exc:
            raise _translate(exc) from exc
        return _to_charge(intent.to_dict(for_json=True))

    def fetch_payment(self, *, reference: str) -> Charge:
        if not reference:  # an empty id would address the list endpoint instead of one intent
            raise GatewayRejected("A payment reference is required.")
        try:
            intent = self._api.v1.payment_intents.retrieve(reference)
        except stripe.StripeError as exc:
            raise _translate(exc) from exc
        return _to_charge(intent.to_dict(for_json=True))

    def refund(self, *, reference: str, amount: Money, idempotency_key: str) -> Refund:
        if not reference or not idempotency_key:
            raise GatewayRejected("A payment reference and an idempotency key are required.")
        try:
            refund = self._api.v1.refunds.create(
                params={"payment_intent": reference, "amount": amount.minor},
                options={"idempotency_key": idempotency_key},
            ).to_dict(for_json=True)
        except stripe.StripeError as exc:
            raise _translate(exc) from exc
        return Refund(
            reference=refund["id"],
            status=_REFUND_STATUSES.get(refund.get("status") or "", "pending"),
            amount=Money.from_minor(refund["amount"], refund["currency"]),
            raw=refund,
        )

    def parse_webhook(self, *, body: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        if not self._webhook_secret:  # Stripe redelivers what we refused for days: nothing is lost
            raise InvalidWebhook("Stripe webhooks are not configured (SHOP_STRIPE_WEBHOOK_SECRET is empty).")
        try:
            event = stripe.Webhook.construct_event(
                body, _header(headers, SIGNATURE_HEADER), self._webhook_secret, tolerance=self._tolerance
            )
            payload = event.to_dict(for_json=True)
        except stripe.SignatureVerificationError as exc:
            raise InvalidWebhook(f"Stripe webhook rejected: {exc.user_message}") from exc
        except (ValueError, TypeError, KeyError, AttributeError) as exc:  # UnicodeDecodeError is a ValueError
            raise InvalidWebhook("The Stripe webhook body is unreadable.") from exc
        try:
            return _to_event(payload)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InvalidWebhook("The Stripe webhook event is malformed.") from exc


def _translate(exc: stripe.StripeError) -> GatewayError:
    """Stripe's error classes and HTTP statuses to the port's two errors."""
    message = f"Stripe: {exc.user_message or type(exc).__name__}"
    if isinstance(exc, stripe.APIConnectionError | stripe.RateLimitError):
        return TransientGatewayError(message)
    if isinstance(
        exc, stripe.InvalidRequestError | stripe.AuthenticationError | stripe.PermissionError | stripe.IdempotencyError
    ):
        return GatewayRejected(message)
    status = exc.http_status
    # None: no answer at all; 409: a concurrent request with the same key is still running;
    # 5xx (and a 2xx whose body was unreadable): the outcome is unknown, so the key is replayed.
    if status is None or status == 409 or not 400 <= status < 500:
        return TransientGatewayError(message)
    return GatewayRejected(message)


def _declined(exc: stripe.CardError) -> Charge:
    """A 402: Stripe created the intent and the card was refused; the intent rides in the error."""
    body = exc.json_body if isinstance(exc.json_body, dict) else {}
    error = _dict(body.get("error"))
    intent = _dict(error.get("payment_intent"))
    return Charge(
        reference=intent.get("id") or "",
        status="failed",
        failure_code=error.get("decline_code") or error.get("code") or exc.code or "card_declined",
        failure_message=error.get("message") or exc.user_message or "The card was declined.",
        raw=body,
    )


def _to_charge(intent: dict[str, Any]) -> Charge:
    status = intent.get("status")
    if status == "succeeded":
        return Charge(reference=intent["id"], status="succeeded", raw=intent)
    if status == "requires_action":
        return Charge(reference=intent["id"], status="requires_action", next_action_url=_action_url(intent), raw=intent)
    if status in ("requires_payment_method", "canceled"):
        code, message = _failure(intent)
        return Charge(reference=intent["id"], status="failed", failure_code=code, failure_message=message, raw=intent)
    # processing, and the states a confirmed intent only passes through (requires_confirmation,
    # requires_capture): not final; the webhook or a later fetch tells.
    return Charge(reference=intent["id"], status="pending", raw=intent)


def _action_url(intent: dict[str, Any]) -> str:
    """Server-side confirmation with a return_url yields ``redirect_to_url``; ``use_stripe_sdk``
    (only when a client SDK confirms) has no URL: the client finishes it with the client secret."""
    next_action = _dict(intent.get("next_action"))
    return str(_dict(next_action.get("redirect_to_url")).get("url") or "")


def _failure(intent: dict[str, Any]) -> tuple[str, str]:
    error = _dict(intent.get("last_payment_error"))
    if intent.get("status") == "canceled" and not error:
        reason = intent.get("cancellation_reason") or "canceled"
        return "canceled", f"The payment was canceled ({reason})."
    code = error.get("decline_code") or error.get("code") or "payment_failed"
    return str(code), str(error.get("message") or "The payment failed.")


def _to_event(payload: dict[str, Any]) -> WebhookEvent:
    event_id, kind, obj = payload["id"], payload["type"], _dict(payload["data"]["object"])
    if kind == "payment_intent.succeeded":
        return WebhookEvent(event_id=event_id, kind="payment.succeeded", reference=obj["id"], raw=payload)
    if kind == "payment_intent.payment_failed":
        code, message = _failure(obj)
        return WebhookEvent(
            event_id=event_id,
            kind="payment.failed",
            reference=obj["id"],
            failure_code=code,
            failure_message=message,
            raw=payload,
        )
    if kind == "charge.refunded" and isinstance(obj.get("payment_intent"), str):
        return WebhookEvent(
            event_id=event_id,
            kind="payment.refunded",
            reference=obj["payment_intent"],
            amount_refunded=Money.from_minor(int(obj["amount_refunded"]), str(obj["currency"])),
            raw=payload,
        )
    return WebhookEvent(event_id=event_id, kind="other", reference=str(obj.get("id") or ""), raw=payload)


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive, whatever mapping the caller has (Django's ``request.headers`` or a dict)."""
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)
