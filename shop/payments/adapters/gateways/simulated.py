# long-module: the simulated card processor: one scenario table per token, every path in one place
"""The simulated gateway: a deterministic stand-in for a card processor, for development and tests.

The outcome is chosen by the token (``tok_success``, ``tok_decline`` …), so every path of the
payment flow can be driven from a browser or a test without a provider account or network.
Its "provider-side" state (payments, refunds, idempotency keys, the designed timeouts) lives in
Django's cache rather than in the process, so the web workers and the Celery workers of one
deployment sharing Redis agree on it, as they would when talking to a real provider.

The simulator also plays the provider's part in asynchronous flows: ``authenticate`` (the customer
completing 3-D Secure), ``settle`` (a delayed payment clearing) and ``signed_webhook`` return the
webhook the provider would send, signed the way ``parse_webhook`` verifies it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, cast

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from shop.kernel import Money
from shop.payments.adapters.gateways.base import (
    Charge,
    ChargeStatus,
    GatewayRejected,
    InvalidWebhook,
    Refund,
    TransientGatewayError,
    WebhookEvent,
    WebhookKind,
)
from shop.web.links import absolute_url

PREFIX = "simgw:"
STATE_TIMEOUT_S = 7 * 24 * 3600  # outlives any payment flow a developer or a test drives
SIGNATURE_HEADER = "Shop-Simulated-Signature"
TOKEN_PATTERN = re.compile(r"^tok_[a-z_]+$")
WEBHOOK_KINDS: tuple[WebhookKind, ...] = ("payment.succeeded", "payment.failed", "payment.refunded")
# A refund or a provider-side transition holds a short per-payment lock; a holder that died frees
# it after LOCK_TTL_S, and a caller gives up (transiently) after LOCK_WAIT_S.
LOCK_TTL_S = 10
LOCK_WAIT_S = 3.0


@dataclass(frozen=True, slots=True)
class _Outcome:
    status: ChargeStatus
    failure_code: str = ""
    failure_message: str = ""


# What each test token does; tok_timeout also fails transiently first (SHOP_SIMULATED_GATEWAY_TIMEOUTS).
OUTCOMES: dict[str, _Outcome] = {
    "tok_success": _Outcome("succeeded"),
    "tok_decline": _Outcome("failed", "card_declined", "The card was declined."),
    "tok_insufficient_funds": _Outcome("failed", "insufficient_funds", "The card has insufficient funds."),
    "tok_requires_action": _Outcome("requires_action"),
    "tok_delayed_success": _Outcome("pending"),
    "tok_timeout": _Outcome("succeeded"),
}


class AlreadyDecided(GatewayRejected):
    """The payment exists but is no longer waiting for this decision (the customer answered already)."""


@dataclass(frozen=True, slots=True)
class Authentication:
    """A payment as the simulated bank's 3-D Secure page shows it."""

    reference: str
    amount: Money
    status: str  # "requires_action" while the customer has to decide
    return_url: str  # where the customer goes back to afterwards (their order's page)


AUTHENTICATION_FAILED = _Outcome("failed", "authentication_failed", "The customer did not complete authentication.")
SETTLEMENT_FAILED = _Outcome("failed", "card_declined", "The card issuer declined the payment after review.")


def _key(*parts: str) -> str:
    return PREFIX + ":".join(parts)


def _digest(value: str) -> str:
    """Client-chosen idempotency keys may be long or odd; their hash is always a valid cache key."""
    return hashlib.sha256(value.encode()).hexdigest()


class SimulatedGateway:
    """The ``Gateway`` port over the cache-backed simulator; cheap to construct, holds no state."""

    name: str = "simulated"

    # --- the port ---------------------------------------------------------------------------------

    def create_payment(
        self,
        *,
        amount: Money,
        token: str,
        idempotency_key: str,
        metadata: Mapping[str, str],
        return_url: str = "",
    ) -> Charge:
        if not TOKEN_PATTERN.match(token):
            raise GatewayRejected("The payment token is malformed: the simulated gateway expects tok_<name>.")
        outcome = OUTCOMES.get(token)
        if outcome is None:
            raise GatewayRejected(f"Unknown simulated token {token!r}; use one of {', '.join(OUTCOMES)}.")
        if amount.minor <= 0:
            raise GatewayRejected("The amount must be positive.")
        if not idempotency_key:
            raise GatewayRejected("An idempotency key is required.")
        fingerprint = f"{amount.minor}:{amount.currency}:{token}"
        idem_key = _key("idem", "pay", _digest(idempotency_key))
        replay = self._replay(idem_key, fingerprint)
        if replay is not None:
            return replay
        if token == "tok_timeout":
            attempt = self._incr(_key("timeouts", _digest(idempotency_key)))
            allowed = settings.SHOP_SIMULATED_GATEWAY_TIMEOUTS
            if attempt <= allowed:
                raise TransientGatewayError(f"The simulated gateway timed out (designed timeout {attempt}/{allowed}).")
        reference = f"sim_pay_{secrets.token_hex(12)}"
        record: dict[str, Any] = {
            "object": "simulated.payment",
            "id": reference,
            "status": outcome.status,
            "amount_minor": amount.minor,
            "currency": amount.currency,
            "token": token,
            "metadata": dict(metadata),
            "failure_code": outcome.failure_code,
            "failure_message": outcome.failure_message,
            "next_action_url": self._authentication_url(reference) if outcome.status == "requires_action" else "",
            "amount_refunded_minor": 0,
            "created": int(time.time()),
        }
        # The payment is stored before its key claims it, so a reference anyone got from the key can
        # be fetched and refunded; a concurrent call with the same key that loses the claim drops its
        # own copy and answers with the winner's. The return URL (a signed order-status link, a
        # secret) is kept beside the record, never in it: the record is what the ledger stores.
        cache.set_many(
            {_key("pay", reference): record, _key("return", reference): return_url or absolute_url("/")},
            timeout=STATE_TIMEOUT_S,
        )
        if not cache.add(idem_key, {"fingerprint": fingerprint, "charge": record}, timeout=STATE_TIMEOUT_S):
            cache.delete(_key("pay", reference))
            replay = self._replay(idem_key, fingerprint)
            if replay is None:
                raise TransientGatewayError("The simulated gateway lost track of a concurrent payment; retry.")
            return replay
        self._incr(_key("charges"))
        return self._to_charge(record)

    def fetch_payment(self, *, reference: str) -> Charge:
        return self._to_charge(self._load(reference))

    def refund(self, *, reference: str, amount: Money, idempotency_key: str) -> Refund:
        if amount.minor <= 0:
            raise GatewayRejected("The refund amount must be positive.")
        if not idempotency_key:
            raise GatewayRejected("An idempotency key is required.")
        idem_key = _key("idem", "re", _digest(idempotency_key))
        fingerprint = f"{reference}:{amount.minor}:{amount.currency}"
        with self._locked(reference):
            stored = cache.get(idem_key)
            if stored is not None:
                if stored["fingerprint"] != fingerprint:
                    raise GatewayRejected("This idempotency key was used for a different refund.")
                return self._to_refund(stored["refund"])
            payment = self._load(reference)
            if payment["status"] != "succeeded":
                raise GatewayRejected(f"Only a succeeded payment can be refunded (this one is {payment['status']}).")
            if amount.currency != payment["currency"]:
                raise GatewayRejected(f"The payment is in {payment['currency']}, not {amount.currency}.")
            left = payment["amount_minor"] - payment["amount_refunded_minor"]
            if amount.minor > left:
                raise GatewayRejected(
                    f"The refund of {amount} exceeds the {Money.from_minor(left, amount.currency)} left to refund."
                )
            refund = {
                "object": "simulated.refund",
                "id": f"sim_re_{secrets.token_hex(12)}",
                "payment": reference,
                "status": "succeeded",
                "amount_minor": amount.minor,
                "currency": amount.currency,
                "created": int(time.time()),
            }
            payment["amount_refunded_minor"] += amount.minor
            # One round trip on Redis: the refunded total and the key's record land together.
            cache.set_many(
                {_key("pay", reference): payment, idem_key: {"fingerprint": fingerprint, "refund": refund}},
                timeout=STATE_TIMEOUT_S,
            )
        return self._to_refund(refund)

    def parse_webhook(self, *, body: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        if not settings.SHOP_SIMULATED_WEBHOOK_SECRET:
            raise InvalidWebhook("Simulated webhooks are not configured (SHOP_SIMULATED_WEBHOOK_SECRET is empty).")
        header = _header(headers, SIGNATURE_HEADER)
        if header is None:
            raise InvalidWebhook(f"The {SIGNATURE_HEADER} header is missing.")
        timestamp, signatures = _parse_signature_header(header)
        expected = _sign(body=body, timestamp=timestamp).encode()
        if not any(hmac.compare_digest(expected, s.encode(errors="replace")) for s in signatures):
            raise InvalidWebhook("The webhook signature does not match.")
        if abs(time.time() - timestamp) > settings.SHOP_WEBHOOK_TOLERANCE_S:
            raise InvalidWebhook("The webhook timestamp is outside the tolerance window.")
        try:
            event = json.loads(body)
        except ValueError as exc:
            raise InvalidWebhook("The webhook body is not JSON.") from exc
        return _to_event(event)

    # --- the provider's side (simulator only) ------------------------------------------------------

    def authentication(self, reference: str) -> Authentication:
        """What the simulated bank's 3-D Secure page shows about a payment; ``GatewayRejected`` if
        there is no such payment."""
        payment = self._load(reference)
        return Authentication(
            reference=reference,
            amount=Money.from_minor(payment["amount_minor"], payment["currency"]),
            status=payment["status"],
            return_url=cache.get(_key("return", reference)) or absolute_url("/"),
        )

    def authenticate(self, reference: str, *, approve: bool) -> tuple[bytes, dict[str, str]]:
        """The customer completes (or fails) the 3-D Secure check of a ``requires_action`` payment;
        returns the webhook the provider sends about it. ``AlreadyDecided`` the second time."""
        return self._decide(reference, waiting="requires_action", outcome=None if approve else AUTHENTICATION_FAILED)

    def settle(self, reference: str, *, succeed: bool = True) -> tuple[bytes, dict[str, str]]:
        """A ``pending`` (delayed) payment clears or is declined; returns the provider's webhook."""
        return self._decide(reference, waiting="pending", outcome=None if succeed else SETTLEMENT_FAILED)

    def signed_webhook(
        self,
        *,
        kind: str,
        reference: str,
        event_id: str | None = None,
        timestamp: int | None = None,
        **data: Any,
    ) -> tuple[bytes, dict[str, str]]:
        """Any event, signed with ``SHOP_SIMULATED_WEBHOOK_SECRET`` as of ``timestamp`` (now by default)."""
        created = int(time.time()) if timestamp is None else timestamp
        event = {
            "id": event_id or f"evt_{secrets.token_hex(12)}",
            "type": kind,
            "created": created,
            "data": {"reference": reference, **data},
        }
        body = json.dumps(event, separators=(",", ":")).encode()
        signature = _sign(body=body, timestamp=created)
        return body, {"Content-Type": "application/json", SIGNATURE_HEADER: f"t={created},v1={signature}"}

    def charge_count(self) -> int:
        """How many payments the simulator created (never counts an idempotent replay)."""
        return int(cache.get(_key("charges")) or 0)

    # --- internals ----------------------------------------------------------------------------------

    def _decide(self, reference: str, *, waiting: str, outcome: _Outcome | None) -> tuple[bytes, dict[str, str]]:
        with self._locked(reference):
            payment = self._load(reference)
            if payment["status"] != waiting:
                raise AlreadyDecided(f"Payment {reference} is {payment['status']}, not {waiting}.")
            payment.update(
                status=outcome.status if outcome else "succeeded",
                failure_code=outcome.failure_code if outcome else "",
                failure_message=outcome.failure_message if outcome else "",
                next_action_url="",
            )
            cache.set(_key("pay", reference), payment, timeout=STATE_TIMEOUT_S)
        return self.signed_webhook(
            kind=f"payment.{payment['status']}",
            reference=reference,
            failure_code=payment["failure_code"],
            failure_message=payment["failure_message"],
            amount_refunded_minor=payment["amount_refunded_minor"],
            currency=payment["currency"],
        )

    def _replay(self, idem_key: str, fingerprint: str) -> Charge | None:
        """What the key's first call answered, as Stripe replays it (``fetch_payment`` tells what
        happened since)."""
        stored = cache.get(idem_key)
        if stored is None:
            return None
        if stored["fingerprint"] != fingerprint:
            raise GatewayRejected("This idempotency key was used for a different payment.")
        return self._to_charge(stored["charge"])

    def _load(self, reference: str) -> dict[str, Any]:
        record = cache.get(_key("pay", reference)) if reference else None
        if record is None:
            raise GatewayRejected(f"No such simulated payment {reference!r}.")
        return cast(dict[str, Any], record)

    @staticmethod
    def _authentication_url(reference: str) -> str:
        return absolute_url(reverse("payment-authentication-page", kwargs={"reference": reference}))

    @staticmethod
    def _incr(key: str) -> int:
        cache.add(key, 0, timeout=STATE_TIMEOUT_S)
        try:
            return int(cache.incr(key))
        except ValueError:  # evicted between add and incr
            cache.set(key, 1, timeout=STATE_TIMEOUT_S)
            return 1

    @staticmethod
    @contextmanager
    def _locked(reference: str) -> Iterator[None]:
        """Serialises read-modify-write of one payment across processes (two refunds racing for
        the last euro must not both pass the check)."""
        key, owner = _key("lock", reference), secrets.token_hex(8)
        deadline = time.monotonic() + LOCK_WAIT_S
        while not cache.add(key, owner, timeout=LOCK_TTL_S):
            if time.monotonic() > deadline:
                raise TransientGatewayError(f"Payment {reference} is busy; retry.")
            time.sleep(0.01)
        try:
            yield
        finally:
            if cache.get(key) == owner:
                cache.delete(key)

    @staticmethod
    def _to_charge(record: Mapping[str, Any]) -> Charge:
        return Charge(
            reference=record["id"],
            status=record["status"],
            failure_code=record["failure_code"],
            failure_message=record["failure_message"],
            next_action_url=record["next_action_url"],
            raw=dict(record),
        )

    @staticmethod
    def _to_refund(record: Mapping[str, Any]) -> Refund:
        return Refund(
            reference=record["id"],
            status=record["status"],
            amount=Money.from_minor(record["amount_minor"], record["currency"]),
            raw=dict(record),
        )


def _secret() -> bytes:
    secret: str = settings.SHOP_SIMULATED_WEBHOOK_SECRET
    if not secret:  # anyone could sign with an empty key
        raise ImproperlyConfigured("SHOP_SIMULATED_WEBHOOK_SECRET is empty")
    return secret.encode()


def _sign(*, body: bytes, timestamp: int) -> str:
    return hmac.new(_secret(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive, whatever mapping the caller has (Django's ``request.headers`` or a dict)."""
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)


def _parse_signature_header(header: str) -> tuple[int, list[str]]:
    """``t=<unix>,v1=<hex>[,v1=<hex>…]`` (several v1 while a secret rotates)."""
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        name, sep, value = part.strip().partition("=")
        if not sep:
            raise InvalidWebhook(f"The {SIGNATURE_HEADER} header is garbled.")
        if name == "t":
            if timestamp is not None or not value.isascii() or not value.isdigit():
                raise InvalidWebhook(f"The {SIGNATURE_HEADER} header has a bad timestamp.")
            timestamp = int(value)
        elif name == "v1":
            signatures.append(value)
    if timestamp is None or not signatures:
        raise InvalidWebhook(f"The {SIGNATURE_HEADER} header lacks t= or v1=.")
    return timestamp, signatures


def _to_event(event: object) -> WebhookEvent:
    if not isinstance(event, dict):
        raise InvalidWebhook("The webhook body is not an event object.")
    event_id, kind, data = event.get("id"), event.get("type"), event.get("data")
    if not isinstance(event_id, str) or not event_id or not isinstance(kind, str) or not isinstance(data, dict):
        raise InvalidWebhook("The webhook event lacks id, type or data.")
    reference = data.get("reference", "")
    failure_code, failure_message = data.get("failure_code") or "", data.get("failure_message") or ""
    if not all(isinstance(v, str) for v in (reference, failure_code, failure_message)):
        raise InvalidWebhook("The webhook event has malformed data.")
    known = kind in WEBHOOK_KINDS
    if known and not reference:
        raise InvalidWebhook(f"A {kind} event needs a payment reference.")
    amount_refunded: Money | None = None
    if kind == "payment.refunded":
        minor, currency = data.get("amount_refunded_minor"), data.get("currency")
        if not isinstance(minor, int) or isinstance(minor, bool) or not isinstance(currency, str):
            raise InvalidWebhook("A payment.refunded event needs amount_refunded_minor and currency.")
        try:
            amount_refunded = Money.from_minor(minor, currency)
        except (KeyError, ValueError) as exc:
            raise InvalidWebhook(f"Unsupported currency {currency!r}.") from exc
    return WebhookEvent(
        event_id=event_id,
        kind=cast(WebhookKind, kind) if known else "other",
        reference=reference,
        failure_code=failure_code,
        failure_message=failure_message,
        amount_refunded=amount_refunded,
        raw=event,
    )
