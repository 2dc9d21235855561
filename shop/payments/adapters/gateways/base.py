"""The one small port every payment gateway adapter implements, and the shapes it speaks.

Adapters translate a provider (the built-in simulator, Stripe) to these; nothing outside
``adapters/gateways`` knows a provider's vocabulary. Errors: ``TransientGatewayError`` for what a
retry may fix (timeouts, 5xx, rate limits), ``GatewayRejected`` for what it will not (a malformed
request); a declined card is not an error but a ``Charge`` with status ``failed``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from shop.kernel import Money

ChargeStatus = Literal["succeeded", "requires_action", "pending", "failed"]
WebhookKind = Literal["payment.succeeded", "payment.failed", "payment.refunded", "other"]


class GatewayError(Exception):
    """Base of everything an adapter raises."""


class TransientGatewayError(GatewayError):
    """Timeouts, connection errors, 5xx, rate limits: the same call may succeed later."""


class GatewayRejected(GatewayError):
    """The provider refused the request itself (bad token format, unknown reference)."""


class InvalidWebhook(GatewayError):
    """Bad signature, stale timestamp or an unreadable body: nothing may be stored."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Charge:
    reference: str  # the provider's id of the payment
    status: ChargeStatus
    failure_code: str = ""
    failure_message: str = ""
    next_action_url: str = ""
    raw: dict[str, Any] = field(default_factory=dict)  # the provider's answer, for the ledger


@dataclass(frozen=True, kw_only=True, slots=True)
class Refund:
    reference: str
    status: Literal["succeeded", "pending", "failed"]
    amount: Money
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True, slots=True)
class WebhookEvent:
    event_id: str
    kind: WebhookKind
    reference: str  # the payment's provider id
    failure_code: str = ""
    failure_message: str = ""
    amount_refunded: Money | None = None  # payment.refunded: the total refunded so far
    raw: dict[str, Any] = field(default_factory=dict)


class Gateway(Protocol):
    name: str

    def create_payment(
        self,
        *,
        amount: Money,
        token: str,
        idempotency_key: str,
        metadata: Mapping[str, str],
        return_url: str = "",
    ) -> Charge:
        """Charge (or start charging) ``amount``; the same ``idempotency_key`` never charges twice.
        ``return_url``: where the provider sends the customer back after a check such as 3-D Secure
        (the shop's start page when empty)."""
        ...

    def fetch_payment(self, *, reference: str) -> Charge:
        """The provider's current view of a payment (reconciliation of stuck payments)."""
        ...

    def refund(self, *, reference: str, amount: Money, idempotency_key: str) -> Refund:
        """Refund part or all of a succeeded payment; the same key refunds once."""
        ...

    def parse_webhook(self, *, body: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        """Verify the signature over the raw body (and its timestamp window) and parse the event;
        ``InvalidWebhook`` otherwise."""
        ...
