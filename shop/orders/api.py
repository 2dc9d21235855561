"""What every other context may know about orders: the ``OrdersAPI`` Protocol, its DTOs, errors
and events. Standard library and ``shop.kernel`` only.

An order is placed by checkout from the customer's cart, with every price, name and total
snapshotted: nothing about an order changes when the catalog does. Its status moves only forward,
through the orders service, each move recorded in the order's history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar, Protocol
from uuid import UUID

from shop.kernel import Conflict, Event, Money, NotFound, ValidationFailed, idempotent

MAX_ORDERS_PER_CALL = 100

PENDING_PAYMENT = "pending_payment"
PAID = "paid"
FULFILLED = "fulfilled"
DELIVERED = "delivered"
CANCELLED = "cancelled"
REFUNDED = "refunded"
STATUSES = (PENDING_PAYMENT, PAID, FULFILLED, DELIVERED, CANCELLED, REFUNDED)


class ActorKind(StrEnum):
    """Who moved an order (its history's ``actor``)."""

    CUSTOMER = "customer"
    STAFF = "staff"
    SYSTEM = "system"
    PAYMENTS = "payments"


@dataclass(frozen=True, kw_only=True, slots=True)
class ShippingAddress:
    full_name: str
    line1: str
    line2: str
    city: str
    postal_code: str
    region: str
    country: str  # ISO 3166-1 alpha-2
    phone: str


@dataclass(frozen=True, kw_only=True, slots=True)
class LineDiscount:
    """One promotion's share of a line: ``source`` (``promotion:<id>``) for the books, ``label`` for the customer."""

    source: str
    label: str
    amount: Money


@dataclass(frozen=True, kw_only=True, slots=True)
class OrderLine:
    """A line as the quote priced it: ``line_total = unit_price * quantity`` (in the price entry mode),
    then ``total = net + tax`` after ``discount``: what the customer paid for the line."""

    sku: str
    product_name: str
    variant_name: str
    unit_price: Money
    quantity: int
    line_total: Money
    tax_rate: Decimal  # a percentage: Decimal("19.00") is 19 %
    discount: Money
    discounts: list[LineDiscount]
    net: Money
    tax: Money
    total: Money


@dataclass(frozen=True, kw_only=True, slots=True)
class TaxTotal:
    """One row of the order's tax breakdown: everything taxed at ``rate`` (percent), lines and shipping."""

    rate: Decimal
    net: Money
    tax: Money


@dataclass(frozen=True, kw_only=True, slots=True)
class StatusChange:
    from_status: str  # "" for the order's creation
    to_status: str
    at: datetime
    actor: ActorKind
    actor_id: int | None
    note: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Order:
    id: int
    number: str  # human-friendly, e.g. "SO-7K3Q-9XW2"
    customer_id: int
    status: str
    lines: list[OrderLine]
    subtotal: Money
    shipping: Money
    tax: Money
    total: Money
    shipping_address: ShippingAddress
    placed_at: datetime
    payment_due_by: datetime | None  # pending_payment only: unpaid orders are cancelled after this
    # The quote's terms: with ``prices_include_tax`` subtotal and shipping include ``tax`` (total =
    # subtotal - discount + shipping); without, tax comes on top (total = subtotal - discount + shipping + tax).
    prices_include_tax: bool = False
    discount: Money
    shipping_method: str = ""
    shipping_method_name: str = ""
    tax_breakdown: list[TaxTotal] = field(default_factory=list)
    voucher_codes: list[str] = field(default_factory=list)  # the codes whose uses the order holds
    carrier: str = ""
    tracking_number: str = ""
    history: list[StatusChange] = field(default_factory=list)


class OrderNotFound(NotFound):
    resource = "order"
    title = "No such order"


class IllegalTransition(Conflict):
    """Carries ``from_status`` and ``to_status``."""

    code = "illegal_transition"
    title = "The order cannot move to this status from its current one"


class CartEmpty(Conflict):
    code = "cart_empty"
    title = "The cart is empty"


class QuoteChanged(Conflict):
    """Checkout was sent the total the customer saw (``expected_total``) and the order would cost
    another (``total``): a price, rate or shipping price changed since. Carries both; show the new
    quote and let the customer confirm."""

    code = "quote_changed"
    title = "The order's total changed since the customer saw it"


class ItemsUnavailable(Conflict):
    """Carries ``skus``: lines the catalog no longer sells (remove them, then check out)."""

    code = "items_unavailable"
    title = "Some items in the cart can no longer be bought"


class ShippingAddressRequired(ValidationFailed):
    code = "shipping_address_required"
    title = "Give a shipping address, or the id of one from the address book"


class IdempotencyKeyRequired(ValidationFailed):
    """Checkout and pay need an ``Idempotency-Key`` header: printable, at most 255 characters."""

    code = "idempotency_key_required"
    title = "This request needs an Idempotency-Key header"


class IdempotencyKeyReused(ValidationFailed):
    """The key was used for a request with a different body (another address, order or token)."""

    code = "idempotency_key_reused"
    status = 422
    title = "This Idempotency-Key was used for a different request"


class IdempotencyKeyInUse(Conflict):
    """Another request with this key is still being answered: retry it in a moment to get its answer."""

    code = "idempotency_key_in_use"
    title = "A request with this Idempotency-Key is still in progress"


class OrderExpired(Conflict):
    """Paying an order whose payment window closed: it is cancelled then and there, its stock released."""

    code = "order_expired"
    title = "The order was not paid in time and has been cancelled"


@dataclass(frozen=True, kw_only=True, slots=True)
class OrderPlaced(Event):
    order_id: int
    number: str
    customer_id: int
    total: Money
    reservation_id: UUID
    payment_due_by: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class OrderPaid(Event):
    order_id: int
    number: str
    customer_id: int
    total: Money


@dataclass(frozen=True, kw_only=True, slots=True)
class OrderCancelled(Event):
    order_id: int
    number: str
    customer_id: int
    reason: str  # "customer", "staff", "payment_timeout"
    was_paid: bool


@dataclass(frozen=True, kw_only=True, slots=True)
class OrderFulfilled(Event):
    order_id: int
    number: str
    customer_id: int
    carrier: str
    tracking_number: str


@dataclass(frozen=True, kw_only=True, slots=True)
class OrderDelivered(Event):
    order_id: int
    number: str
    customer_id: int


@dataclass(frozen=True, kw_only=True, slots=True)
class OrderRefunded(Event):
    order_id: int
    number: str
    customer_id: int
    amount: Money


class OrdersAPI(Protocol):
    context: ClassVar[str] = "orders"

    @idempotent
    def get_order(self, *, order_id: int) -> Order:
        """The order with its lines and history; ``OrderNotFound`` otherwise."""
        ...

    @idempotent
    def get_orders(self, *, order_ids: Sequence[int]) -> list[Order]:
        """The orders that exist among ``order_ids`` (order of the ids; at most ``MAX_ORDERS_PER_CALL``),
        in a fixed number of queries whatever their count."""
        ...

    @idempotent
    def status_page_url(self, *, order_id: int) -> str:
        """An absolute, signed link to the order's read-only status page (status, lines, totals,
        tracking), valid for ``SHOP_ORDER_STATUS_LINK_TTL_S`` without a login: what the customer's
        emails link to. A bearer secret: show it only to the customer. ``OrderNotFound`` otherwise."""
        ...
