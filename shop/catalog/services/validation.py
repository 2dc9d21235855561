"""Validation of catalog input shared by the staff API, the admin forms and the CSV import: one set of
rules, so a value one door accepts is never refused (or half-saved) by another."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Final

from shop.catalog import api
from shop.kernel import Money, ValidationFailed
from shop.kernel.money import CURRENCY_EXPONENTS

# The price columns hold two decimal places, so currencies with three (BHD, KWD) cannot be stored exactly.
PRICE_DECIMAL_PLACES: Final = 2
MAX_PRICE: Final = Decimal("9999999999.99")  # DecimalField(max_digits=12, decimal_places=2)
CURRENCIES: Final = tuple(sorted(c for c, e in CURRENCY_EXPONENTS.items() if e <= PRICE_DECIMAL_PLACES))
SKU_RE: Final = re.compile(rf"^{api.SKU_PATTERN}$")
SLUG_RE: Final = re.compile(r"^[-a-zA-Z0-9_]+$")
MAX_ATTRIBUTES: Final = 50
MAX_IMAGES: Final = 20
MAX_WEIGHT_GRAMS: Final = 1_000_000  # a tonne: a parcel service's limits are far below


def invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, errors={field: [message]})


def money_of(*, amount: Decimal | str | int, currency: str, field: str = "price") -> Money:
    """A storable price: a supported currency, not negative, no more decimals than the currency has."""
    if isinstance(amount, float | bool):
        raise invalid(field, "Amounts are decimal strings, never floats.")
    currency = str(currency).upper()
    if currency not in CURRENCIES:
        raise invalid(field, f"Unsupported currency {currency!r}; one of {', '.join(CURRENCIES)}.")
    try:
        money = Money(Decimal(amount), currency)
    except (ValueError, ArithmeticError, TypeError):
        raise invalid(field, f"{amount!r} is not a decimal amount.") from None
    if money.amount != Decimal(amount):
        raise invalid(field, f"{currency} takes {CURRENCY_EXPONENTS[currency]} decimal places.")
    if not Decimal(0) <= money.amount <= MAX_PRICE:
        raise invalid(field, f"The amount must be between 0 and {MAX_PRICE}.")
    return money


def check_sku(sku: str) -> str:
    if not isinstance(sku, str) or not SKU_RE.match(sku):
        raise invalid("sku", "1-64 characters: letters, digits, '.', '_' or '-', starting with a letter or digit.")
    return sku


def check_attributes(attributes: Any, *, field: str = "attributes") -> dict[str, str]:
    """Attributes are a flat text map (``{"colour": "blue"}``): what storefront filters and DTOs expect."""
    if not isinstance(attributes, Mapping):
        raise invalid(field, "A JSON object of text values.")
    if len(attributes) > MAX_ATTRIBUTES:
        raise invalid(field, f"At most {MAX_ATTRIBUTES} attributes.")
    for key, value in attributes.items():
        if not isinstance(key, str) or not isinstance(value, str) or not 0 < len(key) <= 50 or len(value) > 200:
            raise invalid(field, "Names of 1-50 characters with text values of at most 200.")
    return dict(attributes)


def check_image_urls(image_urls: Any) -> list[str]:
    if isinstance(image_urls, str) or not isinstance(image_urls, Sequence):
        raise invalid("image_urls", "A list of URLs.")
    if len(image_urls) > MAX_IMAGES:
        raise invalid("image_urls", f"At most {MAX_IMAGES} images.")
    for url in image_urls:
        if not isinstance(url, str) or not url.startswith(("https://", "http://")) or len(url) > 500:
            raise invalid("image_urls", "Each image is an http(s) URL of at most 500 characters.")
    return list(image_urls)


def check_tax_class(tax_class: Any) -> str:
    """One of the catalog's tax classes (``api.TAX_CLASSES``): pricing taxes a product by its class."""
    if tax_class not in api.TAX_CLASSES:
        raise invalid("tax_class", f"One of {', '.join(api.TAX_CLASSES)}.")
    return str(tax_class)


def check_weight(weight_grams: Any) -> int:
    """A shipping weight in whole grams (0: not weighed), what weight-banded shipping methods add up."""
    if isinstance(weight_grams, bool) or not isinstance(weight_grams, int) or not 0 <= weight_grams <= MAX_WEIGHT_GRAMS:
        raise invalid("weight_grams", f"Whole grams between 0 and {MAX_WEIGHT_GRAMS}.")
    return weight_grams
