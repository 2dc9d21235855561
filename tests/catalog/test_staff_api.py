"""The staff API as integrations use it: who may call it, what it refuses, and that what staff write
is what the storefront shows next (prices, stock), with the events and the movement log to prove it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.urls import URLPattern
from rest_framework.test import APIClient

from shop.catalog.models import Category, Product, Stock, StockMovement, Variant
from shop.catalog.services import CatalogService
from shop.catalog.views import staff as staff_views
from tests.catalog.factories import CategoryFactory, ProductFactory, VariantFactory
from tests.helpers import assert_problem, outbox

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

STAFF = "/api/v1/catalog/staff"
STOREFRONT = "/api/v1/catalog/products"
PRICE_CHANGED = "catalog.ProductPriceChanged"


@pytest.fixture
def staff(make_user: Callable[..., Any], login: Callable[..., APIClient]) -> Iterator[APIClient]:
    user = make_user(is_staff=True)
    client = login(user)
    client.user = user  # type: ignore[attr-defined]
    yield client


@pytest.fixture
def customer(make_user: Callable[..., Any], login: Callable[..., APIClient]) -> APIClient:
    return login(make_user())


@pytest.fixture
def variant() -> Variant:
    return VariantFactory(sku="TEE-M", price_amount=Decimal("19.99"), stock=10, product__slug="tee")


def storefront_detail(slug: str) -> dict[str, Any]:
    response = APIClient().get(f"{STOREFRONT}/{slug}/")
    assert response.status_code == 200, response.content
    return response.json()  # type: ignore[no-any-return]


def storefront_variant(slug: str, sku: str) -> dict[str, Any]:
    return next(v for v in storefront_detail(slug)["variants"] if v["sku"] == sku)


# --- permissions: every staff route -----------------------------------------------------------------
def _routes(variant: Variant) -> list[tuple[str, str, dict[str, Any] | None, int]]:
    product, category = variant.product, variant.product.category
    return [
        ("get", f"{STAFF}/categories/", None, 200),
        ("post", f"{STAFF}/categories/", {"name": "Hats", "slug": "hats"}, 201),
        ("get", f"{STAFF}/categories/{category.pk}/", None, 200),
        ("patch", f"{STAFF}/categories/{category.pk}/", {"name": "Shirts"}, 200),
        ("get", f"{STAFF}/products/", None, 200),
        ("post", f"{STAFF}/products/", {"name": "Cap", "slug": "cap", "category": category.pk}, 201),
        ("get", f"{STAFF}/products/{product.pk}/", None, 200),
        ("patch", f"{STAFF}/products/{product.pk}/", {"brand": "Other"}, 200),
        (
            "post",
            f"{STAFF}/products/{product.pk}/variants/",
            {"sku": "TEE-L", "price": {"amount": "21.00", "currency": "EUR"}},
            201,
        ),
        ("get", f"{STAFF}/products/{product.pk}/variants/{variant.sku}/", None, 200),
        ("patch", f"{STAFF}/products/{product.pk}/variants/{variant.sku}/", {"name": "Medium"}, 200),
        ("post", f"{STAFF}/stock/{variant.sku}/adjust/", {"on_hand_delta": 1, "note": "found one"}, 200),
    ]


def test_the_permission_table_covers_every_staff_route(variant):
    assert len({pattern.pattern.regex.pattern for pattern in staff_views.routes}) == len(staff_views.routes) == 7
    assert all(isinstance(p, URLPattern) for p in staff_views.routes)
    covered = {(method, path) for method, path, _, _ in _routes(variant)}
    assert len(covered) == 12  # GET+POST, GET+PATCH on categories/products, POST+GET+PATCH variants, adjust


@pytest.mark.parametrize("index", range(12))
def test_anonymous_gets_401_and_customers_403_on_every_staff_route(index, variant, api_client, customer):
    method, path, body, _ = _routes(variant)[index]
    before = (Category.objects.count(), Product.objects.count(), Variant.objects.count(), StockMovement.objects.count())

    assert_problem(getattr(api_client, method)(path, body, format="json"), 401, "not_authenticated")
    assert_problem(getattr(customer, method)(path, body, format="json"), 403, "permission_denied")

    after = (Category.objects.count(), Product.objects.count(), Variant.objects.count(), StockMovement.objects.count())
    assert after == before
    assert Stock.objects.get(pk=variant.pk).on_hand == 10
    assert Product.objects.get(pk=variant.product_id).brand == "Acme"


@pytest.mark.parametrize("index", range(12))
def test_staff_may_call_every_staff_route(index, variant, staff):
    method, path, body, expected = _routes(variant)[index]
    response = getattr(staff, method)(path, body, format="json")
    assert response.status_code == expected, response.content


# --- mass assignment and validation ---------------------------------------------------------------
@pytest.mark.parametrize(
    "extra",
    [{"search_vector": "x"}, {"id": 99}, {"created_at": "2020-01-01T00:00:00Z"}, {"variants": []}],
)
def test_creating_a_product_refuses_fields_clients_may_not_set(extra, staff):
    category = CategoryFactory()
    body = {"name": "Cap", "slug": "cap", "category": category.pk, **extra}

    problem = assert_problem(staff.post(f"{STAFF}/products/", body, format="json"), 400, "validation_error")

    assert set(problem["errors"]) == set(extra)
    assert not Product.objects.filter(slug="cap").exists()


def test_patching_a_variant_cannot_touch_stock_or_its_sku(variant, staff):
    url = f"{STAFF}/products/{variant.product_id}/variants/{variant.sku}/"
    for body in ({"reserved": 5}, {"on_hand": 99}, {"sku": "OTHER"}, {"name": "X", "stock": {"on_hand": 1}}):
        assert_problem(staff.patch(url, body, format="json"), 400, "validation_error")

    variant.refresh_from_db()
    stock = Stock.objects.get(pk=variant.pk)
    assert (variant.sku, variant.name, stock.on_hand, stock.reserved) == ("TEE-M", "Default", 10, 0)
    assert not StockMovement.objects.exists()


def test_patching_a_product_with_one_forbidden_field_changes_nothing(variant, staff):
    url = f"{STAFF}/products/{variant.product_id}/"
    assert_problem(
        staff.patch(url, {"is_active": False, "updated_at": "2020-01-01"}, format="json"), 400, "validation_error"
    )
    assert Product.objects.get(pk=variant.product_id).is_active is True


def test_a_stock_adjustment_cannot_set_reserved(variant, staff):
    body = {"set_on_hand": 3, "reserved": 0, "note": "x"}
    assert_problem(staff.post(f"{STAFF}/stock/{variant.sku}/adjust/", body, format="json"), 400, "validation_error")
    assert Stock.objects.get(pk=variant.pk).on_hand == 10
    assert not StockMovement.objects.exists()


@pytest.mark.parametrize(
    "price",
    [
        {"amount": 12.5, "currency": "EUR"},  # a JSON number: a float, refused
        {"amount": "12.505", "currency": "EUR"},
        {"amount": "-1.00", "currency": "EUR"},
        {"amount": "12.50", "currency": "XXX"},
        {"amount": "12.50", "currency": "BHD"},  # three decimals: the price columns hold two
        {"amount": "12.50", "currency": "JPY"},  # JPY has no minor unit
        {"amount": "12.50"},
        {"amount": "12.50", "currency": "EUR", "minor": 1250},
    ],
)
def test_prices_are_decimal_strings_in_a_supported_currency(price, variant, staff):
    url = f"{STAFF}/products/{variant.product_id}/variants/{variant.sku}/"
    assert_problem(staff.patch(url, {"price": price}, format="json"), 400, "validation_error")
    variant.refresh_from_db()
    assert variant.price_amount == Decimal("19.99")
    assert not outbox("catalog").filter(topic=PRICE_CHANGED).exists()


def test_staff_set_the_tax_class_and_the_weight_that_pricing_reads(variant, staff):
    category = variant.product.category
    body = {"name": "Novel", "slug": "novel", "category": category.pk, "tax_class": "reduced"}
    created = staff.post(f"{STAFF}/products/", body, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["tax_class"] == "reduced"
    book = created.json()["id"]
    variant_body = {"sku": "NOVEL-1", "price": {"amount": "12.00", "currency": "EUR"}, "weight_grams": 380}
    added = staff.post(f"{STAFF}/products/{book}/variants/", variant_body, format="json")
    assert added.status_code == 201 and added.json()["weight_grams"] == 380, added.content
    assert staff.get(f"{STAFF}/products/{variant.product_id}/").json()["tax_class"] == "standard"  # the default

    patched = staff.patch(f"{STAFF}/products/{book}/", {"tax_class": "zero"}, format="json")
    assert patched.status_code == 200 and patched.json()["tax_class"] == "zero"
    url = f"{STAFF}/products/{book}/variants/NOVEL-1/"
    assert staff.patch(url, {"weight_grams": 400}, format="json").json()["weight_grams"] == 400
    [read] = CatalogService().get_variants(skus=["NOVEL-1"])
    assert (read.tax_class, read.weight_grams) == ("zero", 400)


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("product", {"tax_class": "luxury"}, "tax_class"),
        ("product", {"tax_class": None}, "tax_class"),
        ("variant", {"weight_grams": -1}, "weight_grams"),
        ("variant", {"weight_grams": "400"}, "weight_grams"),
        ("variant", {"weight_grams": 1.5}, "weight_grams"),
        ("variant", {"weight_grams": 1_000_001}, "weight_grams"),
    ],
)
def test_a_bad_tax_class_or_weight_is_refused_and_changes_nothing(path, body, field, variant, staff):
    url = f"{STAFF}/products/{variant.product_id}/"
    if path == "variant":
        url += f"variants/{variant.sku}/"

    problem = assert_problem(staff.patch(url, body, format="json"), 400, "validation_error")

    assert set(problem["errors"]) == {field}
    variant.refresh_from_db()
    assert (variant.product.tax_class, variant.weight_grams) == ("standard", 0)


def test_slug_and_sku_clashes_are_409(variant, staff):
    other = ProductFactory(slug="other")
    body = {"name": "Dup", "slug": "tee", "category": variant.product.category_id}
    assert_problem(staff.post(f"{STAFF}/products/", body, format="json"), 409, "slug_taken")
    assert_problem(staff.patch(f"{STAFF}/products/{other.pk}/", {"slug": "tee"}, format="json"), 409, "slug_taken")
    body = {"sku": "TEE-M", "price": {"amount": "1.00", "currency": "EUR"}}
    assert_problem(staff.post(f"{STAFF}/products/{other.pk}/variants/", body, format="json"), 409, "sku_taken")
    category = CategoryFactory(slug="taken")
    assert_problem(staff.post(f"{STAFF}/categories/", {"name": "T", "slug": "taken"}, format="json"), 409, "slug_taken")
    assert Category.objects.filter(slug="taken").get() == category
    assert Product.objects.get(pk=other.pk).slug == "other"


def test_categories_move_but_never_below_themselves(staff):
    root = CategoryFactory(slug="root")
    child = CategoryFactory(slug="child", parent=root)
    leaf = CategoryFactory(slug="leaf", parent=child)

    assert_problem(
        staff.patch(f"{STAFF}/categories/{root.pk}/", {"parent": leaf.pk}, format="json"), 400, "validation_error"
    )
    assert_problem(
        staff.patch(f"{STAFF}/categories/{root.pk}/", {"parent": 999999}, format="json"), 400, "validation_error"
    )

    response = staff.patch(f"{STAFF}/categories/{child.pk}/", {"parent": None}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["path"] == f"/{child.pk}/"
    leaf.refresh_from_db()
    assert leaf.path == f"/{child.pk}/{leaf.pk}/"


def test_unknown_category_and_product_are_refused(staff):
    body = {"name": "Cap", "slug": "cap", "category": 999999}
    problem = assert_problem(staff.post(f"{STAFF}/products/", body, format="json"), 400, "validation_error")
    assert "category" in problem["errors"]
    assert_problem(staff.get(f"{STAFF}/products/999999/"), 404, "not_found")
    body = {"sku": "NEW-1", "price": {"amount": "1.00", "currency": "EUR"}}
    assert_problem(staff.post(f"{STAFF}/products/999999/variants/", body, format="json"), 404, "not_found")
    assert not Variant.objects.filter(sku="NEW-1").exists()


def test_a_variant_is_only_reachable_under_its_own_product(variant, staff):
    other = ProductFactory()
    url = f"{STAFF}/products/{other.pk}/variants/{variant.sku}/"
    assert_problem(staff.get(url), 404, "not_found")
    price = {"amount": "1.00", "currency": "EUR"}
    assert staff.patch(url, {"price": price}, format="json").status_code == 404
    variant.refresh_from_db()
    assert variant.price_amount == Decimal("19.99")


def test_staff_product_list_is_paginated_and_includes_inactive_products(staff):
    ProductFactory.create_batch(3)
    hidden = ProductFactory(is_active=False, slug="hidden")

    page = staff.get(f"{STAFF}/products/", {"page_size": 2}).json()
    assert page["count"] == 4 and len(page["results"]) == 2 and page["next"]
    everything = staff.get(f"{STAFF}/products/", {"page_size": 100}).json()["results"]
    assert hidden.slug in {p["slug"] for p in everything}


# --- writes reach the storefront -----------------------------------------------------------------
def test_a_product_created_by_staff_is_sold_in_the_storefront(staff, committed):
    category = CategoryFactory(slug="hats")
    body = {
        "name": "Wool Cap",
        "slug": "wool-cap",
        "category": category.pk,
        "brand": "Acme",
        "description": "Warm.",
        "attributes": {"material": "wool"},
        "image_urls": ["https://cdn.example.com/cap.jpg"],
    }
    with committed():
        created = staff.post(f"{STAFF}/products/", body, format="json")
    assert created.status_code == 201, created.content
    product_id = created.json()["id"]
    variant_body = {
        "sku": "CAP-1",
        "name": "One size",
        "attributes": {"size": "one"},
        "price": {"amount": "12.50", "currency": "EUR"},
        "compare_at_price": {"amount": "15.00", "currency": "EUR"},
    }
    with committed():
        response = staff.post(f"{STAFF}/products/{product_id}/variants/", variant_body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["stock"] == {"on_hand": 0, "reserved": 0, "available": 0}
    with committed():
        staff.post(f"{STAFF}/stock/CAP-1/adjust/", {"on_hand_delta": 4, "note": "first delivery"}, format="json")

    detail = storefront_detail("wool-cap")
    assert detail["name"] == "Wool Cap"
    [sold] = detail["variants"]
    assert sold["sku"] == "CAP-1"
    assert sold["price"] == {"amount": "12.50", "currency": "EUR"}
    assert sold["compare_at_price"] == {"amount": "15.00", "currency": "EUR"}
    assert sold["available"] == 4
    listing = APIClient().get(f"{STOREFRONT}/").json()["results"]
    assert "wool-cap" in {card["slug"] for card in listing}


def test_a_price_change_is_published_and_shown_by_the_next_storefront_response(variant, staff, committed):
    assert storefront_variant("tee", "TEE-M")["price"]["amount"] == "19.99"  # cache warmed
    Variant.objects.filter(pk=variant.pk).update(price_amount=Decimal("1.00"))  # a write that skips the services
    assert storefront_variant("tee", "TEE-M")["price"]["amount"] == "19.99"  # ... is not seen: the cache is in use

    url = f"{STAFF}/products/{variant.product_id}/variants/TEE-M/"
    with committed():
        response = staff.patch(url, {"price": {"amount": "24.50", "currency": "EUR"}}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["price"] == {"amount": "24.50", "currency": "EUR"}
    [event] = outbox("catalog").filter(topic=PRICE_CHANGED)
    assert event.payload["sku"] == "TEE-M"
    assert event.payload["old_price"] == {"amount": "1.00", "currency": "EUR"}  # what the row really held
    assert event.payload["new_price"] == {"amount": "24.50", "currency": "EUR"}
    assert storefront_variant("tee", "TEE-M")["price"] == {"amount": "24.50", "currency": "EUR"}


def test_changing_other_variant_fields_publishes_no_price_event(variant, staff, committed):
    url = f"{STAFF}/products/{variant.product_id}/variants/TEE-M/"
    with committed():
        response = staff.patch(url, {"name": "Medium", "price": {"amount": "19.99", "currency": "EUR"}}, format="json")
    assert response.status_code == 200
    assert not outbox("catalog").filter(topic=PRICE_CHANGED).exists()
    assert storefront_variant("tee", "TEE-M")["name"] == "Medium"


def test_a_currency_change_must_restate_the_compare_at_price(staff):
    variant = VariantFactory(compare_at_amount=Decimal("30.00"))
    url = f"{STAFF}/products/{variant.product_id}/variants/{variant.sku}/"
    usd = {"amount": "20.00", "currency": "USD"}
    assert_problem(staff.patch(url, {"price": usd}, format="json"), 400, "validation_error")
    response = staff.patch(url, {"price": usd, "compare_at_price": None}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["compare_at_price"] is None
    event = outbox("catalog").get(topic=PRICE_CHANGED)
    assert event.payload["old_price"]["currency"] == "EUR" and event.payload["new_price"]["currency"] == "USD"


def test_a_deactivated_product_leaves_the_storefront(variant, staff, committed):
    storefront_detail("tee")
    with committed():
        assert (
            staff.patch(f"{STAFF}/products/{variant.product_id}/", {"is_active": False}, format="json").status_code
            == 200
        )
    assert APIClient().get(f"{STOREFRONT}/tee/").status_code == 404
    assert staff.get(f"{STAFF}/products/{variant.product_id}/").json()["is_active"] is False


# --- stock -------------------------------------------------------------------------------------------
def test_a_stock_adjustment_is_logged_with_the_staff_member_and_shown_next(variant, staff, committed):
    assert storefront_variant("tee", "TEE-M")["available"] == 10  # cache warmed

    with committed():
        response = staff.post(
            f"{STAFF}/stock/TEE-M/adjust/", {"on_hand_delta": 7, "note": "delivery 42"}, format="json"
        )

    assert response.status_code == 200, response.content
    assert response.json() == {"sku": "TEE-M", "on_hand": 17, "reserved": 0, "available": 17}
    movement = StockMovement.objects.get(variant=variant)
    assert (movement.reason, movement.on_hand_delta, movement.on_hand_after) == ("adjust", 7, 17)
    assert (movement.actor_id, movement.note) == (staff.user.pk, "delivery 42")
    assert storefront_variant("tee", "TEE-M")["available"] == 17

    with committed():
        response = staff.post(f"{STAFF}/stock/TEE-M/adjust/", {"set_on_hand": 2, "note": "count"}, format="json")
    assert response.json()["available"] == 2
    assert StockMovement.objects.filter(variant=variant).latest("id").on_hand_delta == -15
    assert storefront_variant("tee", "TEE-M")["available"] == 2
    with committed():
        body = {"on_hand_delta": 3, "reason": "receive", "note": "PO-9"}
        assert staff.post(f"{STAFF}/stock/TEE-M/adjust/", body, format="json").status_code == 200
    received = StockMovement.objects.filter(variant=variant).latest("id")
    assert (received.reason, received.on_hand_delta, received.actor_id) == ("receive", 3, staff.user.pk)
    assert storefront_variant("tee", "TEE-M")["available"] == 5


def test_stock_cannot_go_below_what_customers_hold(staff):
    held = VariantFactory(sku="HELD-1", stock=10, reserved=8)
    body = {"set_on_hand": 5, "note": "recount"}

    assert_problem(staff.post(f"{STAFF}/stock/HELD-1/adjust/", body, format="json"), 409, "stock_below_reserved")
    assert_problem(
        staff.post(f"{STAFF}/stock/HELD-1/adjust/", {"on_hand_delta": -3}, format="json"), 409, "stock_below_reserved"
    )

    stock = Stock.objects.get(pk=held.pk)
    assert (stock.on_hand, stock.reserved) == (10, 8)
    assert not StockMovement.objects.exists()


def test_a_stock_adjustment_needs_exactly_one_kind_of_change(variant, staff):
    url = f"{STAFF}/stock/TEE-M/adjust/"
    assert_problem(staff.post(url, {"note": "nothing"}, format="json"), 400, "validation_error")
    assert_problem(staff.post(url, {"on_hand_delta": 1, "set_on_hand": 1}, format="json"), 400, "validation_error")
    assert_problem(staff.post(url, {"set_on_hand": -1}, format="json"), 400, "validation_error")
    for reason in ("import", "reserve", "commit"):  # the ledger's other reasons are not the caller's to claim
        body = {"on_hand_delta": 1, "reason": reason}
        assert_problem(staff.post(url, body, format="json"), 400, "validation_error")
    assert_problem(
        staff.post(f"{STAFF}/stock/NOPE/adjust/", {"on_hand_delta": 1}, format="json"), 404, "not_found", resource="sku"
    )
    assert Stock.objects.get(pk=variant.pk).on_hand == 10
