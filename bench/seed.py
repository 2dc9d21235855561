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
    return Seeded(user_id=user.pk, email=EMAIL, password=PASSWORD, extra=seed_catalog())


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
