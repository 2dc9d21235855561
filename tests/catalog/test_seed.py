"""Catalog data commands: ``seed_catalog`` (large, fast, deterministic, resumable) and
``demo_catalog`` (small, realistic, idempotent, run by ``seed_demo``)."""

from __future__ import annotations

import io
import re
import time
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connections
from rest_framework.test import APIClient

from shop.catalog.models import Category, Product, Stock, Variant

pytestmark = pytest.mark.django_db


def run(command: str, **options: Any) -> str:
    out = io.StringIO()
    call_command(command, stdout=out, **options)
    return out.getvalue()


def snapshot(prefix: str) -> list[tuple[Any, ...]]:
    return list(
        Variant.objects.filter(product__slug__startswith=prefix)
        .order_by("sku")
        .values_list(
            "sku", "product__slug", "product__name", "product__brand", "price_amount", "attributes", "stock__on_hand"
        )
    )


def test_seed_catalog_inserts_ten_thousand_products_with_variants_and_stock() -> None:
    started = time.monotonic()
    output = run("seed_catalog", products=10_000, seed=5)
    elapsed = time.monotonic() - started

    assert re.search(r"10000 products \((\d+) variants\) added, 0 already there", output), output
    products = Product.objects.filter(slug__startswith="g5-")
    assert products.count() == 10_000
    variants = Variant.objects.filter(product__slug__startswith="g5-")
    assert products.count() <= variants.count() <= 4 * products.count()
    assert Stock.objects.filter(variant__in=variants).count() == variants.count()  # every SKU has a stock row
    assert not products.filter(variants__isnull=True).exists()
    assert Category.objects.filter(parent__isnull=True).count() >= 4
    assert not products.filter(category__children__isnull=False).exists()  # products sit in leaf categories
    assert products.values("name").distinct().count() > 1000  # word lists, not "Product 1..n"
    in_stock = Stock.objects.filter(variant__in=variants, on_hand__gt=0).count()
    assert 0.8 * variants.count() < in_stock < variants.count()  # mostly in stock, some sold out
    if connections[Product.objects.db].vendor == "postgresql":
        assert not products.filter(search_vector__isnull=True).exists()  # the trigger fires for COPY rows
    assert elapsed < 30, f"10k products took {elapsed:.1f} s"


def test_seed_catalog_is_deterministic_and_resumable() -> None:
    run("seed_catalog", products=30, seed=9)
    first_thirty = snapshot("g9-")
    ids = set(Product.objects.filter(slug__startswith="g9-").values_list("pk", flat=True))

    assert "0 products (0 variants) added, 30 already there" in run("seed_catalog", products=30, seed=9)
    assert "20 products" in run("seed_catalog", products=50, seed=9)
    assert Product.objects.filter(slug__startswith="g9-").count() == 50
    assert ids <= set(Product.objects.filter(slug__startswith="g9-").values_list("pk", flat=True))

    all_fifty = snapshot("g9-")
    Product.objects.filter(slug__startswith="g9-").delete()
    run("seed_catalog", products=50, seed=9)
    assert snapshot("g9-") == all_fifty  # same seed, same catalog
    assert all(row in all_fifty for row in first_thirty)

    run("seed_catalog", products=50, seed=10)
    assert [row[2:] for row in snapshot("g10-")] != [row[2:] for row in all_fifty]  # another seed, another catalog


def test_demo_catalog_is_small_realistic_and_idempotent(api_client: APIClient) -> None:
    first = run("demo_catalog")
    counts = (Category.objects.count(), Product.objects.count(), Variant.objects.count(), Stock.objects.count())
    second = run("demo_catalog")

    assert (Category.objects.count(), Product.objects.count(), Variant.objects.count(), Stock.objects.count()) == counts
    assert "0 products added now" in second and "0 products added now" not in first
    assert 40 <= counts[1] <= 60
    assert counts[2] == counts[3] > counts[1]  # several SKUs per product, each stocked
    assert Product.objects.values("name").distinct().count() == counts[1]
    assert Variant.objects.filter(attributes__has_key="size").exists()
    assert Variant.objects.filter(attributes__has_key="color").exists()
    assert Variant.objects.filter(compare_at_amount__isnull=False).exists()  # some on sale

    tree = api_client.get("/api/v1/catalog/categories/").json()
    assert {node["slug"] for node in tree} >= {"clothing", "shoes", "accessories", "home"}
    page = api_client.get("/api/v1/catalog/products/", {"category": "clothing", "page_size": 100}).json()
    assert len(page["results"]) >= 10
    detail = api_client.get(f"/api/v1/catalog/products/{page['results'][0]['slug']}/")
    assert detail.status_code == 200 and detail.json()["variants"]


def test_seed_demo_runs_the_catalog_demo() -> None:
    output = run("seed_demo")
    assert "Catalog demo data ready" in output
    assert Product.objects.count() >= 40
