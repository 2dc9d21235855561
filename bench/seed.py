"""Data the scenarios need, written once per run into the bench database (idempotent: re-runs reuse rows).

Runs in the orchestrating process after ``django.setup()`` with ``bench.settings``. Later scenarios seed their own
rows here and hand ids to their requests through ``Seeded.extra`` (then ``Fixture.extra``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

EMAIL = "bench@example.com"
# The storefront scenarios run against a catalog of this size (``manage.py seed_catalog``: ~30 s the first time on
# PostgreSQL, then reused: re-runs add only what is missing). Override with BENCH_CATALOG_PRODUCTS.
CATALOG_PRODUCTS = int(os.environ.get("BENCH_CATALOG_PRODUCTS", "100000"))
PASSWORD = "bench-password-0123456789"  # a throwaway account in the throwaway bench database
# The cart scenarios' customers. Each run resets every cart to CART_LINES lines of one unit (the customer's own SKUs),
# and "add to cart" adds one unit to one of those lines: every response is a 10-line cart, like "get cart (10 lines)",
# whatever the throughput. 64 customers x 10 lines x 98 more units allow ~62k adds a run, far more than a default
# run sends, so no add meets the limits (99 a line, 100 lines).
CART_CUSTOMERS = 64
CART_LINES = 10
# SKUs with at least this much stock: no cart line ever carries an insufficient-stock warning.
CART_SKU_MIN_AVAILABLE = 99


@dataclass(frozen=True, slots=True)
class Seeded:
    user_id: int
    email: str
    password: str
    extra: dict[str, Any] = field(default_factory=dict)


def seed() -> Seeded:
    from shop.users.models import User

    user = User.objects.filter(email=EMAIL).first()
    if user is None:
        user = User.objects.create_user(EMAIL, PASSWORD, full_name="Bench User")
    elif not user.check_password(PASSWORD):
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    return Seeded(user_id=user.pk, email=EMAIL, password=PASSWORD, extra={**seed_catalog(), **seed_carts()})


def seed_catalog() -> dict[str, Any]:
    """The generated catalog, and a product with several variants for the detail scenarios."""
    from django.core.management import call_command

    from shop.catalog.models import Product

    call_command("seed_catalog", products=CATALOG_PRODUCTS, seed=1)
    slug = (
        Product.objects.filter(slug__startswith="g1-", is_active=True, variants__position=1)
        .order_by("pk")
        .values_list("slug", flat=True)
        .first()
    )
    if slug is None:
        raise RuntimeError("seed_catalog made no product with two variants; is BENCH_CATALOG_PRODUCTS tiny?")
    return {"product_slug": slug}


def seed_carts() -> dict[str, Any]:
    """Customers for the cart scenarios, with access tokens and carts of exactly CART_LINES lines (reset through
    the cart's API on every run). Call after seed_catalog: it needs the SKUs."""
    from django.db.models import F

    from shop import registry
    from shop.cart.api import CartAPI, Owner
    from shop.catalog.models import Variant
    from shop.users.models import User
    from shop.users.services import issue_tokens

    wanted = CART_CUSTOMERS * CART_LINES
    skus = list(
        Variant.objects.filter(
            product__slug__startswith="g1-",
            product__is_active=True,
            is_active=True,
            stock__on_hand__gte=F("stock__reserved") + CART_SKU_MIN_AVAILABLE,
        )
        .order_by("pk")
        .values_list("sku", flat=True)[:wanted]
    )
    if len(skus) < wanted:
        raise RuntimeError(f"the catalog has {len(skus)} SKUs in stock for the cart scenarios, not {wanted}")
    emails = [f"bench-cart-{n:03d}@example.com" for n in range(CART_CUSTOMERS)]
    users = {user.email: user for user in User.objects.filter(email__in=emails)}
    for email in emails:
        if email not in users:  # no password: nobody logs in as them, their tokens are issued here as login does
            users[email] = User.objects.create_user(email, full_name="Bench Cart")
    cart = registry.get(CartAPI)
    customers: list[dict[str, Any]] = []
    for n, email in enumerate(emails):
        user = users[email]
        owner = Owner(user_id=user.pk)
        filled = cart.clear(owner=owner)
        for sku in skus[n * CART_LINES : (n + 1) * CART_LINES]:
            filled = cart.add_line(owner=owner, sku=sku, quantity=1)
        if len(filled.lines) != CART_LINES or filled.warnings:
            raise RuntimeError(f"{email}'s cart should hold {CART_LINES} clean lines: {filled}")
        access = issue_tokens(user=user)["access"]
        customers.append({"user_id": user.pk, "access": access, "skus": [line.sku for line in filled.lines]})
    return {"cart_customers": customers}
