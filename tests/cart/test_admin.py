"""The cart admin as staff use it: read-only carts with their lines, found by customer email,
a list page that fetches customers' emails in one call whatever the page size."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

import pytest
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from shop.cart import services
from shop.cart.api import Owner
from shop.cart.models import Cart
from shop.registry.router import alias_for_context
from shop.users.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ADMIN = "/admin/cart/cart/"


@pytest.fixture
def browser() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("staff@example.com", "staff-pass-123456"))
    return client


def fill(user: User, skus: list[str]) -> Cart:
    for sku in skus:
        services.add_line(owner=Owner(user_id=user.pk), sku=sku, quantity=2)
    return Cart.objects.get(user_id=user.pk)


def test_list_shows_customers_and_search_finds_carts_by_email(
    browser: Client, skus: Callable[[int], list[str]]
) -> None:
    tee, other = skus(2)
    ada = fill(UserFactory(email="ada@lovelace.example"), [tee, other])
    fill(UserFactory(email="grace@hopper.example"), [tee])
    services.add_line(owner=Owner(), sku=tee, quantity=1)

    page = browser.get(ADMIN).content.decode()
    assert "ada@lovelace.example" in page and "grace@hopper.example" in page and "guest" in page

    found = browser.get(ADMIN, {"q": "LOVELACE"}).content.decode()
    assert "ada@lovelace.example" in found and "grace@hopper.example" not in found
    assert f"/admin/cart/cart/{ada.pk}/change/" in found
    assert "0 carts" in browser.get(ADMIN, {"q": "nobody"}).content.decode()


def test_the_detail_page_is_read_only_with_lines(browser: Client, skus: Callable[[int], list[str]]) -> None:
    (tee,) = skus(1)
    cart = fill(UserFactory(email="ada@lovelace.example"), [tee])
    page = browser.get(f"{ADMIN}{cart.pk}/change/")
    assert page.status_code == 200
    body = page.content.decode()
    assert tee in body and "ada@lovelace.example" in body
    assert 'name="_save"' not in body  # nothing to save
    assert browser.post(f"{ADMIN}{cart.pk}/delete/", {"post": "yes"}).status_code == 403
    assert browser.get(f"{ADMIN}add/").status_code == 403
    assert Cart.objects.filter(pk=cart.pk).exists()


def _queries(browser: Client) -> int:
    """Queries of one list page on the cart's and the users' databases (one alias, or two)."""
    aliases = {alias_for_context("cart"), alias_for_context("users")}
    with ExitStack() as stack:
        captured = [stack.enter_context(CaptureQueriesContext(connections[alias])) for alias in aliases]
        assert browser.get(ADMIN).status_code == 200
    return sum(len(c.captured_queries) for c in captured)


def test_the_list_page_costs_the_same_for_2_or_20_customers(browser: Client, skus: Callable[[int], list[str]]) -> None:
    (tee,) = skus(1)
    for _ in range(2):
        fill(UserFactory(), [tee])
    few = _queries(browser)
    for _ in range(18):
        fill(UserFactory(), [tee])
    assert _queries(browser) == few


def test_every_cart_page_still_works_while_users_cannot_answer(
    browser: Client, skus: Callable[[int], list[str]], settings: Any
) -> None:
    from tests.contracts.kit import closed_port

    (tee,) = skus(1)
    cart = fill(UserFactory(email="ada@lovelace.example"), [tee])
    # The users context bound to an address nobody listens on: a real ContextUnavailable, in every CI mode.
    down = {"BACKEND": "remote", "URLS": [f"http://127.0.0.1:{closed_port()}"], "TIMEOUT": 0.5}
    settings.SHOP_CONTEXTS = {**settings.SHOP_CONTEXTS, "users": down}

    page = browser.get(ADMIN)
    assert page.status_code == 200 and f"user #{cart.user_id} (email unavailable)" in page.content.decode()
    found = browser.get(ADMIN, {"q": str(cart.pk)})
    assert found.status_code == 200 and f"{ADMIN}{cart.pk}/change/" in found.content.decode()
    assert "cannot be searched right now" in found.content.decode()
    detail = browser.get(f"{ADMIN}{cart.pk}/change/")
    assert detail.status_code == 200 and tee in detail.content.decode()
