"""A quote costs a fixed number of queries whatever the number of lines (issue 15 done-when 5): one catalog
read for every SKU, one read of the rates for every place and class, one of the shipping methods and bands."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from decimal import Decimal

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from shop.pricing.api import Destination, Line, PricingAPI
from shop.pricing.models import Promotion
from tests.catalog.factories import ProductFactory, VariantFactory
from tests.helpers import method_queries

pytestmark = pytest.mark.django_db


@contextmanager
def every_database() -> Iterator[list[CaptureQueriesContext]]:
    with ExitStack() as stack:
        yield [stack.enter_context(CaptureQueriesContext(connections[alias])) for alias in connections]


def queries_of(pricing: PricingAPI, lines: list[Line]) -> int:
    with every_database() as captured:
        quote = pricing.quote(lines=lines, destination=Destination(country="DE", postal_code="10117"))
    assert len(quote.lines) == len(lines) and quote.shipping is not None
    return sum(len(method_queries(c)) for c in captured)  # without the remote transport's own nonce


def test_a_quote_of_10_lines_costs_the_queries_of_one(pricing: PricingAPI) -> None:
    classes = ["standard", "reduced", "super_reduced", "zero", "exempt"]
    skus = [
        VariantFactory.create(
            price_amount=Decimal("9.99"), weight_grams=100 * i, product=ProductFactory.create(tax_class=classes[i % 5])
        ).sku
        for i in range(10)
    ]
    one = queries_of(pricing, [Line(sku=skus[0], quantity=1)])
    ten = queries_of(pricing, [Line(sku=sku, quantity=2) for sku in skus])

    assert one == ten
    assert one <= 6  # catalog variants, rates, methods, bands, promotions, vouchers: a change is a conscious one


def test_200_running_promotions_cost_the_queries_of_one(pricing: PricingAPI) -> None:
    skus = [VariantFactory.create(price_amount=Decimal("30.00")).sku for _ in range(3)]
    lines = [Line(sku=sku, quantity=2) for sku in skus]
    Promotion.objects.create(name="one", label="one", everything=True, value=Decimal("5"))
    one = queries_of(pricing, lines)
    Promotion.objects.bulk_create(
        Promotion(name=f"p{i}", label=f"p{i}", everything=i % 2 == 0, skus=skus[i % 3], value=Decimal("1"))
        for i in range(199)
    )

    quote_many = pricing.quote(lines=lines, destination=Destination(country="DE"))
    assert len({d.source for line in quote_many.lines for d in line.discounts}) > 100  # they really apply
    assert queries_of(pricing, lines) == one
