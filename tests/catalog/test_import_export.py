"""CSV import/export of products and stock: imports write through the services (price events, logged
IMPORT movements naming the staff member), a file with one bad row imports nothing, exports round-trip."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from typing import Any

import pytest
import tablib
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from shop.catalog.admin.resources import ProductVariantResource, StockResource
from shop.catalog.models import Product, Stock, StockMovement, Variant
from shop.users.models import User
from tests.catalog.factories import CategoryFactory, VariantFactory
from tests.helpers import outbox

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

PRICE_CHANGED = "catalog.ProductPriceChanged"
PRODUCTS_HEADER = (
    "product_slug,product_name,category_slug,brand,sku,variant_name,price,compare_at_price,currency,active"
)
# What an export writes: the columns above plus the tax class and the weight (files without them still import).
EXPORT_HEADER = (
    "product_slug,product_name,category_slug,brand,tax_class,sku,variant_name,price,compare_at_price,currency,"
    "weight_grams,active"
)


def dataset(text: str) -> tablib.Dataset:
    return tablib.Dataset().load(text.strip() + "\n", format="csv")


def import_products(text: str, user: User | None = None) -> Any:
    return ProductVariantResource().import_data(dataset(text), dry_run=False, user=user, file_name="products.csv")


def import_stock(text: str, user: User | None = None) -> Any:
    return StockResource().import_data(dataset(text), dry_run=False, user=user, file_name="stock.csv")


def row_errors(result: Any) -> dict[int, Any]:
    return {row.number: row.error_dict for row in result.invalid_rows} | dict(result.row_errors())


# --- products ------------------------------------------------------------------------------------------
def test_a_products_csv_creates_products_with_variants_through_the_services(staff_user, committed):
    CategoryFactory(slug="tees")
    text = f"""
{PRODUCTS_HEADER}
tee,Tee,tees,Acme,TEE-S,S,19.99,,EUR,1
tee,Tee,tees,Acme,TEE-M,M,19.99,25.00,EUR,1
mug,Mug,tees,,MUG-1,,8.50,,,yes
"""
    with committed():
        result = import_products(text, staff_user)

    assert not result.has_errors() and not result.has_validation_errors(), row_errors(result)
    assert [row.import_type for row in result.rows] == ["new", "new", "new"]
    tee = Product.objects.get(slug="tee")
    assert (tee.name, tee.category.slug, tee.brand) == ("Tee", "tees", "Acme")
    assert sorted(tee.variants.values_list("sku", flat=True)) == ["TEE-M", "TEE-S"]
    medium = Variant.objects.get(sku="TEE-M")
    assert (medium.price_amount, medium.compare_at_amount, medium.currency) == (
        Decimal("19.99"),
        Decimal("25.00"),
        "EUR",
    )
    assert Variant.objects.get(sku="MUG-1").currency == "EUR"  # blank currency: the shop's
    assert Stock.objects.filter(variant__sku__in=["TEE-S", "TEE-M", "MUG-1"], on_hand=0).count() == 3
    detail = APIClient().get("/api/v1/catalog/products/tee/").json()
    assert {v["sku"] for v in detail["variants"]} == {"TEE-S", "TEE-M"}


def test_reimporting_a_price_updates_it_publishes_the_event_and_reaches_the_storefront(staff_user, committed):
    VariantFactory(sku="TEE-M", price_amount=Decimal("19.99"), product__slug="tee", product__category__slug="tees")
    detail_url = "/api/v1/catalog/products/tee/"
    assert APIClient().get(detail_url).json()["variants"][0]["price"]["amount"] == "19.99"  # cache warmed

    with committed():
        result = import_products(f"{PRODUCTS_HEADER}\ntee,,,,TEE-M,,21.00,,,", staff_user)

    assert not result.has_errors() and not result.has_validation_errors(), row_errors(result)
    assert [row.import_type for row in result.rows] == ["update"]
    [event] = outbox("catalog").filter(topic=PRICE_CHANGED)
    assert event.payload["old_price"]["amount"] == "19.99" and event.payload["new_price"]["amount"] == "21.00"
    assert APIClient().get(detail_url).json()["variants"][0]["price"]["amount"] == "21.00"
    product = Product.objects.get(slug="tee")
    assert product.name.startswith("Product ")  # blank cells keep what is there


@pytest.mark.parametrize(
    ("bad_row", "column"),
    [
        ("cap,Cap,no-such-category,,CAP-1,,5.00,,EUR,1", "category_slug"),
        ("cap,Cap,tees,,CAP-1,,5.005,,EUR,1", "price"),
        ("cap,Cap,tees,,CAP-1,,abc,,EUR,1", "price"),
        ("cap,Cap,tees,,CAP-1,,5.00,,XXX,1", "price"),
        ("cap,Cap,tees,,CAP 1,,5.00,,EUR,1", "sku"),
        ("cap,Cap,tees,,CAP-1,,,,EUR,1", "price"),
        ("cap,,tees,,CAP-1,,5.00,,EUR,1", "product_name"),
        ("cap,Cap,tees,,CAP-1,,5.00,,EUR,maybe", "active"),
        ("mug,Mug,tees,,OLD-1,,5.00,,EUR,1", "product_slug"),  # a SKU never moves to another product
    ],
)
def test_a_products_csv_with_one_bad_row_imports_nothing(bad_row, column, staff_user):
    CategoryFactory(slug="tees")
    VariantFactory(sku="OLD-1", price_amount=Decimal("3.00"), product__slug="old")
    text = f"{PRODUCTS_HEADER}\ntee,Tee,tees,Acme,TEE-S,S,19.99,,EUR,1\n{bad_row}\nold,,,,OLD-1,,4.00,,,"

    result = import_products(text, staff_user)

    assert result.has_validation_errors()
    [invalid] = result.invalid_rows
    assert invalid.number == 2 and column in invalid.error_dict, invalid.error_dict
    assert not Product.objects.filter(slug__in=["tee", "cap", "mug"]).exists()
    assert not Variant.objects.filter(sku__in=["TEE-S", "CAP-1"]).exists()
    assert Variant.objects.get(sku="OLD-1").price_amount == Decimal("3.00")
    assert not outbox("catalog").exists()


def test_products_export_returns_one_row_per_sku_and_round_trips():
    VariantFactory(
        sku="TEE-M",
        name="M",
        price_amount=Decimal("19.99"),
        compare_at_amount=Decimal("25.00"),
        product__slug="tee",
        product__name="Tee",
        product__brand="Acme",
        product__category__slug="tees",
    )
    VariantFactory(sku="TEE-L", name="L", price_amount=Decimal("21.00"), is_active=False, product=Product.objects.get())

    exported = ProductVariantResource().export()

    rows = list(csv.DictReader(io.StringIO(exported.csv)))
    assert exported.headers == EXPORT_HEADER.split(",")
    by_sku = {row["sku"]: row for row in rows}
    assert by_sku["TEE-M"] == {
        "product_slug": "tee",
        "product_name": "Tee",
        "category_slug": "tees",
        "brand": "Acme",
        "tax_class": "standard",
        "sku": "TEE-M",
        "variant_name": "M",
        "price": "19.99",
        "compare_at_price": "25.00",
        "currency": "EUR",
        "weight_grams": "0",
        "active": "1",
    }
    assert by_sku["TEE-L"]["active"] == "0" and by_sku["TEE-L"]["compare_at_price"] == ""
    again = import_products(exported.csv)
    assert not again.has_errors() and not again.has_validation_errors(), row_errors(again)
    assert not outbox("catalog").exists()  # nothing changed, so no price event


def test_a_products_csv_sets_tax_classes_and_weights_and_refuses_unknown_ones(staff_user, committed):
    CategoryFactory(slug="books")
    header = "product_slug,product_name,category_slug,tax_class,sku,price,weight_grams"
    with committed():
        result = import_products(f"{header}\nnovel,Novel,books,reduced,NOVEL-1,12.00,380\nmap,Map,books,,MAP-1,5.00,")

    assert not result.has_errors() and not result.has_validation_errors(), row_errors(result)
    novel, atlas = Variant.objects.select_related("product").get(sku="NOVEL-1"), Variant.objects.get(sku="MAP-1")
    assert (novel.product.tax_class, novel.weight_grams) == ("reduced", 380)
    assert (atlas.product.tax_class, atlas.weight_grams) == ("standard", 0)  # blank cells: the defaults

    for bad, column in (("luxury,NOVEL-1,12.00,380", "tax_class"), ("zero,NOVEL-1,12.00,heavy", "weight_grams")):
        refused = import_products(f"{header}\nnovel,,,{bad}")
        assert refused.has_validation_errors()
        assert column in refused.invalid_rows[0].error_dict, refused.invalid_rows[0].error_dict
    novel.refresh_from_db()
    assert (novel.product.tax_class, novel.weight_grams) == ("reduced", 380)


# --- stock -----------------------------------------------------------------------------------------
def test_a_stock_csv_sets_counts_as_logged_import_movements(staff_user, committed):
    VariantFactory(sku="TEE-S", stock=10, product__slug="tee")
    VariantFactory(sku="TEE-M", stock=4, reserved=2)
    VariantFactory(sku="TEE-L", stock=7)
    assert APIClient().get("/api/v1/catalog/products/tee/").json()["variants"][0]["available"] == 10

    with committed():
        result = import_stock("sku,on_hand\nTEE-S,25\nTEE-M,3\nTEE-L,7", staff_user)

    assert not result.has_errors() and not result.has_validation_errors(), row_errors(result)
    assert [row.import_type for row in result.rows] == ["update", "update", "skip"]
    assert dict(Stock.objects.values_list("variant__sku", "on_hand")) == {"TEE-S": 25, "TEE-M": 3, "TEE-L": 7}
    movements = {m.variant.sku: m for m in StockMovement.objects.select_related("variant")}
    assert set(movements) == {"TEE-S", "TEE-M"}  # the unchanged count logs nothing
    assert {(m.reason, m.actor_id) for m in movements.values()} == {("import", staff_user.pk)}
    assert (movements["TEE-S"].on_hand_delta, movements["TEE-M"].on_hand_delta) == (15, -1)
    assert "stock.csv" in movements["TEE-S"].note
    assert APIClient().get("/api/v1/catalog/products/tee/").json()["variants"][0]["available"] == 25


@pytest.mark.parametrize(
    ("bad_row", "column"),
    [("NOPE-1,5", "sku"), ("TEE-M,1", "on_hand"), ("TEE-M,-4", "on_hand"), ("TEE-M,lots", "on_hand")],
)
def test_a_stock_csv_with_one_bad_row_imports_nothing(bad_row, column, staff_user):
    VariantFactory(sku="TEE-S", stock=10)
    VariantFactory(sku="TEE-M", stock=4, reserved=2)  # 1 would be below what customers hold

    result = import_stock(f"sku,on_hand\nTEE-S,25\n{bad_row}", staff_user)

    assert result.has_validation_errors()
    [invalid] = result.invalid_rows
    assert column in invalid.error_dict, invalid.error_dict
    assert dict(Stock.objects.values_list("variant__sku", "on_hand")) == {"TEE-S": 10, "TEE-M": 4}
    assert not StockMovement.objects.exists()


def test_stock_export_has_the_counts_and_ignores_reserved_on_reimport(staff_user):
    VariantFactory(sku="TEE-M", stock=4, reserved=2, product__slug="tee")
    exported = StockResource().export()
    assert exported.dict == [{"sku": "TEE-M", "product_slug": "tee", "on_hand": "4", "reserved": "2", "available": "2"}]

    result = import_stock("sku,product_slug,on_hand,reserved,available\nTEE-M,tee,6,0,6", staff_user)

    assert not result.has_validation_errors(), row_errors(result)
    stock = Stock.objects.get(variant__sku="TEE-M")
    assert (stock.on_hand, stock.reserved) == (6, 2)  # reserved is never imported


# --- through the admin pages ----------------------------------------------------------------------
def _upload(browser: Client, model: str, name: str, text: str) -> Any:
    upload = SimpleUploadedFile(name, text.encode(), content_type="text/csv")
    return browser.post(f"/admin/catalog/{model}/import/", {"import_file": upload, "format": "0"})


def _confirm(browser: Client, model: str, preview: Any) -> Any:
    """Press "Confirm import" on a preview page (its hidden fields name the uploaded file)."""
    assert preview.status_code == 200
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', preview.content.decode()))
    confirm = {k: hidden[k] for k in ("import_file_name", "original_file_name", "format") if k in hidden}
    assert confirm.keys() == {"import_file_name", "original_file_name", "format"}, hidden
    return browser.post(f"/admin/catalog/{model}/process_import/", {**confirm, "resource": hidden.get("resource", "")})


def test_admin_stock_import_previews_then_confirms_with_logged_movements(browser, staff_user):
    VariantFactory(sku="TEE-S", stock=10)

    preview = _upload(browser, "stock", "count.csv", "sku,on_hand\nTEE-S,12")
    assert Stock.objects.get(variant__sku="TEE-S").on_hand == 10  # the preview is a dry run
    assert not StockMovement.objects.exists()

    response = _confirm(browser, "stock", preview)

    assert response.status_code == 302
    assert Stock.objects.get(variant__sku="TEE-S").on_hand == 12
    movement = StockMovement.objects.get()
    assert (movement.reason, movement.on_hand_delta, movement.actor_id) == ("import", 2, staff_user.pk)


def test_admin_product_import_previews_then_confirms(browser):
    CategoryFactory(slug="tees")
    preview = _upload(browser, "product", "p.csv", f"{PRODUCTS_HEADER}\ntee,Tee,tees,,TEE-S,S,19.99,,EUR,1")
    assert "TEE-S" in preview.content.decode()
    assert not Product.objects.filter(slug="tee").exists()  # the preview is a dry run

    assert _confirm(browser, "product", preview).status_code == 302

    assert Variant.objects.get(sku="TEE-S").product.slug == "tee"
    assert "Import finished" in browser.get("/admin/catalog/product/").content.decode()


def test_admin_import_with_a_bad_row_shows_the_error_and_offers_no_confirmation(browser):
    CategoryFactory(slug="tees")
    text = f"{PRODUCTS_HEADER}\ntee,Tee,tees,,TEE-S,,19.99,,EUR,1\ncap,Cap,nowhere,,CAP-1,,5.00,,EUR,1"

    page = _upload(browser, "product", "products.csv", text)

    assert page.status_code == 200
    body = page.content.decode()
    assert "nowhere" in body and "process_import" not in body
    assert not Product.objects.filter(slug__in=["tee", "cap"]).exists()


def test_admin_export_downloads_the_variants_of_the_filtered_products(browser):
    VariantFactory(sku="TEE-M", product__slug="tee", product__brand="Acme")
    VariantFactory(sku="MUG-1", product__slug="mug", product__brand="Potter")
    fields = {f"productvariantresource_{name}": "on" for name in PRODUCTS_HEADER.split(",")}

    response = browser.post("/admin/catalog/product/export/?brand=Acme", {"format": "0", "resource": "0", **fields})

    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [row["sku"] for row in rows] == ["TEE-M"]
