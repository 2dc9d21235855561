"""One cursor decoder for every list: a cursor we did not make is 400 ``invalid_cursor``, never a 500.

The orders list used DRF's cursor, whose position went into the query unchecked
(``p=1e309``, ``p=%00``, ``r=1&p=notadate`` → 500) while the products list answered 400.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from shop.kernel import cursors
from shop.orders.models import Order
from tests.factories import UserFactory
from tests.helpers import assert_problem

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/orders/"
PRODUCTS = "/api/v1/catalog/products/"
REPORTED = ["cD0xZTMwOQ==", "cD0lMDA=", "cj0xJnA9bm90YWRhdGU="]  # p=1e309, p=%00, r=1&p=notadate


def _b64(payload: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


FORGED = [
    *REPORTED,
    "garbage",
    "",
    "=",
    "x" * 2000,
    _b64({"o": "-placed_at,-id", "b": False, "v": ["not a date", 1]}),
    _b64({"o": "-placed_at,-id", "b": False, "v": ["2024-01-01T00:00:00", 1]}),  # naive
    _b64({"o": "-placed_at,-id", "b": False, "v": ["0001-01-01T00:00:00+14:00", 1]}),  # before year 1 in UTC
    _b64({"o": "-placed_at,-id", "b": False, "v": ["2024-01-01T00:00:00+00:00", 2**70]}),
    _b64({"o": "-placed_at,-id", "b": False, "v": ["2024-01-01T00:00:00+00:00", "1"]}),
    _b64({"o": "-placed_at,-id", "b": False, "v": ["2024-01-01T00:00:00+00:00\x00", 1]}),
    _b64({"o": "-placed_at,-id", "b": "yes", "v": ["2024-01-01T00:00:00+00:00", 1]}),
    _b64({"o": "-placed_at,-id", "b": False, "v": ["2024-01-01T00:00:00+00:00"]}),
    _b64({"o": "newest", "b": False, "v": ["2024-01-01T00:00:00+00:00", 1]}),  # the products' order
    _b64([1, 2]),
    base64.urlsafe_b64encode(b"[" * 5000 + b"]" * 5000).decode(),
]


@pytest.fixture
def customer_with_orders(db: None) -> Callable[[int], APIClient]:
    def make(count: int) -> APIClient:
        user = UserFactory.create()
        for i in range(count):
            Order.objects.create(
                number=f"SO-TEST-{i:04d}",
                customer_id=user.pk,
                currency="EUR",
                subtotal_amount=Decimal("1.00"),
                shipping_amount=Decimal("0.00"),
                tax_amount=Decimal("0.00"),
                total_amount=Decimal("1.00"),
                shipping_address={},
                idempotency_key=f"key-{i}",
                request_fingerprint="x",
                reservation_id=uuid.uuid4(),
            )
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


@pytest.fixture
def orders_client(customer_with_orders: Callable[[int], APIClient]) -> APIClient:
    return customer_with_orders(2)


@pytest.mark.parametrize("cursor", FORGED)
def test_the_orders_list_refuses_a_forged_cursor_with_400_invalid_cursor(
    customer_with_orders: Callable[[int], APIClient], cursor: str
) -> None:
    client = customer_with_orders(3)
    response = client.get(ORDERS, {"cursor": cursor})
    if cursor == "":
        assert_problem(response, 400, "validation_error")  # documented non-empty; never a silent first page
    else:
        assert_problem(response, 400, "invalid_cursor")


@pytest.mark.parametrize("cursor", REPORTED)
def test_the_products_list_answers_the_same_for_the_same_strings(api_client: APIClient, cursor: str) -> None:
    assert_problem(api_client.get(PRODUCTS, {"cursor": cursor}), 400, "invalid_cursor")


def test_orders_pages_walk_forward_and_back_through_ties(customer_with_orders: Callable[[int], APIClient]) -> None:
    client = customer_with_orders(7)
    Order.objects.update(placed_at=datetime(2024, 5, 1, tzinfo=UTC))  # every key ties but the id
    pages = [client.get(ORDERS, {"page_size": 3}).json()]
    while pages[-1]["next"]:
        pages.append(client.get(pages[-1]["next"]).json())
    numbers = [o["number"] for page in pages for o in page["results"]]
    assert numbers == [f"SO-TEST-{i:04d}" for i in reversed(range(7))]
    assert [len(page["results"]) for page in pages] == [3, 3, 1]
    assert pages[0]["previous"] is None
    back = client.get(pages[-1]["previous"]).json()
    assert back["results"] == pages[1]["results"]
    assert client.get(back["previous"]).json()["results"] == pages[0]["results"]


# --- the decoder itself, fuzzed --------------------------------------------------------------------------

KINDS: list[cursors.Kind] = ["datetime", "decimal", "str", "int"]
_payloads = st.fixed_dictionaries(
    {"o": st.sampled_from(["o", "other"]) | st.text(max_size=3), "b": st.booleans() | st.integers()},
    optional={
        "v": st.lists(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40), max_size=5)
    },
)


@hypothesis_settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=1200) | _payloads.map(_b64))
def test_the_decoder_only_ever_answers_a_position_or_invalid_cursor(cursor: str) -> None:
    try:
        position = cursors.decode(cursor, order="o", kinds=KINDS)
    except cursors.InvalidCursor as exc:
        assert exc.status == 400
        return
    moment, number, text, identifier = position.values
    assert moment.tzinfo is not None and number.is_finite() and "\x00" not in text and abs(identifier) < 2**63


@hypothesis_settings(max_examples=300, deadline=None)
@given(
    st.datetimes(timezones=st.just(UTC)),
    st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**11), max_value=10**11, places=2),
    st.text(max_size=100).filter(lambda t: "\x00" not in t),
    st.integers(min_value=-(2**63) + 1, max_value=2**63 - 1),
    st.booleans(),
)
def test_every_position_we_make_decodes_to_itself(
    moment: datetime, number: Decimal, text: str, identifier: int, backwards: bool
) -> None:
    position = cursors.Position(order="o", backwards=backwards, values=(moment, number, text, identifier))
    try:
        text.encode()
    except UnicodeEncodeError:
        return  # a lone surrogate: no row can hold it, so no cursor of ours carries one
    assert cursors.decode(cursors.encode(position, KINDS), order="o", kinds=KINDS) == position


@hypothesis_settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(cursor=st.text(max_size=300) | _payloads.map(_b64))
def test_no_cursor_makes_a_list_answer_5xx(cursor: str, orders_client: APIClient, api_client: APIClient) -> None:
    for response in (orders_client.get(ORDERS, {"cursor": cursor}), api_client.get(PRODUCTS, {"cursor": cursor})):
        assert response.status_code < 500, response.content[:300]
        if response.status_code >= 400:
            assert response["Content-Type"] == "application/problem+json"
