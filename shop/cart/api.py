"""What every other context may know about carts: the ``CartAPI`` Protocol, its DTOs and errors.
Standard library and ``shop.kernel`` only.

A cart belongs to an ``Owner``: a signed-in customer (``user_id``) or a guest (``guest_token``, the
opaque token the guest's client holds). Prices and availability in a ``Cart`` are the catalog's,
read when the cart is read; the cart itself only remembers SKUs, quantities and the price each line
was added at (to warn when it changed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import ClassVar, Protocol

# Raised by add_line, so part of this contract: imported here, the HTTP client re-raises the same classes.
from shop.catalog.api import InactiveProduct, UnknownSku  # noqa: F401
from shop.kernel import Conflict, Money, NotFound, ValidationFailed, idempotent


@dataclass(frozen=True, kw_only=True, slots=True)
class Owner:
    """Exactly one of the two: a customer's cart, or a guest's. ``Owner()`` (neither) asks
    ``add_line`` to open a new guest cart, whose token comes back once in ``Cart.guest_token``."""

    user_id: int | None = None
    guest_token: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class CartLine:
    sku: str
    product_id: int | None  # None when the SKU no longer exists in the catalog
    product_name: str
    product_slug: str
    variant_name: str
    attributes: dict[str, str]
    quantity: int
    unit_price: Money | None  # the catalog's price now; None when the SKU no longer exists
    line_total: Money | None
    price_when_added: Money
    available: int
    is_sold: bool  # false when the product or variant was withdrawn (or deleted)


@dataclass(frozen=True, kw_only=True, slots=True)
class CartWarning:
    """Something the customer should see before checkout. ``code`` is one of ``price_changed``
    (``previous_price`` is the price when added), ``insufficient_stock`` (``available``),
    ``not_sold`` (the line cannot be bought), ``not_merged`` (a guest line did not fit),
    ``tax_rate_changed`` (``previous_tax_rate``, percent, is the rate first quoted for the line) and
    ``quote_unavailable`` (tax and shipping cannot be calculated now; ``sku`` is empty) and
    ``voucher_not_applied`` (an applied ``voucher`` no longer applies; ``detail`` says why)."""

    code: str
    sku: str
    detail: str
    previous_price: Money | None = None
    available: int | None = None
    previous_tax_rate: Decimal | None = None
    voucher: str | None = None  # voucher_not_applied: the code that no longer applies


@dataclass(frozen=True, kw_only=True, slots=True)
class Cart:
    """The whole cart as of ``version`` (bumped on every change; 0 for a cart never written)."""

    version: int
    lines: list[CartLine]
    subtotal: Money  # lines that can be bought, at today's prices
    item_count: int
    warnings: list[CartWarning] = field(default_factory=list)
    user_id: int | None = None
    guest_token: str | None = None  # set only in the response that opened a guest cart
    voucher_codes: list[str] = field(default_factory=list)  # applied codes (pricing decides what they take off)


class CartTokenRequired(ValidationFailed):
    """Merging names the guest cart by its token: the request without one is malformed."""

    code = "cart_token_required"
    title = "Send the guest cart's token in the X-Cart-Token header"


class CartNotFound(NotFound):
    """A guest token that names no cart (never issued, expired, or merged into a customer's)."""

    resource = "cart"
    title = "No such cart"


class CartLineNotFound(NotFound):
    resource = "cart_line"
    title = "This SKU is not in the cart"


class QuantityOutOfRange(ValidationFailed):
    """Carries ``minimum`` and ``maximum``: a line holds between them."""

    code = "quantity_out_of_range"
    title = "The quantity of a cart line is out of range"


class CartFull(Conflict):
    """Carries ``max_lines``."""

    code = "cart_full"
    title = "The cart holds as many different items as it can"


class CartChanged(Conflict):
    """``clear`` was asked for a version the cart is no longer at (carries ``expected`` and ``actual``)."""

    code = "cart_changed"
    title = "The cart changed since it was read"


class InvalidOwner(ValidationFailed):
    code = "invalid_cart_owner"
    title = "A cart belongs to exactly one customer or one guest"


class CartAPI(Protocol):
    context: ClassVar[str] = "cart"

    @idempotent
    def get_cart(self, *, owner: Owner) -> Cart:
        """The cart with today's prices and availability (one catalog call, whatever the lines).
        A customer without a cart gets an empty one (version 0); an unknown guest token ``CartNotFound``."""
        ...

    def add_line(self, *, owner: Owner, sku: str, quantity: int) -> Cart:
        """Add ``quantity`` of ``sku`` (summed with what the line holds). ``UnknownSku`` or
        ``InactiveProduct`` (catalog's errors) for SKUs that cannot be sold, ``QuantityOutOfRange``,
        ``CartFull``; nothing changes when it raises. Not idempotent: a retry adds again."""
        ...

    @idempotent
    def set_quantity(self, *, owner: Owner, sku: str, quantity: int) -> Cart:
        """Set the line's quantity; ``CartLineNotFound`` if the SKU is not in the cart."""
        ...

    @idempotent
    def remove_line(self, *, owner: Owner, sku: str) -> Cart:
        """Remove the line (no error if it is already gone)."""
        ...

    @idempotent
    def clear(self, *, owner: Owner, version: int | None = None) -> Cart:
        """Empty the cart. With ``version`` (checkout's read), only if the cart is still at that
        version, else ``CartChanged``; an already empty cart is cleared whatever the version, so a
        retried clear succeeds."""
        ...

    def merge(self, *, user_id: int, guest_token: str) -> Cart:
        """Move the guest cart into the customer's (quantities summed, capped at the line maximum;
        lines beyond the cart's limit reported as ``not_merged`` warnings); the token is dead after.
        ``CartNotFound`` for an unknown token."""
        ...
