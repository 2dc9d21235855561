"""The storefront's read cache (real Redis, cleared before every test): hits cost no catalog query,
a committed write that calls ``invalidate_catalog()`` makes the very next response fresh, a rolled
back one evicts nothing, and a Redis outage degrades to database reads instead of errors."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings
from rest_framework.test import APIClient

from shop import registry
from shop.catalog.adapters.cache import catalog_version, invalidate_catalog
from shop.catalog.models import Product, Stock, Variant
from tests.catalog.factories import CategoryFactory, ProductFactory, VariantFactory
from tests.helpers import connection_of

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

LIST = "/api/v1/catalog/products/"
DETAIL = "/api/v1/catalog/products/cached-boot/"
TREE = "/api/v1/catalog/categories/"


@pytest.fixture
def boot() -> Product:
    made = ProductFactory(name="Cached Boot", slug="cached-boot", category=CategoryFactory(slug="boots"))
    VariantFactory(product=made, sku="BOOT-41", price_amount=Decimal("80.00"), stock=2)
    return made


def price_and_stock(client: APIClient) -> tuple[tuple[str, bool], tuple[str, int]]:
    item = client.get(LIST).json()["results"][0]
    variant = client.get(DETAIL).json()["variants"][0]
    return (item["price"]["amount"], item["in_stock"]), (variant["price"]["amount"], variant["available"])


def test_the_cache_is_redis() -> None:
    """Guards the rest of this module against passing vacuously on a local-memory cache."""
    assert settings.CACHES["default"]["BACKEND"] == "django_redis.cache.RedisCache"


@pytest.mark.parametrize("url", [LIST, DETAIL, TREE, f"{LIST}?q=boot&sort=price"])
def test_a_repeated_request_is_served_without_touching_the_catalog_database(
    api_client: APIClient, boot: Product, django_assert_num_queries: Any, url: str
) -> None:
    first = api_client.get(url)
    assert first.status_code == 200
    with django_assert_num_queries(0, connection=connection_of("catalog")):
        second = api_client.get(url)
    assert second.status_code == 200
    assert second.json() == first.json()


def test_page_links_are_built_per_request_not_cached(api_client: APIClient, boot: Product) -> None:
    VariantFactory(product=ProductFactory(slug="second-boot"), sku="B2")
    first = api_client.get(LIST, {"page_size": 1}, HTTP_HOST="localhost").json()
    second = api_client.get(LIST, {"page_size": 1}, HTTP_HOST="127.0.0.1").json()  # a cache hit
    assert first["next"].startswith("http://localhost/")
    assert second["next"].startswith("http://127.0.0.1/")


def test_a_committed_write_that_invalidates_is_visible_on_the_next_response(
    api_client: APIClient, boot: Product
) -> None:
    assert price_and_stock(api_client) == (("80.00", True), ("80.00", 2))  # now cached
    before = catalog_version()

    with registry.atomic("catalog"):
        Variant.objects.filter(sku="BOOT-41").update(price_amount=Decimal("65.00"))
        Stock.objects.filter(variant__sku="BOOT-41").update(reserved=2)
        invalidate_catalog()
        assert catalog_version() == before  # nothing happens before the commit

    assert catalog_version() == before + 1
    assert price_and_stock(api_client) == (("65.00", False), ("65.00", 0))


def test_a_rolled_back_write_evicts_nothing(
    api_client: APIClient, boot: Product, django_assert_num_queries: Any
) -> None:
    cached = price_and_stock(api_client)
    before = catalog_version()

    with pytest.raises(RuntimeError), registry.atomic("catalog"):
        Variant.objects.filter(sku="BOOT-41").update(price_amount=Decimal("1.00"))
        invalidate_catalog()
        raise RuntimeError("payment provider said no")

    assert catalog_version() == before
    with django_assert_num_queries(0, connection=connection_of("catalog")):
        assert price_and_stock(api_client) == cached  # still served from the cache, and still true


def test_without_invalidation_the_cache_would_serve_stale_data(api_client: APIClient, boot: Product) -> None:
    """The control: proves the freshness above comes from ``invalidate_catalog``, not from a cache miss."""
    assert price_and_stock(api_client)[0] == ("80.00", True)
    Variant.objects.filter(sku="BOOT-41").update(price_amount=Decimal("65.00"))
    assert price_and_stock(api_client)[0] == ("80.00", True)


def test_a_category_change_refreshes_the_tree(api_client: APIClient, boot: Product) -> None:
    assert [node["name"] for node in api_client.get(TREE).json()] == [boot.category.name]
    with registry.atomic("catalog"):
        CategoryFactory(name="Sandals", slug="sandals", position=5)
        invalidate_catalog()
    assert sorted(node["slug"] for node in api_client.get(TREE).json()) == ["boots", "sandals"]


def test_a_redis_outage_degrades_to_database_reads(api_client: APIClient, boot: Product) -> None:
    cached = price_and_stock(api_client)
    broken = {
        "default": {
            **settings.CACHES["default"],
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        }
    }
    with override_settings(CACHES=broken):
        assert catalog_version() == 0  # really unreachable: "read from the database"
        assert price_and_stock(api_client) == cached
        with registry.atomic("catalog"):
            Variant.objects.filter(sku="BOOT-41").update(price_amount=Decimal("70.00"))
            invalidate_catalog()  # the bump is lost with Redis down; the read path must not care
        assert price_and_stock(api_client)[0] == ("70.00", True)
        response = api_client.get(f"{LIST}?q=boot&in_stock=true")
        assert response.status_code == 200 and response.json()["results"][0]["slug"] == "cached-boot"

    # Redis is back, still holding the entries cached before the outage: the missed bump is
    # retried before the next read, so they are not served.
    assert price_and_stock(api_client)[0] == ("70.00", True)
