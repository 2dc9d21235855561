"""Checkout costs a fixed number of queries, whatever the number of cart lines (all databases)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from decimal import Decimal

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from shop.pricing.models import Promotion
from shop.users.models import User
from tests.orders.conftest import place

pytestmark = pytest.mark.django_db


@contextmanager
def every_database() -> Iterator[list[CaptureQueriesContext]]:
    with ExitStack() as stack:
        yield [stack.enter_context(CaptureQueriesContext(connections[alias])) for alias in connections]


def checkout_queries(client: APIClient) -> list[str]:
    with every_database() as captured:
        response = place(client)
    assert response.status_code == 201, response.content
    return [q["sql"] for c in captured for q in c.captured_queries]


def test_checkout_queries_do_not_grow_with_the_lines(
    stocked: Callable[..., list[str]], shopper: Callable[..., tuple[User, APIClient]]
) -> None:
    skus = stocked(20)
    _, one = shopper(skus[:1])
    _, twenty = shopper(skus)
    few, many = checkout_queries(one), checkout_queries(twenty)
    assert len(few) == len(many), "\n".join(many)


def test_checkout_queries_do_not_grow_with_the_running_promotions(
    stocked: Callable[..., list[str]], shopper: Callable[..., tuple[User, APIClient]]
) -> None:
    """Issue 16 done-when 4: one promotion or 200, every one of them applying, the same statements."""
    skus = stocked(6)
    Promotion.objects.create(name="p", label="p", everything=True, value=Decimal("1"))
    _, first = shopper(skus[:3])
    _, second = shopper(skus[3:])
    one = checkout_queries(first)
    Promotion.objects.bulk_create(
        Promotion(name=f"p{i}", label=f"p{i}", everything=True, value=Decimal("0.5")) for i in range(199)
    )

    many = checkout_queries(second)

    assert len(one) == len(many), "\n".join(many)
