"""Search as a client sees it, on PostgreSQL and on SQLite (``make test`` runs this module on both: the
embedded default searches too), and on PostgreSQL at 100k products: the GIN indexes are what the
planner uses, exact names rank first, typos and substrings still find the product."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connections
from rest_framework.test import APIClient

from shop.catalog.adapters.cache import invalidate_catalog
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


# --- both databases (make test runs this module on PostgreSQL, then on SQLite) -------------------------------


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


@pytest.mark.django_db
def test_a_one_letter_typo_in_a_short_word_finds_the_product(api_client: APIClient) -> None:
    make("Jacket")
    make("Wool Hat")
    make("Racket")
    make("Merino Sweater")
    assert found(api_client, "jaket") == ["Jacket"]  # wrong letter
    assert found(api_client, "jackt") == ["Jacket"]  # missing letter
    assert found(api_client, "woool hat") == ["Wool Hat"]  # extra letter, in a two-word query
    assert found(api_client, "sweatr") == ["Merino Sweater"]
    assert found(api_client, "racket") == ["Racket"]  # a known word stays itself
    assert found(api_client, "jxxxet") == []


@pytest.mark.django_db
def test_words_are_stemmed_and_found_in_any_order(api_client: APIClient) -> None:
    make("Chelsea Boot")
    make("Hiking Boot")
    make("Merino Sweater")
    make("Nordic Pendant Light")
    make("Denim Jeans")

    assert sorted(found(api_client, "boots")) == ["Chelsea Boot", "Hiking Boot"]  # a plural
    assert found(api_client, "merino sweaters") == ["Merino Sweater"]
    assert found(api_client, "hiking") == ["Hiking Boot"]
    assert found(api_client, "Pendant Nordic") == ["Nordic Pendant Light"]  # word order
    assert found(api_client, "pendant lights nordic") == ["Nordic Pendant Light"]


@pytest.mark.django_db
def test_a_minus_excludes_whatever_found_the_product(api_client: APIClient) -> None:
    make("Suede Chelsea Boot")
    make("Leather Chelsea Boot")
    make("Wool Jacket")
    make("Denim Jacket")

    assert found(api_client, "chelsea -suede") == ["Leather Chelsea Boot"]
    assert found(api_client, "jaket -wool") == ["Denim Jacket"]  # negation survives a typo correction
    assert "Wool Jacket" not in found(api_client, "-wool")


@pytest.mark.django_db
def test_phrases_and_or(api_client: APIClient) -> None:
    make("Pro Shoe", description="The trail runner for every day.")
    make("Plain Shoe", description="A runner's friend on the trail.")
    make("Chelsea Boot")

    assert found(api_client, '"trail runner"') == ["Pro Shoe"]  # adjacent words only
    assert sorted(found(api_client, "trail runner")) == ["Plain Shoe", "Pro Shoe"]
    assert sorted(found(api_client, "chelsea or pro")) == ["Chelsea Boot", "Pro Shoe"]


@pytest.mark.django_db
def test_brand_and_description_count_less_than_the_name(api_client: APIClient) -> None:
    make("Basic Scarf", description="Knitted from wool, with reinforced seams.")
    make("Plain Scarf", brand="Wool")
    make("Wool Scarf")
    make("Cotton Scarf")

    assert found(api_client, "wool", sort="relevance") == ["Wool Scarf", "Plain Scarf", "Basic Scarf"]
    assert found(api_client, "reinforced seam") == ["Basic Scarf"]  # only in the description


@pytest.mark.django_db
def test_relevance_pages_walk_every_match_once(api_client: APIClient) -> None:
    for i in range(23):  # heavy ties in the score
        make(f"Tie Widget {i % 4} {'Blue' if i % 3 else 'Red'} {i}", description="widget " * (i % 2))

    def page(url: str) -> dict[str, Any]:
        response = api_client.get(url)
        assert response.status_code == 200, response.content
        body: dict[str, Any] = response.json()
        return body

    everything = [item["slug"] for item in results(api_client, "widget", sort="relevance")]
    walked: list[str] = []
    url: str | None = f"{LIST}?q=widget&sort=relevance&page_size=5"
    while url:
        body = page(url)
        walked += [item["slug"] for item in body["results"]]
        url = body["next"]
    assert walked == everything and len(set(walked)) == 23


@pytest.mark.django_db
def test_the_index_follows_every_write(api_client: APIClient, committed: Callable[[], Any]) -> None:
    """Whoever writes (a service, the admin, an import, bulk SQL): the database keeps the index."""
    lamp = make("Zyzzyva Lamp")
    assert found(api_client, "zyzzyva") == ["Zyzzyva Lamp"]

    with committed():  # the storefront's read cache is bumped after commit, as services do
        lamp.name, lamp.brand = "Quokka Lamp", "Lumen"
        lamp.save()
        invalidate_catalog()
    assert found(api_client, "zyzzyva") == []
    assert found(api_client, "quokka") == found(api_client, "quoka") == ["Quokka Lamp"]  # the lexicon learnt it
    assert found(api_client, "lumen") == ["Quokka Lamp"]

    with committed():
        Product.objects.bulk_create([Product(name="Wombat Mug", slug="wombat-mug", category=lamp.category)])
        invalidate_catalog()
    assert found(api_client, "wombat") == ["Wombat Mug"]
    with committed():
        Product.objects.filter(slug="wombat-mug").delete()
        invalidate_catalog()
    assert found(api_client, "wombat") == []


@pytest.mark.django_db
def test_sqlite_keeps_its_search_triggers() -> None:
    connection = connections[alias_for_context("catalog")]
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's FTS5 triggers (PostgreSQL's are checked by the 100k tests' plans and results)")
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'catalog_product'")
        triggers = {row[0] for row in cursor.fetchall()}
    assert triggers == {"catalog_product_search_ai", "catalog_product_search_au", "catalog_product_search_ad"}, (
        "a migration rebuilt catalog_product on SQLite (Django does for most ALTERs) and dropped the search "
        "triggers: re-create them and rebuild the index in that migration (see catalog migration 0005)"
    )


@pytest.mark.django_db
def test_search_treats_like_wildcards_literally(api_client: APIClient) -> None:
    make("100% Cotton Tee")
    make("Plain Tee")
    assert found(api_client, "%") == ["100% Cotton Tee"]  # not "any text"
    assert found(api_client, "_") == []  # not "any character"
    assert found(api_client, '"') == []  # and query syntax never breaks a query
    assert found(api_client, '-"') == found(api_client, "or") == found(api_client, "the") == []


@pytest.mark.django_db
def test_the_demo_catalog_answers_the_issue_queries(api_client: APIClient) -> None:
    call_command("demo_catalog", stdout=io.StringIO())

    assert [len(found(api_client, q)) for q in ("sweatr", "boots", "Pendant Nordic")] == [1, 5, 1]


@pytest.mark.django_db
def test_a_search_page_costs_two_statements_on_postgresql(
    api_client: APIClient, django_assert_num_queries: Any
) -> None:
    make("Wool Hat")
    connection = connections[alias_for_context("catalog")]
    lexicon = 0 if connection.vendor == "postgresql" else 1  # SQLite looks the words up before the query
    with django_assert_num_queries(2 + lexicon, connection=connection):
        assert found(api_client, "wool hat") == ["Wool Hat"]
    with django_assert_num_queries(2 + 2 * lexicon, connection=connection):  # and corrects an unknown one
        assert found(api_client, "wol hat", sort="relevance") == ["Wool Hat"]


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
