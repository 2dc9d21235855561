"""What every other context may know about payments: the ``PaymentsAPI`` Protocol, its DTOs,
errors and events. Standard library and ``shop.kernel`` only.

Payments sits below orders and never calls it: orders passes everything a charge needs (order id,
customer id, the amount from the order, the client's gateway token) and learns the outcome from
the returned ``Payment`` and from the events. No card number ever reaches us: clients send a token
their gateway issued (``tok_…`` for the simulated gateway, a PaymentMethod id for Stripe).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import ClassVar, Protocol

from shop.kernel import Conflict, DomainError, Event, Money, NotFound, ValidationFailed, idempotent


class TransactionKind(StrEnum):
    """What a ledger row records: a call to the gateway (charge, refund, fetch) or a webhook applied."""

    CHARGE = "charge"
    REFUND = "refund"
    FETCH = "fetch"
    WEBHOOK = "webhook"


PENDING = "pending"
REQUIRES_ACTION = "requires_action"
SUCCEEDED = "succeeded"
FAILED = "failed"
REFUNDED = "refunded"
PARTIALLY_REFUNDED = "partially_refunded"
STATUSES = (PENDING, REQUIRES_ACTION, SUCCEEDED, FAILED, REFUNDED, PARTIALLY_REFUNDED)
MAX_ORDERS_PER_CALL = 200


@dataclass(frozen=True, kw_only=True, slots=True)
class Payment:
    id: int
    order_id: int
    customer_id: int
    amount: Money
    refunded: Money
    status: str
    gateway: str
    attempts: int
    failure_code: str  # e.g. "card_declined", "insufficient_funds", "gateway_unavailable"; "" unless failed
    failure_message: str
    next_action_url: str  # requires_action: where the customer completes the check (3-D Secure)
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class Refund:
    """One refund asked of the gateway for a payment, as the ledger recorded it."""

    payment_id: int
    amount: Money
    outcome: str  # the gateway's answer: "succeeded", "pending", "failed" …
    created_at: datetime


class PaymentNotFound(NotFound):
    resource = "payment"
    title = "No such payment"


class InvalidPaymentToken(ValidationFailed):
    code = "invalid_payment_token"
    title = "The payment token is missing or malformed"


class InvalidWebhook(ValidationFailed):
    code = "invalid_webhook"
    title = "The webhook's signature, timestamp or body is invalid"


class IdempotencyKeyReused(ValidationFailed):
    """The key already started a payment of another order or amount."""

    code = "idempotency_key_reused"
    status = 422
    title = "This idempotency key was used for a different payment"


class AlreadyPaid(Conflict):
    code = "already_paid"
    title = "This order is already paid"


class AuthenticationAlreadyDecided(Conflict):
    """The customer already approved or declined this payment's 3-D Secure check."""

    code = "authentication_already_decided"
    title = "This payment's security check was already decided"


class PaymentInProgress(Conflict):
    """The payment waits for the customer's action or the gateway's answer (carries ``payment_status``)."""

    code = "payment_in_progress"
    title = "A payment for this order is still in progress"


class NotRefundable(Conflict):
    code = "payment_not_refundable"
    title = "Only a succeeded payment can be refunded"


class RefundTooLarge(Conflict):
    """Carries ``refundable`` (what is left to refund)."""

    code = "refund_exceeds_payment"
    title = "The refund is larger than what is left of the payment"


class GatewayUnavailable(DomainError):
    """The gateway could not be reached after the bounded retries (or its breaker is open); nothing
    was charged as far as we can tell, and the customer may try again."""

    code = "gateway_unavailable"
    status = 503
    title = "The payment provider is not answering; try again in a moment"


@dataclass(frozen=True, kw_only=True, slots=True)
class PaymentSucceeded(Event):
    payment_id: int
    order_id: int
    customer_id: int
    amount: Money


@dataclass(frozen=True, kw_only=True, slots=True)
class PaymentFailed(Event):
    payment_id: int
    order_id: int
    customer_id: int
    amount: Money
    reason_code: str
    message: str


@dataclass(frozen=True, kw_only=True, slots=True)
class PaymentRefunded(Event):
    payment_id: int
    order_id: int
    customer_id: int
    amount: Money  # this refund
    total_refunded: Money
    fully_refunded: bool


class PaymentsAPI(Protocol):
    context: ClassVar[str] = "payments"

    @idempotent
    def start_payment(
        self,
        *,
        order_id: int,
        customer_id: int,
        amount: Money,
        token: str,
        idempotency_key: str,
        return_url: str = "",
        order_number: str = "",
    ) -> Payment:
        """Charge ``amount`` for the order with the customer's gateway ``token``. The same key
        returns the same payment (one charge, however many calls); a new key after a failure is a new
        attempt on the order's payment. A decline is not an error: the ``Payment`` is ``failed`` with
        its ``failure_code``. ``return_url`` is where the customer lands after a bank's check
        (3-D Secure): the caller's page for the order (the shop's start page when empty).
        ``order_number`` is kept with the payment, so staff see which order it pays. Raises
        ``AlreadyPaid``, ``PaymentInProgress``, ``IdempotencyKeyReused``, ``InvalidPaymentToken``,
        ``GatewayUnavailable``."""
        ...

    @idempotent
    def get_payment(self, *, payment_id: int) -> Payment: ...

    @idempotent
    def payment_for_order(self, *, order_id: int) -> Payment | None:
        """The order's payment, if one was started."""
        ...

    @idempotent
    def payments_for_orders(self, *, order_ids: Sequence[int]) -> list[Payment]:
        """The payments of those orders that have one (at most ``MAX_ORDERS_PER_CALL`` ids), in a
        fixed number of queries whatever their count."""
        ...

    @idempotent
    def refunds_for_order(self, *, order_id: int) -> list[Refund]:
        """Every refund asked of the gateway for the order's payment, oldest first (none: ``[]``)."""
        ...

    @idempotent
    def refund(self, *, payment_id: int, amount: Money | None, reason: str, idempotency_key: str) -> Payment:
        """Refund ``amount`` (``None``: all that is left). The same key refunds once. Raises
        ``NotRefundable``, ``RefundTooLarge``, ``GatewayUnavailable``."""
        ...
