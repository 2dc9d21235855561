"""What every other context may know about pricing: the ``PricingAPI`` Protocol, its DTOs and errors.
Standard library and ``shop.kernel`` only (and the catalog's errors it passes on).

Pricing turns lines (SKU, quantity), a destination and a shipping method into a ``Quote``: every
amount the cart shows, the order keeps and a refund gives back. Money is exact and read the way an
invoice is read: each line is rounded on its own (the kernel's ``Money`` rule: half to even at the
currency's exponent) and every total is the sum of rounded lines, so a quote, its tax breakdown and
any subset of its lines add up to the cent (docs/pricing.md).

Amounts are in the shop's price entry mode: with ``prices_include_tax`` (gross, as EU shops enter
prices) ``unit_price``, ``subtotal`` and shipping ``price`` include tax; otherwise (net, as US shops
do) tax comes on top. ``net``, ``tax`` and ``total`` mean the same in both modes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import ClassVar, Protocol

# Raised by quote and shipping_methods for SKUs the catalog does not have or no longer sells: imported
# here, so the HTTP client re-raises the catalog's very classes.
from shop.catalog.api import InactiveProduct, UnknownSku  # noqa: F401
from shop.kernel import Conflict, DomainError, Money, NotFound, idempotent

MAX_LINES = 500  # the catalog's MAX_SKUS_PER_CALL: one catalog read per quote
MAX_QUANTITY = 100_000
MAX_POSTAL_CODE_LENGTH = 16


@dataclass(frozen=True, kw_only=True, slots=True)
class Line:
    """A line to price: the price is always the catalog's, never the caller's."""

    sku: str
    quantity: int


@dataclass(frozen=True, kw_only=True, slots=True)
class Destination:
    """Where the goods go: ISO 3166-1 alpha-2 ``country``, and the postal code when it is known
    (shipping zones may be narrowed by postal-code prefix)."""

    country: str
    postal_code: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class Discount:
    """One discount allocated to a line (or to shipping), in the quote's price entry mode.

    ``source`` says what granted it, for the books (``promotion:<id>``, ``voucher:<code>``);
    ``label`` is what the customer reads. Pricing never takes discounts from a caller: the
    promotions of the next issue compute them, and a quote carries them so refunds find them."""

    source: str
    label: str
    amount: Money


@dataclass(frozen=True, kw_only=True, slots=True)
class QuoteLine:
    """One priced line. ``tax_rate`` is a percentage (``Decimal("19.00")`` is 19 %).

    ``subtotal = unit_price * quantity``; ``total = subtotal - discount`` when prices include tax,
    ``subtotal - discount + tax`` when they do not; always ``total = net + tax``."""

    sku: str
    quantity: int
    tax_class: str
    unit_price: Money  # what one unit costs, before discounts (gross when prices include tax)
    subtotal: Money
    discounts: list[Discount] = field(default_factory=list)
    discount: Money  # the sum of ``discounts``
    net: Money  # after discounts, without tax
    tax_rate: Decimal
    tax: Money
    total: Money  # after discounts, with tax: what this line costs the customer


@dataclass(frozen=True, kw_only=True, slots=True)
class ShippingCharge:
    """A shipping method priced for these lines and this destination: the chosen one in a
    ``Quote``, each available one in ``shipping_methods``. Taxed at the destination's standard rate."""

    method: str  # the method's code, what ``quote(shipping_method=…)`` takes
    name: str
    delivery_estimate: str
    price: Money  # before discounts, in the price entry mode
    discounts: list[Discount] = field(default_factory=list)
    discount: Money
    net: Money
    tax_rate: Decimal
    tax: Money
    total: Money


@dataclass(frozen=True, kw_only=True, slots=True)
class TaxRateTotal:
    """One row of the tax breakdown: everything taxed at ``rate`` (a percentage), lines and
    shipping together. The rows' ``net`` and ``tax`` add up to the quote's ``net`` and ``tax``."""

    rate: Decimal
    net: Money
    tax: Money


@dataclass(frozen=True, kw_only=True, slots=True)
class VoucherApplied:
    """A code the quote applied, and what its promotion took off in all (0: it applies to nothing here)."""

    code: str
    label: str
    discount: Money


@dataclass(frozen=True, kw_only=True, slots=True)
class VoucherUse:
    """What checkout asks pricing to hold for an order: a code and the discount it gave (from the quote)."""

    code: str
    discount: Money


@dataclass(frozen=True, kw_only=True, slots=True)
class Quote:
    """Everything a basket costs. ``estimated`` is true when no destination was given: tax and
    shipping are then those of the shop's origin country (``SHOP_TAX_ORIGIN_COUNTRY``), or of the
    rest of the world when it has none. ``shipping`` is ``None`` when there is nothing to ship
    or no method ships these lines there (``shipping_methods`` is then empty too).

    Identities: ``total = Σ lines.total + shipping.total = net + tax``; ``tax = Σ tax_breakdown.tax``;
    ``subtotal = Σ lines.subtotal``; ``discount`` sums every line's and the shipping's discounts."""

    currency: str
    prices_include_tax: bool
    destination: Destination | None
    estimated: bool
    lines: list[QuoteLine] = field(default_factory=list)
    shipping: ShippingCharge | None
    weight_grams: int
    subtotal: Money
    discount: Money
    shipping_price: Money  # the shipping's price before its discounts (in ``discount``); 0 without shipping
    net: Money
    tax: Money
    total: Money
    tax_breakdown: list[TaxRateTotal] = field(default_factory=list)
    tax_source: str  # which TaxProvider gave the rates: "table", "http", "table (service unavailable)"
    vouchers: list[VoucherApplied] = field(default_factory=list)


# --- errors ------------------------------------------------------------------------------------------
class ShippingMethodUnavailable(Conflict):
    """The named method does not ship these lines to this destination (unknown, withdrawn, another
    zone, or outside its weight or price bands). Carries ``shipping_method`` and ``available``: the
    codes that do, cheapest first (choose one of them)."""

    code = "shipping_method_unavailable"
    title = "This shipping method is not available for this destination"


class TaxUnavailable(DomainError):
    """The external tax service did not answer and ``SHOP_TAX_FAIL_CLOSED`` is on: no quote rather
    than one with a wrong tax. Nothing was decided; try again in a moment."""

    code = "tax_unavailable"
    status = 503
    title = "Tax cannot be calculated right now; try again in a moment"


class PriceCurrencyMismatch(Conflict):
    """Some SKUs are priced in another currency than the shop's (``SHOP_CURRENCY``): they cannot be
    sold here (carries ``skus`` and ``currency``)."""

    code = "price_currency_mismatch"
    title = "Some items are not priced in the shop's currency"


class PromotionNotFound(NotFound):
    resource = "promotion"
    title = "No such promotion"


class VoucherCodeTaken(Conflict):
    """Staff: another voucher has this code (carries ``voucher``)."""

    code = "voucher_code_taken"
    title = "Another voucher has this code"


class VoucherError(Conflict):
    """A voucher code that cannot be used; carries ``voucher`` (the code as normalised)."""

    code = "voucher_not_applicable"
    title = "This voucher cannot be used here"


class VoucherUnknown(VoucherError):
    """No such code, or it was switched off."""

    code = "voucher_unknown"
    status = 404
    title = "No such voucher"


class VoucherExpired(VoucherError):
    """Outside its validity window (not started yet, or over)."""

    code = "voucher_expired"
    title = "This voucher is not valid now"


class VoucherExhausted(VoucherError):
    """Its uses are all taken: in all, or by this customer (``limit`` says which: ``total`` or ``customer``)."""

    code = "voucher_exhausted"
    title = "This voucher has been used as often as it may be"


class VoucherMinSubtotal(VoucherError):
    """The goods cost less than the voucher asks (``min_subtotal``)."""

    code = "voucher_min_subtotal"
    title = "The order is below this voucher's minimum"


class VoucherNotApplicable(VoucherError):
    """It takes nothing off these items, it is for a first order only, or its promotion is already applied."""


# --- the service -------------------------------------------------------------------------------------
class PricingAPI(Protocol):
    context: ClassVar[str] = "pricing"

    @idempotent
    def quote(
        self,
        *,
        lines: Sequence[Line],
        destination: Destination | None = None,
        shipping_method: str | None = None,
        customer_id: int | None = None,
        voucher_codes: Sequence[str] = (),
        first_order: bool | None = None,
    ) -> Quote:
        """Price ``lines`` (in the order given) for ``destination`` with ``shipping_method`` (none:
        the cheapest available), the running promotions and the promotions ``voucher_codes`` unlock.
        ``customer_id`` checks each voucher's per-customer limit; ``first_order`` (None: unknown, not
        checked) its first-order-only rule. A voucher that applies to nothing is in ``Quote.vouchers``
        with a zero discount, not an error: the caller decides (the cart refuses it, checkout skips it).

        Raises ``UnknownSku`` / ``InactiveProduct`` / ``PriceCurrencyMismatch`` (with ``skus``),
        ``ShippingMethodUnavailable``, ``TaxUnavailable``, ``ValidationFailed`` (bad lines or destination),
        the ``VoucherError``s (``voucher_unknown`` 404, ``voucher_expired``, ``voucher_exhausted``,
        ``voucher_min_subtotal``, ``voucher_not_applicable``).
        """
        ...

    @idempotent
    def redeem_vouchers(self, *, customer_id: int, order_reference: str, uses: Sequence[VoucherUse]) -> None:
        """Hold one use of each voucher for the order ``order_reference``, all or none, atomically against
        every other checkout (the limits hold under concurrency). A zero discount holds nothing. Again for
        the same order: nothing more (idempotent). Raises the ``VoucherError``s, ``voucher_exhausted`` first."""
        ...

    @idempotent
    def release_vouchers(self, *, order_reference: str) -> None:
        """Give back the uses the order holds (it was cancelled, expired, or never placed); again: nothing."""
        ...

    @idempotent
    def shipping_methods(
        self,
        *,
        lines: Sequence[Line],
        destination: Destination | None = None,
        customer_id: int | None = None,
    ) -> list[ShippingCharge]:
        """Every method that ships ``lines`` to ``destination``, priced, cheapest first (the first is
        what ``quote`` picks without a ``shipping_method``). Raises what ``quote`` raises, but never
        ``ShippingMethodUnavailable``."""
        ...
