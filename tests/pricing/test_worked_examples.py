"""The worked examples of docs/pricing.md, quoted for real: the page's table is the expectation.

Each row's figures were worked out by hand from the rules on that page (per-line rounding, half to
even); this test prices each basket through ``PricingAPI`` (local, or over HTTP when the suite runs
with remote contexts) and fails when the code and the page disagree, in either direction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from shop.pricing.api import Destination, Line, PricingAPI, Quote
from tests.catalog.factories import ProductFactory, VariantFactory
from tests.pricing.factories import method, zone

DOC = Path(__file__).resolve().parents[2] / "docs" / "pricing.md"
pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Example:
    gross: bool
    to: str
    basket: tuple[tuple[str, int], ...]


EXAMPLES = {
    1: Example(gross=True, to="DE", basket=(("TEE", 2),)),
    2: Example(gross=True, to="FR", basket=(("TEE", 2),)),
    3: Example(gross=False, to="US", basket=(("TEE", 2),)),
    4: Example(gross=True, to="DE", basket=(("BOOK", 1),)),
    5: Example(gross=True, to="DE", basket=(("TEE", 3),)),
    6: Example(gross=True, to="AT", basket=(("BOOTS", 2),)),
}


def documented_rows() -> dict[int, dict[str, str]]:
    """The table under "## Worked examples", by its ``#`` column."""
    section = DOC.read_text().split("## Worked examples", 1)[1].split("\n## ", 1)[0]
    table = [line for line in section.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in table[0].strip("|").split("|")]
    rows = [dict(zip(header, (c.strip() for c in line.strip("|").split("|")), strict=True)) for line in table[2:]]
    return {int(row["#"]): row for row in rows}


def percent(rate: Decimal) -> str:
    return f"{rate.normalize():f} %"


def figures(quote: Quote) -> dict[str, str]:
    """The quote in the page's words."""
    shipping = quote.shipping
    assert shipping is not None
    return {
        "lines: total (tax)": "; ".join(f"{line.total.amount} ({line.tax.amount})" for line in quote.lines),
        "shipping: total (tax)": f"{shipping.method} {shipping.total.amount} ({shipping.tax.amount})",
        "net": str(quote.net.amount),
        "tax": str(quote.tax.amount),
        "total": str(quote.total.amount),
        "tax breakdown: net / tax": "; ".join(
            f"{percent(row.rate)}: {row.net.amount} / {row.tax.amount}" for row in quote.tax_breakdown
        ),
    }


@pytest.fixture
def shop() -> None:
    """The catalog and shipping of the examples: the seeded worldwide method (4.90, free from 50.00)
    and an Austrian zone with a weight-banded parcel service."""
    VariantFactory(sku="TEE", price_amount=Decimal("19.99"))
    VariantFactory(sku="BOOK", price_amount=Decimal("12.00"), product=ProductFactory(tax_class="reduced"))
    VariantFactory(sku="BOOTS", price_amount=Decimal("89.00"), weight_grams=1200)
    austria = zone("Austria", ["AT"])
    method(austria, "parcel-at", pricing="weight", bands=[("1000", "5.90"), ("5000", "8.90"), ("20000", "14.90")])


def test_the_page_shows_every_example() -> None:
    assert sorted(documented_rows()) == sorted(EXAMPLES)


@pytest.mark.parametrize("number", sorted(EXAMPLES))
def test_each_worked_example_is_what_the_quote_says(
    number: int, shop: None, settings: Any, pricing: PricingAPI
) -> None:
    example = EXAMPLES[number]
    settings.SHOP_PRICES_INCLUDE_TAX = example.gross
    settings.SHOP_TAX_ORIGIN_COUNTRY = "DE" if example.gross else "US"

    quote = pricing.quote(
        lines=[Line(sku=sku, quantity=quantity) for sku, quantity in example.basket],
        destination=Destination(country=example.to),
    )

    row = documented_rows()[number]
    assert re.search(rf"\b{example.to}\b", row["to"]), row
    assert {key: row[key] for key in figures(quote)} == figures(quote)
    assert quote.total == sum((line.total for line in quote.lines), quote.shipping.total)  # type: ignore[union-attr]
