"""Which shipping methods serve a destination, and what each costs for a basket. Pure functions over
the records ``selectors.active_shipping_methods`` reads.

**Zones.** The most specific zones that match decide, and only theirs are offered: zones naming the
country *and* a prefix of the postal code, else zones naming the country (without prefixes), else the
zones without countries (the rest of the world). A country with a zone of its own therefore never
sees the worldwide methods. Without a known country, only the rest-of-the-world zones match.

**Price.** A banded method takes the price of the lowest band covering the basket (the goods'
price after discounts for ``subtotal`` bands, the weight in grams for ``weight`` bands); a basket
above every band cannot use it. A method is free when the goods cost ``free_over`` or more (and,
when banded, a band covers the basket). Amounts are in the price entry mode, like the catalog's.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from shop.pricing.selectors import Method, normalise_postal_code


def zone_match(method: Method, *, country: str | None, postal_code: str) -> int | None:
    """How specifically the method's zone matches (0 best), or ``None`` when it does not."""
    if not method.zone_countries:
        return 2
    if country is None or country not in method.zone_countries:
        return None
    if not method.zone_postal_prefixes:
        return 1
    code = normalise_postal_code(postal_code)
    if code and any(code.startswith(prefix) for prefix in method.zone_postal_prefixes):
        return 0
    return None


def serving(methods: Sequence[Method], *, country: str | None, postal_code: str) -> list[Method]:
    """The methods of the most specific matching zones."""
    ranked = [
        (rank, m) for m in methods if (rank := zone_match(m, country=country, postal_code=postal_code)) is not None
    ]
    if not ranked:
        return []
    best = min(rank for rank, _ in ranked)
    return [m for rank, m in ranked if rank == best]


def price_of(method: Method, *, goods: Decimal, weight_grams: int) -> Decimal | None:
    """The method's price for this basket, or ``None`` when it cannot carry it."""
    price = method.flat_price
    if method.pricing != "flat":
        measure = goods if method.pricing == "subtotal" else Decimal(weight_grams)
        band = next((b for b in method.bands if b.up_to is None or measure <= b.up_to), None)
        if band is None:
            return None
        price = band.price
    if method.free_over is not None and goods >= method.free_over:
        return Decimal(0)
    return price
