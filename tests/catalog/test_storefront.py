"""The storefront as a client sees it: category tree, product list (filters, sorting, cursor pages),
product detail, validation errors and the query budget (constant in page size and variant count)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from rest_framework.test import APIClient

from shop.catalog.models import Category, Product
from tests.catalog.factories import CategoryFactory, ProductFactory, VariantFactory
from tests.helpers import assert_problem, connection_of

pytestmark = pytest.mark.django_db

LIST = "/api/v1/catalog/products/"


def detail_url(slug: str) -> str:
    return f"/api/v1/catalog/products/{slug}/"


def product(
    name: str,
    *,
    prices: tuple[str, ...] = ("10.00",),
    stock: int = 5,
    category: Category | None = None,
    slug: str | None = None,
    **kwargs: Any,
) -> Product:
    """A product with one active variant per price (each with ``stock`` units on hand)."""
    slug = slug or name.lower().replace(" ", "-")
    made = ProductFactory(name=name, slug=slug, category=category or CategoryFactory(), **kwargs)
    for i, price in enumerate(prices):
        VariantFactory(product=made, sku=f"{made.slug}-{i}", price_amount=Decimal(price), position=i, stock=stock)
    return made


def names(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["name"] for item in response.json()["results"]]


def walk(client: APIClient, url: str) -> list[dict[str, Any]]:
    """Follow ``next`` links to the end; every page is a 200."""
    items: list[dict[str, Any]] = []
    pages = 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        items += response.json()["results"]
        url = response.json()["next"]
        pages += 1
        assert pages < 200, "pagination does not terminate"
    return items


# --- category tree ----------------------------------------------------------------------------------


def test_category_tree_nests_children_ordered_by_position(api_client: APIClient) -> None:
    clothing = CategoryFactory(name="Clothing", slug="clothing", position=1)
    home = CategoryFactory(name="Home", slug="home", position=0)
    CategoryFactory(name="Shirts", slug="shirts", parent=clothing, position=2)
    jackets = CategoryFactory(name="Jackets", slug="jackets", parent=clothing, position=1)
    CategoryFactory(name="Parkas", slug="parkas", parent=jackets, position=0)

    response = api_client.get("/api/v1/catalog/categories/")

    assert response.status_code == 200
    tree = response.json()
    assert [node["slug"] for node in tree] == ["home", "clothing"]
    assert tree[0]["children"] == []
    assert [node["slug"] for node in tree[1]["children"]] == ["jackets", "shirts"]
    assert tree[1]["children"][0]["children"] == [
        {
            "id": tree[1]["children"][0]["children"][0]["id"],
            "slug": "parkas",
            "name": "Parkas",
            "position": 0,
            "children": [],
        }
    ]
    assert home.pk == tree[0]["id"]


# --- list and detail shapes ------------------------------------------------------------------------------


def test_list_item_shows_cheapest_active_price_availability_and_options(api_client: APIClient) -> None:
    shirts = CategoryFactory(name="Shirts", slug="shirts")
    tee = ProductFactory(
        name="Linen Tee", slug="linen-tee", category=shirts, brand="Northwind", image_urls=["https://img/1.jpg"]
    )
    VariantFactory(
        product=tee, sku="TEE-M", attributes={"size": "M", "color": "Navy"}, price_amount=Decimal("25.00"), stock=0
    )
    VariantFactory(
        product=tee,
        sku="TEE-S",
        attributes={"size": "S", "color": "Navy"},
        price_amount=Decimal("19.50"),
        compare_at_amount=Decimal("24.00"),
        stock=3,
        reserved=3,
    )
    VariantFactory(product=tee, sku="TEE-XL", attributes={"size": "XL"}, price_amount=Decimal("1.00"), is_active=False)

    response = api_client.get(LIST)

    assert response.status_code == 200
    body = response.json()
    assert body["next"] is None and body["previous"] is None
    assert body["results"] == [
        {
            "id": tee.pk,
            "slug": "linen-tee",
            "name": "Linen Tee",
            "brand": "Northwind",
            "category": {"id": shirts.pk, "slug": "shirts", "name": "Shirts"},
            "image_url": "https://img/1.jpg",
            "price": {"amount": "19.50", "currency": "EUR"},
            "compare_at_price": {"amount": "24.00", "currency": "EUR"},
            "in_stock": False,  # 0 on hand, and 3 on hand all reserved; the inactive variant does not count
            "options": {"color": ["Navy"], "size": ["M", "S"]},
        }
    ]


def test_detail_lists_active_variants_with_prices_availability_and_breadcrumbs(api_client: APIClient) -> None:
    root = CategoryFactory(name="Clothing", slug="clothing")
    leaf = CategoryFactory(name="Knitwear", slug="knitwear", parent=root)
    sweater = ProductFactory(
        name="Merino Sweater",
        slug="merino-sweater",
        category=leaf,
        description="Warm.",
        attributes={"material": "merino"},
        image_urls=["https://img/a.jpg", "https://img/b.jpg"],
    )
    VariantFactory(
        product=sweater,
        sku="SW-L",
        name="L",
        attributes={"size": "L"},
        price_amount=Decimal("80.00"),
        position=1,
        stock=7,
        reserved=2,
    )
    VariantFactory(
        product=sweater,
        sku="SW-M",
        name="M",
        attributes={"size": "M"},
        price_amount=Decimal("79.00"),
        compare_at_amount=Decimal("99.00"),
        position=0,
        stock=0,
    )
    VariantFactory(
        product=sweater, sku="SW-OLD", attributes={"size": "XXL"}, price_amount=Decimal("5.00"), is_active=False
    )

    response = api_client.get(detail_url("merino-sweater"))

    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Merino Sweater" and body["description"] == "Warm."
    assert body["category"] == {"id": leaf.pk, "slug": "knitwear", "name": "Knitwear"}
    assert [c["slug"] for c in body["breadcrumbs"]] == ["clothing", "knitwear"]
    assert body["attributes"] == {"material": "merino"}
    assert body["image_urls"] == ["https://img/a.jpg", "https://img/b.jpg"]
    assert body["price"] == {"amount": "79.00", "currency": "EUR"}
    assert body["compare_at_price"] == {"amount": "99.00", "currency": "EUR"}
    assert body["in_stock"] is True
    assert body["variants"] == [
        {
            "sku": "SW-M",
            "name": "M",
            "attributes": {"size": "M"},
            "price": {"amount": "79.00", "currency": "EUR"},
            "compare_at_price": {"amount": "99.00", "currency": "EUR"},
            "available": 0,
            "in_stock": False,
        },
        {
            "sku": "SW-L",
            "name": "L",
            "attributes": {"size": "L"},
            "price": {"amount": "80.00", "currency": "EUR"},
            "compare_at_price": None,
            "available": 5,
            "in_stock": True,
        },
    ]


def test_inactive_products_are_invisible_in_list_and_detail(api_client: APIClient) -> None:
    product("Visible Hat")
    product("Retired Hat", is_active=False)

    assert names(api_client.get(LIST)) == ["Visible Hat"]
    assert names(api_client.get(LIST, {"q": "hat"})) == ["Visible Hat"]
    assert api_client.get(detail_url("visible-hat")).status_code == 200
    assert_problem(api_client.get(detail_url("retired-hat")), 404, "not_found", resource="product")
    assert_problem(api_client.get(detail_url("no-such-hat")), 404, "not_found")


def test_a_product_without_active_variants_is_listed_without_price(api_client: APIClient) -> None:
    bare = product("Coming Soon Lamp", prices=())
    body = api_client.get(detail_url(bare.slug)).json()
    assert (body["price"], body["in_stock"], body["variants"]) == (None, False, [])
    item = api_client.get(LIST).json()["results"][0]
    assert (item["price"], item["in_stock"], item["options"]) == (None, False, {})


# --- filters --------------------------------------------------------------------------------------------


def test_category_filter_includes_descendants_only(api_client: APIClient) -> None:
    clothing = CategoryFactory(slug="clothing")
    jackets = CategoryFactory(slug="jackets", parent=clothing)
    parkas = CategoryFactory(slug="parkas", parent=jackets)
    product("Wool Coat", category=jackets)
    product("Down Parka", category=parkas)
    product("Linen Shirt", category=clothing)
    product("Teapot", category=CategoryFactory(slug="home"))
    CategoryFactory(slug="clothing-outlet")  # a sibling whose slug starts alike must not match

    assert sorted(names(api_client.get(LIST, {"category": "clothing"}))) == ["Down Parka", "Linen Shirt", "Wool Coat"]
    assert sorted(names(api_client.get(LIST, {"category": "jackets"}))) == ["Down Parka", "Wool Coat"]
    assert names(api_client.get(LIST, {"category": "parkas"})) == ["Down Parka"]
    assert names(api_client.get(LIST, {"category": "clothing-outlet"})) == []
    assert names(api_client.get(LIST, {"category": "no-such-category"})) == []


def test_category_filter_does_not_confuse_path_prefixes(api_client: APIClient) -> None:
    """Category 910001's path "/910001/" must not match category 9100012's "/9100012/"."""
    first = CategoryFactory(id=910_001)
    twelfth = CategoryFactory(id=9_100_012)
    assert twelfth.path.startswith(first.path.rstrip("/"))  # the trap exists
    product("In First", category=first)
    product("In Twelfth", category=twelfth)
    assert names(api_client.get(LIST, {"category": first.slug})) == ["In First"]


def test_price_range_matches_any_active_variant_price(api_client: APIClient) -> None:
    product("Cheap", prices=("5.00",))
    product("Spread", prices=("8.00", "30.00"))
    product("Mid", prices=("15.00",))
    product("Dear", prices=("99.99",))

    assert sorted(names(api_client.get(LIST, {"min_price": "10", "max_price": "30"}))) == ["Mid", "Spread"]
    assert sorted(names(api_client.get(LIST, {"min_price": "99.99"}))) == ["Dear"]
    assert sorted(names(api_client.get(LIST, {"max_price": "5.00"}))) == ["Cheap"]


def test_in_stock_needs_an_active_variant_with_unreserved_units(api_client: APIClient) -> None:
    product("Plenty", stock=3)
    product("Sold Out", stock=0)
    all_held = product("All Held", prices=())
    VariantFactory(product=all_held, sku="HELD-1", stock=2, reserved=2)
    hidden = product("Only Inactive Stock", stock=0)
    VariantFactory(product=hidden, sku="HIDDEN-1", is_active=False, stock=50)

    assert names(api_client.get(LIST, {"in_stock": "true"})) == ["Plenty"]
    assert len(names(api_client.get(LIST, {"in_stock": "false"}))) == 4  # false: no stock filter


def test_brand_filter_is_exact(api_client: APIClient) -> None:
    product("A", brand="Northwind")
    product("B", brand="Northwind Outlet")
    product("C", brand="Kestrel")
    assert names(api_client.get(LIST, {"brand": "Northwind"})) == ["A"]


def test_attribute_filters_match_one_variant_case_insensitively(api_client: APIClient) -> None:
    tee = product("Tee", prices=())
    VariantFactory(product=tee, sku="T-RED-S", attributes={"color": "Red", "size": "S"})
    VariantFactory(product=tee, sku="T-BLUE-M", attributes={"color": "Blue", "size": "M"})
    mug = product("Mug", prices=(), attributes={"material": "ceramic"})
    VariantFactory(product=mug, sku="MUG-RED", attributes={"color": "red"})
    gone = product("Retired Red", prices=())
    VariantFactory(product=gone, sku="GONE-RED", attributes={"color": "red"}, is_active=False)

    def matching(*attrs: str, **extra: str) -> list[str]:
        return sorted(names(api_client.get(LIST, {"attr": list(attrs), **extra})))

    assert matching("color:red") == ["Mug", "Tee"]
    assert matching("color:RED", "size:s") == ["Tee"]
    assert matching("color:red", "size:m") == []  # no single variant is red *and* M
    assert matching("color:red", "color:blue", "size:m") == ["Tee"]  # values of one key are alternatives
    assert matching("material:ceramic") == ["Mug"]  # product-level attribute
    assert matching("material:ceramic", "color:red") == ["Mug"]
    assert matching("color:green") == []


def test_filters_combine_on_the_same_variant(api_client: APIClient) -> None:
    boot = product("Boot", prices=())
    VariantFactory(product=boot, sku="B-40", attributes={"size": "40"}, price_amount=Decimal("90.00"), stock=0)
    VariantFactory(product=boot, sku="B-41", attributes={"size": "41"}, price_amount=Decimal("120.00"), stock=4)

    assert names(api_client.get(LIST, {"attr": "size:41", "in_stock": "true", "max_price": "130"})) == ["Boot"]
    assert names(api_client.get(LIST, {"attr": "size:40", "in_stock": "true"})) == []
    assert names(api_client.get(LIST, {"in_stock": "true", "max_price": "100"})) == []


# --- sorting and cursor pagination -----------------------------------------------------------------------


@pytest.fixture
def assortment() -> list[Product]:
    """Ties on purpose: equal prices and equal names, so only the id tie-breaker makes pages stable."""
    made = []
    for i, (name, price) in enumerate(
        [("Bravo", "20.00"), ("Alpha", "10.00"), ("Delta", "20.00"), ("Charlie", "5.00"), ("Bravo", "20.00")]
    ):
        made.append(product(f"{name}", prices=(price, "500.00"), slug=f"p{i}"))
    product("No Price", prices=(), slug="no-price")
    return made


def test_price_sorts_use_the_lowest_active_price_and_put_unpriced_last(
    api_client: APIClient, assortment: list[Product]
) -> None:
    by_price = api_client.get(LIST, {"sort": "price"}).json()["results"]
    assert [(p["slug"], p["price"] and p["price"]["amount"]) for p in by_price] == [
        ("p3", "5.00"),
        ("p1", "10.00"),
        ("p0", "20.00"),
        ("p2", "20.00"),
        ("p4", "20.00"),
        ("no-price", None),
    ]
    by_price_desc = api_client.get(LIST, {"sort": "-price"}).json()["results"]
    assert [p["slug"] for p in by_price_desc] == ["p4", "p2", "p0", "p1", "p3", "no-price"]


def test_newest_is_the_default_and_name_sorts_alphabetically(api_client: APIClient, assortment: list[Product]) -> None:
    newest = [p["slug"] for p in api_client.get(LIST).json()["results"]]
    assert newest == ["no-price", "p4", "p3", "p2", "p1", "p0"]
    assert api_client.get(LIST, {"sort": "relevance"}).json()["results"][0]["slug"] == "no-price"  # no q: newest
    by_name = [(p["name"], p["slug"]) for p in api_client.get(LIST, {"sort": "name"}).json()["results"]]
    assert by_name == [
        ("Alpha", "p1"),
        ("Bravo", "p0"),
        ("Bravo", "p4"),
        ("Charlie", "p3"),
        ("Delta", "p2"),
        ("No Price", "no-price"),
    ]


@pytest.mark.parametrize("sort", ["newest", "name", "price", "-price", "relevance"])
def test_cursor_pages_walk_every_product_once_forwards_and_back(api_client: APIClient, sort: str) -> None:
    for i in range(23):
        price = ("10.00", "10.00", "12.50")[i % 3]  # heavy ties
        product(f"Tie Widget {i % 4}", prices=(price,), slug=f"widget-{i}")
    params = f"?sort={sort}&page_size=5" + ("&q=widget" if sort == "relevance" else "")
    unpaged = api_client.get(LIST + params.replace("page_size=5", "page_size=100")).json()["results"]

    forward = walk(api_client, LIST + params)

    assert [p["slug"] for p in forward] == [p["slug"] for p in unpaged]
    assert len({p["slug"] for p in forward}) == 23
    # ... and back again through the ``previous`` links, from the last page.
    url = LIST + params
    last = None
    while url:
        last = api_client.get(url).json()
        url = last["next"]
    backward: list[str] = [p["slug"] for p in last["results"]]
    url = last["previous"]
    while url:
        page = api_client.get(url).json()
        backward = [p["slug"] for p in page["results"]] + backward
        url = page["previous"]
    assert backward == [p["slug"] for p in unpaged]


def test_cursor_links_keep_the_filters_and_page_size(api_client: APIClient) -> None:
    for i in range(3):
        product(f"Cap {i}", brand="Kestrel", slug=f"cap-{i}")
    first = api_client.get(LIST, {"brand": "Kestrel", "page_size": 2}).json()
    query = parse_qs(urlsplit(first["next"]).query)
    assert query["brand"] == ["Kestrel"] and query["page_size"] == ["2"] and query["cursor"]
    second = api_client.get(first["next"]).json()
    assert [p["slug"] for p in second["results"]] == ["cap-0"] and second["next"] is None
    assert second["previous"] is not None


def test_a_cursor_survives_rows_inserted_before_it(api_client: APIClient) -> None:
    for i in range(4):
        product(f"Old {i}", slug=f"old-{i}")
    first = api_client.get(LIST, {"page_size": 2}).json()
    product("Brand New", slug="brand-new")  # lands on page one; page two must not repeat or skip
    second = api_client.get(first["next"]).json()
    assert [p["slug"] for p in first["results"] + second["results"]] == ["old-3", "old-2", "old-1", "old-0"]


# --- validation -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "101"}, "page_size"),
        ({"page_size": "many"}, "page_size"),
        ({"sort": "popularity"}, "sort"),
        ({"min_price": "-1"}, "min_price"),
        ({"min_price": "abc"}, "min_price"),
        ({"min_price": "NaN"}, "min_price"),
        ({"in_stock": "perhaps"}, "in_stock"),
        ({"attr": "colour"}, "attr"),
        ({"attr": "bad key:red"}, "attr"),
        ({"category": "not a slug"}, "category"),
        ({"q": "x" * 201}, "q"),
        ({"q": "nul\x00byte"}, "q"),
        ({"catgory": "typo"}, "catgory"),  # an unknown parameter is refused, not ignored
    ],
)
def test_invalid_parameters_are_a_validation_problem(api_client: APIClient, params: dict[str, str], field: str) -> None:
    body = assert_problem(api_client.get(LIST, params), 400, "validation_error")
    assert field in body["errors"]


def test_an_inverted_price_range_is_400_invalid_price_range(api_client: APIClient) -> None:
    assert_problem(api_client.get(LIST, {"min_price": "20", "max_price": "10"}), 400, "invalid_price_range")


def test_a_cursor_of_another_sort_order_is_refused(api_client: APIClient) -> None:
    for i in range(3):
        product(f"Thing {i}", slug=f"thing-{i}")
    next_link = api_client.get(LIST, {"sort": "name", "page_size": 1}).json()["next"]
    cursor = parse_qs(urlsplit(next_link).query)["cursor"][0]
    assert_problem(api_client.get(LIST, {"sort": "price", "cursor": cursor}), 400, "invalid_cursor")


@pytest.mark.parametrize(
    "cursor",
    ["garbage", "eyJvIjoibmV3ZXN0In0", "cD0xZTMwOQ==", "cD0lMDA=", "cj0xJnA9bm90YWRhdGU="],  # not positions
)
def test_a_cursor_we_did_not_make_is_400_invalid_cursor(api_client: APIClient, cursor: str) -> None:
    assert_problem(api_client.get(LIST, {"cursor": cursor}), 400, "invalid_cursor")


# --- query budget (cache cold: the autouse fixture clears it before every test) ------------------------


def test_list_costs_two_queries_for_one_or_a_hundred_products(
    api_client: APIClient, django_assert_num_queries: Any
) -> None:
    category = CategoryFactory(slug="all", parent=CategoryFactory(slug="root"))
    for i in range(100):
        made = ProductFactory(slug=f"bulk-{i}", category=category)
        VariantFactory(product=made, sku=f"BULK-{i}-A", attributes={"size": "M"})
        VariantFactory(product=made, sku=f"BULK-{i}-B", attributes={"size": "L"})
    filters = {"category": "root", "in_stock": "true", "attr": "size:m", "min_price": "1", "sort": "price"}

    sqlite_lexicon = int(connection_of("catalog").vendor == "sqlite")  # SQLite looks search words up first
    for page_size in (1, 100):
        for params in ({}, filters, {"q": "product"}):
            expected = 2 + (sqlite_lexicon if "q" in params else 0)
            with django_assert_num_queries(expected, connection=connection_of("catalog")):
                response = api_client.get(LIST, {**params, "page_size": page_size})
            assert len(response.json()["results"]) == page_size  # every combination is its own (cold) cache key


def test_detail_costs_three_queries_whatever_the_variant_count(
    api_client: APIClient, django_assert_num_queries: Any
) -> None:
    deep = CategoryFactory(parent=CategoryFactory(parent=CategoryFactory()))
    one = product("Single", category=deep)
    many = product("Many", prices=tuple(f"{i}.00" for i in range(1, 41)), category=deep)

    for made, variants in ((one, 1), (many, 40)):
        with django_assert_num_queries(3, connection=connection_of("catalog")):
            response = api_client.get(detail_url(made.slug))
        assert len(response.json()["variants"]) == variants
        assert len(response.json()["breadcrumbs"]) == 3


# --- the OpenAPI schema describes populated responses too (schemathesis fuzzes an empty catalog) -------


@pytest.mark.django_db(transaction=True)  # through WSGI: the request closes the connection, as in production
def test_populated_responses_conform_to_the_openapi_schema() -> None:
    import schemathesis
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

    from shop.wsgi import application

    schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
    checks = [not_a_server_error, content_type_conformance, response_schema_conformance]
    parent = CategoryFactory(slug="parent")
    full = product("Full Coat", prices=("10.00", "20.00"), category=CategoryFactory(slug="child", parent=parent))
    full.image_urls = ["https://img/x.jpg"]
    full.attributes = {"material": "wool", "weight_g": 1200}  # a number in attributes is rendered as text
    full.save()
    VariantFactory(product=full, sku="FULL-SALE", attributes={"size": 42}, compare_at_amount=Decimal("30.00"))
    product("Bare Coat", prices=())
    for i in range(3):
        product(f"Filler {i}", slug=f"filler-{i}")

    calls = [
        ("/api/v1/catalog/categories/", {}, {}),
        ("/api/v1/catalog/products/", {}, {"page_size": 2}),
        ("/api/v1/catalog/products/", {}, {"q": "coat", "sort": "price"}),
        ("/api/v1/catalog/products/{slug}/", {"slug": "full-coat"}, {}),
        ("/api/v1/catalog/products/{slug}/", {"slug": "bare-coat"}, {}),
    ]
    for path, path_parameters, query in calls:
        case = schema[path]["GET"].Case(path_parameters=path_parameters, query=query)
        response = case.call_and_validate(checks=checks)
        assert response.status_code == 200
    page = schema["/api/v1/catalog/products/"]["GET"].Case(query={"page_size": 2}).call()
    assert page.json()["next"]  # the page links were validated as URLs too
