"""What every other context may know about the catalog: the ``CatalogAPI`` Protocol, its DTOs,
errors and events. Standard library and ``shop.kernel`` only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar, Protocol
from uuid import UUID

from shop.kernel import Conflict, Event, Money, NotFound, ValidationFailed, idempotent

MAX_SKUS_PER_CALL = 500
# What a SKU looks like. SKUs travel in URLs, CSV files and other contexts' rows: a conservative alphabet,
# no spaces, slashes or NUL, at most 64 characters. Routes taking a SKU match only this.
SKU_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}"
MAX_RESERVATION_TTL_S = 24 * 3600
# How a product is taxed. The catalog only labels products; pricing owns the rate of each class per
# country (standard first: the default). ``zero`` is taxable at 0 %; ``exempt`` is outside VAT.
TAX_CLASSES: tuple[str, ...] = ("standard", "reduced", "super_reduced", "zero", "exempt")


@dataclass(frozen=True, kw_only=True, slots=True)
class Variant:
    """A sellable SKU as other contexts see it: price now, availability now."""

    sku: str
    product_id: int
    product_name: str
    product_slug: str
    name: str
    attributes: dict[str, str]
    price: Money
    compare_at_price: Money | None
    available: int
    is_active: bool  # false when the variant or its product is no longer sold
    tax_class: str  # the product's, one of TAX_CLASSES
    weight_grams: int  # shipping weight of one unit (0: not weighed)
    # The product's category and every ancestor, root first (what "a category and its descendants" matches).
    category_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True, slots=True)
class Line:
    sku: str
    quantity: int


@dataclass(frozen=True, kw_only=True, slots=True)
class ReservedLine:
    sku: str
    quantity: int


@dataclass(frozen=True, kw_only=True, slots=True)
class Reservation:
    reservation_id: UUID
    state: str  # "active" | "committed" | "released"
    expires_at: datetime
    lines: list[ReservedLine] = field(default_factory=list)


class OutOfStock(Conflict):
    """Raised with ``shortages``: a list of ``{"sku", "requested", "available"}`` for every line that
    could not be reserved (plain dicts, so they travel in problem+json); nothing was reserved."""

    code = "out_of_stock"
    title = "Not enough stock for one or more items"


class InvalidPriceRange(ValidationFailed):
    """A product filter whose ``min_price`` is above its ``max_price``: well formed, but it names no range."""

    code = "invalid_price_range"
    title = "min_price is above max_price"


class UnknownSku(NotFound):
    resource = "sku"  # carries ``skus``: every SKU of the request that names nothing
    title = "No such SKU"


class InactiveProduct(Conflict):
    code = "inactive_product"
    title = "This product is no longer sold"


class ProductNotFound(NotFound):
    resource = "product"
    title = "No such product"


class CategoryNotFound(NotFound):
    resource = "category"
    title = "No such category"


class ReservationNotFound(NotFound):
    resource = "reservation"
    title = "No such stock reservation"


class ReservationExpired(Conflict):
    code = "reservation_expired"
    title = "The stock reservation expired and was released"


class StockBelowReserved(Conflict):
    """A stock change would leave less on hand than customers hold (carries ``sku``, ``on_hand``, ``reserved``)."""

    code = "stock_below_reserved"
    title = "On-hand stock cannot go below the reserved quantity"


class InvalidLines(ValidationFailed):
    code = "invalid_lines"
    title = "The lines of the request are invalid"


class SlugTaken(Conflict):
    """A staff write chose a product or category slug another one already has."""

    code = "slug_taken"
    title = "This slug is already taken"


class SkuTaken(Conflict):
    code = "sku_taken"
    title = "This SKU is already taken"


class CategoryNotEmpty(Conflict):
    code = "category_not_empty"
    title = "The category still has products or subcategories"


@dataclass(frozen=True, kw_only=True, slots=True)
class StockLow(Event):
    sku: str
    available: int
    threshold: int


@dataclass(frozen=True, kw_only=True, slots=True)
class ProductPriceChanged(Event):
    sku: str
    old_price: Money
    new_price: Money


class CatalogAPI(Protocol):
    context: ClassVar[str] = "catalog"

    @idempotent
    def get_variants(self, *, skus: Sequence[str]) -> list[Variant]:
        """The variants among ``skus`` that exist (in the order asked; unknown ones left out), one query."""
        ...

    @idempotent
    def reserve(self, *, reservation_id: UUID, lines: Sequence[Line], ttl_s: int) -> Reservation:
        """Hold stock for every line, all or nothing; the same ``reservation_id`` reserves once.

        Raises ``OutOfStock`` (with ``shortages``), ``UnknownSku`` or ``InactiveProduct`` (with ``skus``).
        """
        ...

    @idempotent
    def commit(self, *, reservation_id: UUID) -> Reservation:
        """Turn held stock into sold stock (the order was paid). Idempotent."""
        ...

    @idempotent
    def release(self, *, reservation_id: UUID) -> Reservation:
        """Give held stock back (checkout failed, order cancelled or expired). Idempotent."""
        ...
