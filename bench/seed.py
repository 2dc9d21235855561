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
# The checkout phase (bench/checkout.py): one customer per client connection, and a pool of SKUs of its own whose
# stock every run resets. Every cart takes 1 unit of 3 pool SKUs: two "deep" SKUs, and either a third deep one or, in
# every SCARCE_EVERY-th cart, one of the "scarce" SKUs. The scarce SKUs hold so little that the run sells them out
# (4 x 3 units: gone after ~50 carts, normally inside the warm-up), so out_of_stock answers happen and the oversell
# audit has SKUs at zero to check; the deep ones hold far more than a run can sell (a run places a few hundred orders).
# Carts walk the deep SKUs three at a time: 25, not a multiple of 3 (or of 2), gives every one an even share.
CHECKOUT_DEEP_SKUS = 25
CHECKOUT_DEEP_STOCK = 10_000
CHECKOUT_SCARCE_SKUS = 4
CHECKOUT_SCARCE_STOCK = 3
CHECKOUT_EMAIL_PREFIX = "bench-checkout-"


@dataclass(frozen=True, slots=True)
class Seeded:
    user_id: int
    email: str
    password: str
    extra: dict[str, Any] = field(default_factory=dict)


def seed(*, checkout_customers: int = 32) -> Seeded:
    """Everything, reset for this run; ``checkout_customers``: one per client connection of the checkout phase."""
    from shop.users.models import User

    user = User.objects.filter(email=EMAIL).first()
    if user is None:
        user = User.objects.create_user(EMAIL, PASSWORD, full_name="Bench User")
    elif not user.check_password(PASSWORD):
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    catalog, carts = seed_catalog(), seed_carts()
    taken = {sku for customer in carts["cart_customers"] for sku in customer["skus"]}
    checkout = seed_checkout(customers=checkout_customers, exclude_skus=taken, exclude_product=catalog["product_slug"])
    return Seeded(user_id=user.pk, email=EMAIL, password=PASSWORD, extra={**catalog, **carts, **checkout})


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


CHECKOUT_VOUCHER = "BENCH-5"


def seed_checkout(*, customers: int, exclude_skus: set[str], exclude_product: str) -> dict[str, Any]:
    """The checkout phase's customers (empty carts, no orders, fresh access tokens) and its SKU pool, whose stock is
    reset to CHECKOUT_DEEP_STOCK / CHECKOUT_SCARCE_STOCK on hand and nothing reserved, with its holds and ledger
    rows deleted: every run starts from the same state. The pool is the generated catalog's last active SKUs,
    none of them used by another scenario. Writes the catalog's and orders' tables directly: this is the bench's
    throwaway database, and the reset must also undo what a run interrupted half-way left behind."""
    from django.db import transaction

    from shop import registry
    from shop.cart.api import CartAPI, Owner
    from shop.catalog.adapters.cache import invalidate_catalog
    from shop.catalog.models import Reservation, Stock, StockMovement, Variant
    from shop.orders.models import Order
    from shop.pricing.models import Promotion, Voucher, VoucherUse
    from shop.users.models import User
    from shop.users.services import issue_tokens

    wanted = CHECKOUT_DEEP_SKUS + CHECKOUT_SCARCE_SKUS
    candidates = (
        Variant.objects.filter(product__slug__startswith="g1-", product__is_active=True, is_active=True)
        .exclude(product__slug=exclude_product)
        .order_by("-pk")
        .values_list("pk", "sku")
    )
    pool: list[tuple[int, str]] = []
    for pk, sku in candidates.iterator(chunk_size=wanted * 2):
        if sku not in exclude_skus:
            pool.append((pk, sku))
        if len(pool) == wanted:
            break
    if len(pool) < wanted:
        raise RuntimeError(f"the catalog has {len(pool)} free SKUs for the checkout pool, not {wanted}")
    pool_ids = [pk for pk, _ in pool]
    deep = [sku for _, sku in pool[:CHECKOUT_DEEP_SKUS]]
    scarce = [sku for _, sku in pool[CHECKOUT_DEEP_SKUS:]]

    emails = [f"{CHECKOUT_EMAIL_PREFIX}{n:03d}@example.com" for n in range(customers)]
    users = {user.email: user for user in User.objects.filter(email__in=emails)}
    for email in emails:
        if email not in users:  # no password, like the cart customers: tokens are issued below
            users[email] = User.objects.create_user(email, full_name="Bench Checkout")
    every_checkout_customer = list(
        User.objects.filter(email__startswith=CHECKOUT_EMAIL_PREFIX).values_list("pk", flat=True)
    )  # also those of an earlier run with more connections: their orders hold pool stock too
    with transaction.atomic():
        Order.objects.filter(customer_id__in=every_checkout_customer).delete()  # lines and history cascade
        Reservation.objects.filter(variant_id__in=pool_ids).delete()
        StockMovement.objects.filter(variant_id__in=pool_ids).delete()
        for n, pk in enumerate(pool_ids):
            on_hand = CHECKOUT_DEEP_STOCK if n < CHECKOUT_DEEP_SKUS else CHECKOUT_SCARCE_STOCK
            Stock.objects.update_or_create(variant_id=pk, defaults={"on_hand": on_hand, "reserved": 0})
    invalidate_catalog()  # the storefront cache must not show the pool's stock of the last run
    # The voucher checkout's code: 5 % off the order, no usage limit (every checkout holds a use under the
    # voucher's row lock, the contention a popular code brings); its uses of earlier runs are deleted.
    promotion, _ = Promotion.objects.update_or_create(
        name="bench voucher",
        defaults={
            "label": "Bench -5 %",
            "kind": "order",
            "benefit": "percentage",
            "value": 5,
            "requires_voucher": True,
        },
    )
    code, _ = Voucher.objects.update_or_create(code=CHECKOUT_VOUCHER, defaults={"promotion": promotion})
    VoucherUse.objects.filter(voucher=code).delete()
    Voucher.objects.filter(pk=code.pk).update(used=0)

    cart = registry.get(CartAPI)
    seeded: list[dict[str, Any]] = []
    for email in emails:
        user = users[email]
        emptied = cart.clear(owner=Owner(user_id=user.pk))
        if emptied.lines:
            raise RuntimeError(f"{email}'s cart should be empty: {emptied}")
        seeded.append({"user_id": user.pk, "access": issue_tokens(user=user)["access"]})
    return {
        "checkout": {
            "customers": seeded,
            "deep_skus": deep,
            "scarce_skus": scarce,
            "deep_stock": CHECKOUT_DEEP_STOCK,
            "scarce_stock": CHECKOUT_SCARCE_STOCK,
            "customer_ids": every_checkout_customer,
            "voucher": CHECKOUT_VOUCHER,
        }
    }
