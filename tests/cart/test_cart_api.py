"""The cart API as customers and guests see it: whole-cart responses, clear errors that change
nothing, owners kept apart, guest carts merged at login, O(1) queries per read."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from shop.cart import tasks
from shop.cart.models import Cart, CartLine
from shop.cart.selectors import hash_token
from shop.catalog.models import Variant
from tests.cart.conftest import CART, LINES, add, guest, line_url
from tests.factories import UserFactory
from tests.helpers import assert_problem, method_queries

pytestmark = pytest.mark.django_db

Skus = Callable[[int], list[str]]
Login = Callable[..., APIClient]


def snapshot() -> list[tuple[Any, ...]]:
    """Everything the cart database holds, to prove a refused request changed nothing."""
    carts = list(Cart.objects.order_by("pk").values_list("pk", "user_id", "version"))
    lines = list(CartLine.objects.order_by("pk").values_list("cart_id", "sku", "quantity", "price_when_added_amount"))
    return [*carts, *lines]


# --- guests -----------------------------------------------------------------------------------------


def test_a_guest_gets_a_token_on_the_first_add_and_uses_it_after(skus: Skus) -> None:
    tee, other = skus(2)
    anonymous = APIClient()
    empty = anonymous.get(CART)
    assert empty.status_code == 200
    assert empty.json() == {
        "version": 0,
        "lines": [],
        "item_count": 0,
        "subtotal": {"amount": "0.00", "currency": "EUR"},
        "warnings": [],
        "voucher_codes": [],
        "quote": None,  # nothing to price
    }
    assert Cart.objects.count() == 0  # reading opens nothing

    opened = add(anonymous, tee, 2)
    assert opened.status_code == 201
    token = opened["X-Cart-Token"]
    assert len(token) >= 40
    assert opened.json()["item_count"] == 2

    client = guest(token)
    second = add(client, other, 1)
    assert second.status_code == 200 and "X-Cart-Token" not in second
    body = client.get(CART).json()
    assert [(line["sku"], line["quantity"], line["line_total"]["amount"]) for line in body["lines"]] == [
        (tee, 2, "20.00"),
        (other, 1, "11.00"),
    ]
    assert body["subtotal"] == {"amount": "31.00", "currency": "EUR"}
    assert Cart.objects.get().token_hash != token  # only a hash is stored


def test_every_response_is_the_whole_cart(skus: Skus) -> None:
    tee, other = skus(2)
    client = guest(add(APIClient(), tee, 1)["X-Cart-Token"])
    add(client, other, 1)

    patched = client.patch(line_url(tee), {"quantity": 5}, format="json")
    assert patched.status_code == 200
    assert [(line["sku"], line["quantity"]) for line in patched.json()["lines"]] == [(tee, 5), (other, 1)]
    removed = client.delete(line_url(other))
    assert [line["sku"] for line in removed.json()["lines"]] == [tee]
    cleared = client.delete(CART)
    assert cleared.status_code == 200 and cleared.json()["lines"] == []
    line = client.get(CART).json()
    assert line["version"] == 5 and line["item_count"] == 0


# --- bad input: a clear problem, and nothing changes ---------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"sku": "NO-SUCH-SKU", "quantity": 1}, 404, "not_found"),
        ({"sku": "TEE-000", "quantity": 0}, 400, "quantity_out_of_range"),
        ({"sku": "TEE-000", "quantity": 100}, 400, "quantity_out_of_range"),
        ({"sku": "TEE-000", "quantity": -3}, 400, "quantity_out_of_range"),
        ({"sku": "TEE-000", "quantity": "lots"}, 400, "validation_error"),
        ({"quantity": 1}, 400, "validation_error"),
        ({"sku": "TEE-000", "quantity": 1, "price": "0.01"}, 400, "validation_error"),  # clients never set prices
        ({"sku": "TEE-000", "quantity": 1, "unit_price": {"amount": "0.01"}}, 400, "validation_error"),
        ({"sku": "TEE-000", "quantity": 1, "user_id": 1}, 400, "validation_error"),  # nor owners
    ],
)
def test_a_refused_add_is_a_problem_and_changes_nothing(
    skus: Skus, login: Login, body: dict[str, Any], status: int, code: str
) -> None:
    skus(1)
    client = login(UserFactory())
    add(client, "TEE-000", 1)
    before = snapshot()
    assert_problem(client.post(LINES, body, format="json"), status, code)
    assert snapshot() == before


def test_a_withdrawn_product_cannot_be_added(skus: Skus, login: Login) -> None:
    (tee,) = skus(1)
    Variant.objects.filter(sku=tee).update(is_active=False)
    client = login(UserFactory())
    assert_problem(add(client, tee), 409, "inactive_product")
    assert snapshot() == []


def test_a_refused_guest_add_opens_no_cart() -> None:
    response = add(APIClient(), "NO-SUCH-SKU")
    assert_problem(response, 404, "not_found", resource="sku")
    assert "X-Cart-Token" not in response
    assert snapshot() == []


def test_line_limits_are_settings(skus: Skus, login: Login, settings: Any) -> None:
    settings.SHOP_CART_MAX_LINES = 2
    settings.SHOP_CART_MAX_QUANTITY = 5
    first, second, third = skus(3)
    client = login(UserFactory())
    add(client, first, 5)
    add(client, second, 1)
    before = snapshot()
    assert assert_problem(add(client, third), 409, "cart_full")["max_lines"] == 2
    assert assert_problem(add(client, first), 400, "quantity_out_of_range")["maximum"] == 5
    assert_problem(client.patch(line_url(second), {"quantity": 6}, format="json"), 400, "quantity_out_of_range")
    assert snapshot() == before


def test_changing_a_line_that_is_not_there(skus: Skus, login: Login) -> None:
    (tee,) = skus(1)
    client = login(UserFactory())
    assert_problem(client.patch(line_url(tee), {"quantity": 2}, format="json"), 404, "not_found", resource="cart_line")
    assert_problem(APIClient().patch(line_url(tee), {"quantity": 2}, format="json"), 404, "not_found", resource="cart")
    assert_problem(APIClient().delete(CART), 404, "not_found", resource="cart")


# --- owners are kept apart ----------------------------------------------------------------------------


def test_customers_never_reach_each_others_carts(skus: Skus, login: Login) -> None:
    tee, other = skus(2)
    alice, bob = login(UserFactory()), login(UserFactory())
    add(alice, tee, 3)
    add(bob, other, 1)

    assert [line["sku"] for line in alice.get(CART).json()["lines"]] == [tee]
    assert [line["sku"] for line in bob.get(CART).json()["lines"]] == [other]
    assert_problem(bob.patch(line_url(tee), {"quantity": 1}, format="json"), 404, "not_found", resource="cart_line")
    bob.delete(line_url(tee))
    bob.delete(CART)
    assert [(line["sku"], line["quantity"]) for line in alice.get(CART).json()["lines"]] == [(tee, 3)]


def test_a_guessed_or_foreign_token_gets_nothing(skus: Skus, login: Login) -> None:
    (tee,) = skus(1)
    token = add(APIClient(), tee, 2)["X-Cart-Token"]
    before = snapshot()
    for guessed in ("a" * 43, token[:-2], token + "x", "x" * 500):
        client = guest(guessed)
        assert_problem(client.get(CART), 404, "not_found", resource="cart")
        assert_problem(add(client, tee), 404, "not_found", resource="cart")
        assert_problem(client.delete(CART), 404, "not_found", resource="cart")
    assert snapshot() == before
    # A signed-in customer sending someone's guest token still works on their own cart only.
    customer = login(UserFactory())
    customer.credentials(HTTP_AUTHORIZATION=f"Bearer {customer.tokens['access']}", HTTP_X_CART_TOKEN=token)  # type: ignore[attr-defined]
    assert customer.get(CART).json()["lines"] == []


def test_the_price_always_comes_from_the_catalog(skus: Skus, login: Login) -> None:
    (tee,) = skus(1)
    client = login(UserFactory())
    add(client, tee, 2)
    Variant.objects.filter(sku=tee).update(price_amount=Decimal("12.50"))
    body = client.get(CART).json()
    assert body["lines"][0]["unit_price"] == {"amount": "12.50", "currency": "EUR"}
    assert body["lines"][0]["price_when_added"] == {"amount": "10.00", "currency": "EUR"}
    assert body["subtotal"] == {"amount": "25.00", "currency": "EUR"}
    assert [(w["code"], w["previous_price"]["amount"]) for w in body["warnings"]] == [("price_changed", "10.00")]


# --- merge at login -----------------------------------------------------------------------------------


def test_guest_lines_survive_registration_and_login_through_merge(skus: Skus, api_client: APIClient) -> None:
    tee, other = skus(2)
    token = add(APIClient(), tee, 2)["X-Cart-Token"]
    add(guest(token), other, 1)

    registered = api_client.post(
        "/api/v1/auth/register/", {"email": "new@example.com", "password": "a-long-pass-phrase-42"}, format="json"
    )
    assert registered.status_code == 201, registered.content
    tokens = api_client.post(
        "/api/v1/auth/token/", {"email": "new@example.com", "password": "a-long-pass-phrase-42"}, format="json"
    ).json()
    customer = APIClient()
    customer.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}", HTTP_X_CART_TOKEN=token)

    merged = customer.post("/api/v1/cart/merge/")
    assert merged.status_code == 200, merged.content
    assert [(line["sku"], line["quantity"]) for line in merged.json()["lines"]] == [(tee, 2), (other, 1)]

    customer.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert customer.get(CART).json()["lines"] == merged.json()["lines"]
    assert_problem(guest(token).get(CART), 404, "not_found", resource="cart")  # the token is dead
    again = APIClient()
    again.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}", HTTP_X_CART_TOKEN=token)
    assert_problem(again.post("/api/v1/cart/merge/"), 404, "not_found", resource="cart")


def test_merge_needs_a_signed_in_customer_and_a_token(skus: Skus, login: Login) -> None:
    (tee,) = skus(1)
    token = add(APIClient(), tee)["X-Cart-Token"]
    assert_problem(guest(token).post("/api/v1/cart/merge/"), 401, "not_authenticated")
    assert_problem(login(UserFactory()).post("/api/v1/cart/merge/"), 400, "cart_token_required")  # a required header
    assert guest(token).get(CART).status_code == 200  # untouched


# --- expiry ---------------------------------------------------------------------------------------------


def test_abandoned_guest_carts_expire_and_the_task_deletes_them(skus: Skus, login: Login, settings: Any) -> None:
    (tee,) = skus(1)
    settings.SHOP_GUEST_CART_TTL_DAYS = 7
    stale = add(APIClient(), tee)["X-Cart-Token"]
    fresh = add(APIClient(), tee)["X-Cart-Token"]
    customer = login(UserFactory())
    add(customer, tee)
    long_ago = timezone.now() - timedelta(days=8)
    Cart.objects.filter(token_hash=hash_token(stale)).update(updated_at=long_ago)
    Cart.objects.filter(user_id__isnull=False).update(updated_at=long_ago)  # customers' carts never expire

    assert_problem(guest(stale).get(CART), 404, "not_found", resource="cart")  # expired at once, before the task runs
    assert tasks.delete_expired_guest_carts.apply().get(disable_sync_subtasks=False) == 1
    assert Cart.objects.filter(user_id__isnull=True).count() == 1
    assert guest(fresh).get(CART).json()["item_count"] == 1
    assert customer.get(CART).json()["item_count"] == 1


# --- queries ----------------------------------------------------------------------------------------------


@contextmanager
def all_queries() -> Iterator[list[CaptureQueriesContext]]:
    """Queries on every database alias (one per context in multi-database mode)."""
    with ExitStack() as stack:
        yield [stack.enter_context(CaptureQueriesContext(connections[alias])) for alias in connections]


def queries_for_get(client: APIClient) -> int:
    with all_queries() as captured:
        response = client.get(CART)
    assert response.status_code == 200
    return sum(len(method_queries(c)) for c in captured)


def test_reading_a_cart_costs_the_same_queries_for_1_or_50_lines(skus: Skus, login: Login) -> None:
    many = skus(50)
    small, large = login(UserFactory()), login(UserFactory())
    add(small, many[0])
    for sku in many:
        add(large, sku)
    assert len(large.get(CART).json()["lines"]) == 50

    one, fifty = queries_for_get(small), queries_for_get(large)
    assert one == fifty
    # The user, the cart, its lines, the catalog's variants; and the quote (issue 15): the customer's default
    # address, pricing's own catalog read, the tax rates, the shipping methods and their bands, the promotions.
    assert fifty <= 10
