"""Search as a client sees it, and on PostgreSQL at 100k products: the GIN indexes are what the
planner uses, exact names rank first, typos and substrings still find the product."""

from __future__ import annotations

import io
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connections
from rest_framework.test import APIClient

from shop.catalog.models import Category, Product, Stock, Variant
from shop.catalog.selectors import products as selectors
from shop.registry.router import alias_for_context
from tests.catalog.factories import ProductFactory, VariantFactory

LIST = "/api/v1/catalog/products/"
SEEDED = 100_000


def results(client: APIClient, q: str, **params: Any) -> list[dict[str, Any]]:
    response = client.get(LIST, {"q": q, "page_size": 100, **params})
    assert response.status_code == 200, response.content
    items: list[dict[str, Any]] = response.json()["results"]
    return items


def found(client: APIClient, q: str, **params: Any) -> list[str]:
    return [item["name"] for item in results(client, q, **params)]


def make(name: str, *, description: str = "", brand: str = "Acme") -> Product:
    made = ProductFactory(name=name, slug=name.lower().replace(" ", "-"), description=description, brand=brand)
    VariantFactory(product=made, sku=f"S-{made.slug}", price_amount=Decimal("10.00"))
    return made


# --- any database (SQLite runs the plain fallback) ----------------------------------------------------


@pytest.mark.django_db
def test_search_finds_names_by_substring_and_ranks_the_exact_name_first(api_client: APIClient) -> None:
    make("Trail Runner Socks")
    make("Trail Runner")
    make("Trail Runner Pro")
    make("Teapot")

    runners = found(api_client, "trail runner")
    assert runners[0] == "Trail Runner"
    assert sorted(runners) == ["Trail Runner", "Trail Runner Pro", "Trail Runner Socks"]
    assert sorted(found(api_client, "runn")) == sorted(runners)
    assert found(api_client, "zzzz-nothing") == []


@pytest.mark.django_db
def test_search_combines_with_filters_and_other_sorts(api_client: APIClient) -> None:
    cheap = make("Wool Beanie")
    dear = make("Wool Scarf")
    Variant.objects.filter(product=dear).update(price_amount=Decimal("50.00"))
    make("Cotton Cap")

    assert found(api_client, "wool", sort="-price") == ["Wool Scarf", "Wool Beanie"]
    assert found(api_client, "wool", max_price="20") == ["Wool Beanie"]
    assert cheap.pk != dear.pk


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_one_letter_typo_in_a_short_word_finds_the_product(api_client: APIClient) -> None:
    make("Jacket")
    make("Wool Hat")
    make("Racket")
    assert found(api_client, "jaket") == ["Jacket"]  # wrong letter
    assert found(api_client, "jackt") == ["Jacket"]  # missing letter
    assert found(api_client, "woool hat") == ["Wool Hat"]  # extra letter, in a two-word query
    assert found(api_client, "racket") == ["Racket"]  # a known word stays itself
    assert found(api_client, "jxxxet") == []


@pytest.mark.django_db
def test_search_treats_like_wildcards_literally(api_client: APIClient) -> None:
    make("100% Cotton Tee")
    make("Plain Tee")
    assert found(api_client, "%") == ["100% Cotton Tee"]  # not "any text"
    assert found(api_client, "_") == []  # not "any character"


# --- PostgreSQL at 100k products --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big_catalog(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    """100k generated products (committed once for this module, removed afterwards) plus a few
    hand-made needles; ``seed_catalog`` ends with ANALYZE, so the planner knows the table's size."""
    alias = alias_for_context("catalog")
    if connections[alias].vendor != "postgresql":
        pytest.skip("the 100k search checks are about PostgreSQL's indexes")
    with django_db_blocker.unblock():
        call_command("seed_catalog", products=SEEDED, seed=42, stdout=io.StringIO())
        category = Category.objects.get(slug="knitwear")
        for name in ("Zephyrine Windbreaker", "Nimbus Trail Runner", "Nimbus Trail Runner Pro", "Trail Runner Nimbus"):
            made = Product.objects.create(name=name, slug=name.lower().replace(" ", "-"), category=category)
            variant = Variant.objects.create(product=made, sku=f"N-{made.pk}", price_amount=Decimal("42.00"))
            Stock.objects.create(variant=variant, on_hand=3)
        with connections[alias].cursor() as cursor:
            cursor.execute("ANALYZE catalog_product")
        try:
            yield
        finally:
            with connections[alias].cursor() as cursor:
                # CASCADE: variants, stock and anything else pointing at them go too.
                cursor.execute(f"TRUNCATE {Product._meta.db_table}, {Category._meta.db_table} CASCADE")


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_search_query_uses_the_gin_indexes(big_catalog: None) -> None:
    assert Product.objects.count() == SEEDED + 4
    for q in ("nimbus trail runner", "zephyrne", "ephyri", "jaket"):
        query = selectors.ProductQuery(q=q, sort="relevance")
        plan = selectors.product_queryset(query)[:21].explain()
        assert "Bitmap Index Scan on catalog_product_search_gin" in plan, plan
        assert "Bitmap Index Scan on catalog_product_name_trgm" in plan, plan
        assert "Seq Scan on catalog_product" not in plan, plan


@pytest.mark.postgres
@pytest.mark.django_db
def test_exact_name_first_then_typos_and_substrings_at_100k(big_catalog: None, api_client: APIClient) -> None:
    exact = found(api_client, "Nimbus Trail Runner")
    assert exact[0] == "Nimbus Trail Runner"
    assert {"Nimbus Trail Runner Pro", "Trail Runner Nimbus"} <= set(exact[:3])

    # One-letter typos: missing, wrong, extra; in a multi-word query and in a single long word.
    assert found(api_client, "nimbus trail runer")[0] == "Nimbus Trail Runner"
    assert found(api_client, "zephirine windbreaker")[0] == "Zephyrine Windbreaker"
    assert found(api_client, "nimbus trail runnner")[0] == "Nimbus Trail Runner"
    assert found(api_client, "zephyrne")[0] == "Zephyrine Windbreaker"
    assert found(api_client, "ephyri") == ["Zephyrine Windbreaker"]  # a substring


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_typo_in_a_short_word_is_corrected_at_100k(big_catalog: None, api_client: APIClient) -> None:
    # Word similarity of "jaket" to "Jacket" is 0.44, under the trigram threshold: the lexicon corrects it.
    jackets = found(api_client, "jaket")
    assert len(jackets) == 100
    assert all("Jacket" in name for name in jackets)
    wool_jackets = found(api_client, "wool jaket")  # the other word still has to match
    assert wool_jackets and all("Wool" in name and "Jacket" in name for name in wool_jackets)
    # Known words are never "corrected" to their neighbours, and negation survives a correction.
    assert all("Sweater" in name for name in found(api_client, "sweater"))
    assert not any("Wool" in name for name in found(api_client, "jaket -wool"))


@pytest.mark.postgres
@pytest.mark.django_db
def test_full_text_search_stems_and_covers_brand_and_description(big_catalog: None, api_client: APIClient) -> None:
    sweaters = found(api_client, "merino sweaters")  # plural: stemmed to the same lexemes as the names
    assert len(sweaters) == 100
    assert all("Merino Sweater" in name for name in sweaters)
    branded = results(api_client, "fjallmark")  # only in the brand (weight B)
    assert len(branded) == 100
    assert {item["brand"] for item in branded} == {"Fjallmark"}
    described = found(api_client, "reinforced seams")  # only in descriptions (weight C)
    assert len(described) == 100
