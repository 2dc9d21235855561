"""The catalog admin as staff use it: pages open and search works, and every save goes through the
services (a price edit publishes ProductPriceChanged and reaches the storefront; a stock adjustment
is a logged movement naming the staff member; stock is never a bare field edit)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from shop.catalog.models import Category, Product, Stock, StockMovement, Variant
from shop.catalog.services import CatalogService
from shop.users.models import User
from tests.catalog.factories import CategoryFactory, ProductFactory, VariantFactory
from tests.helpers import connection_of, outbox, submit_kit_form

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

ADMIN = "/admin/catalog"
PRICE_CHANGED = "catalog.ProductPriceChanged"


@pytest.fixture
def variant() -> Variant:
    return VariantFactory(
        sku="TEE-M", price_amount=Decimal("19.99"), stock=10, product__slug="tee", product__name="Tee"
    )


def storefront_variant(slug: str, sku: str) -> dict[str, Any]:
    response = APIClient().get(f"/api/v1/catalog/products/{slug}/")
    assert response.status_code == 200, response.content
    return next(v for v in response.json()["variants"] if v["sku"] == sku)


def product_form(product: Product, variants: list[Variant], **changes: Any) -> dict[str, Any]:
    """The POST body of the product change page, as the browser sends it (inline rows included)."""
    data: dict[str, Any] = {
        "name": product.name,
        "slug": product.slug,
        "category": product.category_id,
        "brand": product.brand,
        "tax_class": product.tax_class,
        "description": product.description,
        "attributes": "{}",
        "image_urls": "[]",
        "is_active": "on" if product.is_active else "",
        "variants-TOTAL_FORMS": len(variants),
        "variants-INITIAL_FORMS": sum(1 for v in variants if v.pk),
        "variants-MIN_NUM_FORMS": 0,
        "variants-MAX_NUM_FORMS": 1000,
    }
    for i, v in enumerate(variants):
        data.update(
            {
                f"variants-{i}-id": v.pk or "",
                f"variants-{i}-product": product.pk or "",
                f"variants-{i}-sku": v.sku,
                f"variants-{i}-name": v.name,
                f"variants-{i}-attributes": "{}",
                f"variants-{i}-price_amount": str(v.price_amount),
                f"variants-{i}-compare_at_amount": "" if v.compare_at_amount is None else str(v.compare_at_amount),
                f"variants-{i}-currency": v.currency,
                f"variants-{i}-weight_grams": v.weight_grams,
                f"variants-{i}-is_active": "on" if v.is_active else "",
                f"variants-{i}-position": v.position,
            }
        )
    data.update(changes)
    return {k: v for k, v in data.items() if v != ""}


# --- pages and search ----------------------------------------------------------------------------
def test_staff_can_open_every_catalog_changelist_and_change_page(browser, variant):
    StockMovement.objects.create(variant=variant, reason="adjust", on_hand_delta=1, on_hand_after=10, reserved_after=0)
    movement = StockMovement.objects.get()
    pages = [
        f"{ADMIN}/category/",
        f"{ADMIN}/category/add/",
        f"{ADMIN}/category/{variant.product.category_id}/change/",
        f"{ADMIN}/product/",
        f"{ADMIN}/product/add/",
        f"{ADMIN}/product/{variant.product_id}/change/",
        f"{ADMIN}/stock/",
        f"{ADMIN}/stock/{variant.pk}/change/",
        f"{ADMIN}/stock/{variant.pk}/adjust/",
        f"{ADMIN}/stockmovement/",
        f"{ADMIN}/stockmovement/{movement.pk}/change/",
        f"{ADMIN}/product/import/",
        f"{ADMIN}/product/export/",
        f"{ADMIN}/stock/import/",
        f"{ADMIN}/stock/export/",
    ]
    for page in pages:
        assert browser.get(page).status_code == 200, page
    change_page = browser.get(f"{ADMIN}/product/{variant.product_id}/change/").content.decode()
    assert "TEE-M" in change_page and "19.99" in change_page
    assert f"{ADMIN}/stock/{variant.pk}/adjust/" in change_page


def test_product_search_finds_name_slug_brand_and_sku(browser, variant):
    ProductFactory(name="Mug", slug="mug", brand="Potter")
    for query in ("Tee", "tee", "TEE-M"):
        page = browser.get(f"{ADMIN}/product/", {"q": query}).content.decode()
        assert f"/admin/catalog/product/{variant.product_id}/change/" in page, query
        assert "Mug" not in page
    page = browser.get(f"{ADMIN}/product/", {"q": "Potter"}).content.decode()
    assert "Mug" in page and f"/admin/catalog/product/{variant.product_id}/change/" not in page


def test_product_filters_by_active_category_and_brand(browser, variant):
    ProductFactory(name="Old Mug", is_active=False, brand="Potter")
    page = browser.get(f"{ADMIN}/product/", {"is_active__exact": "0"}).content.decode()
    assert "Old Mug" in page and ">Tee<" not in page
    page = browser.get(f"{ADMIN}/product/", {"brand": "Potter"}).content.decode()
    assert "Old Mug" in page and ">Tee<" not in page
    page = browser.get(f"{ADMIN}/product/", {"category__id__exact": variant.product.category_id}).content.decode()
    assert ">Tee<" in page and "Old Mug" not in page


def test_low_stock_list_shows_only_skus_at_or_below_the_threshold(browser, settings):
    settings.SHOP_STOCK_LOW_THRESHOLD = 5
    VariantFactory(sku="LOW-1", stock=5)
    VariantFactory(sku="HELD-1", stock=20, reserved=16)  # 4 available
    VariantFactory(sku="PLENTY-1", stock=50)
    page = browser.get(f"{ADMIN}/stock/", {"level": "low"}).content.decode()
    assert "LOW-1" in page and "HELD-1" in page and "PLENTY-1" not in page
    page = browser.get(f"{ADMIN}/stock/", {"level": "out"}).content.decode()
    assert "LOW-1" not in page
    assert "PLENTY-1" in browser.get(f"{ADMIN}/stock/", {"q": "PLENTY"}).content.decode()


def test_stock_movements_are_searchable_by_sku_and_filterable_by_reason(browser, variant):
    other = VariantFactory(sku="MUG-1")
    StockMovement.objects.create(variant=variant, reason="adjust", on_hand_after=1, reserved_after=0, note="A")
    StockMovement.objects.create(variant=other, reason="import", on_hand_after=1, reserved_after=0, note="B")
    page = browser.get(f"{ADMIN}/stockmovement/", {"q": "MUG-1"}).content.decode()
    assert "MUG-1" in page and "TEE-M" not in page
    page = browser.get(f"{ADMIN}/stockmovement/", {"reason__exact": "adjust"}).content.decode()
    assert "TEE-M" in page and "MUG-1" not in page


# --- saves go through the services ------------------------------------------------------------
def test_an_admin_price_edit_publishes_the_event_and_reaches_the_storefront(browser, variant, committed):
    assert storefront_variant("tee", "TEE-M")["price"]["amount"] == "19.99"  # cache warmed

    with committed():
        response = browser.post(
            f"{ADMIN}/product/{variant.product_id}/change/",
            product_form(variant.product, [variant], **{"variants-0-price_amount": "17.50"}),
        )

    assert response.status_code == 302, response.context["errors"] if response.context else response
    [event] = outbox("catalog").filter(topic=PRICE_CHANGED)
    assert event.payload["old_price"] == {"amount": "19.99", "currency": "EUR"}
    assert event.payload["new_price"] == {"amount": "17.50", "currency": "EUR"}
    assert storefront_variant("tee", "TEE-M")["price"] == {"amount": "17.50", "currency": "EUR"}
    assert Stock.objects.get(pk=variant.pk).on_hand == 10


def test_an_admin_edit_without_a_price_change_publishes_nothing(browser, variant, committed):
    with committed():
        response = browser.post(
            f"{ADMIN}/product/{variant.product_id}/change/",
            product_form(variant.product, [variant], name="Better Tee", **{"variants-0-name": "Medium"}),
        )
    assert response.status_code == 302
    assert not outbox("catalog").filter(topic=PRICE_CHANGED).exists()
    assert Product.objects.get(pk=variant.product_id).name == "Better Tee"
    assert storefront_variant("tee", "TEE-M")["name"] == "Medium"


def test_an_invalid_inline_price_is_a_form_error_and_changes_nothing(browser, variant):
    for bad in ({"variants-0-price_amount": "-1"}, {"variants-0-currency": "JPY", "variants-0-price_amount": "1.50"}):
        response = browser.post(
            f"{ADMIN}/product/{variant.product_id}/change/", product_form(variant.product, [variant], **bad)
        )
        assert response.status_code == 200  # the form again, with errors
        assert response.context["errors"]
    variant.refresh_from_db()
    assert (variant.price_amount, variant.currency) == (Decimal("19.99"), "EUR")
    assert not outbox("catalog").exists()


def test_adding_a_product_with_a_variant_in_the_admin_creates_its_stock_row(browser, committed):
    category = CategoryFactory()
    product = Product(name="Scarf", slug="scarf", category=category, brand="Knit", is_active=True)
    new = Variant(sku="SCARF-1", name="Red", price_amount=Decimal("30.00"), currency="EUR", is_active=True)

    with committed():
        response = browser.post(f"{ADMIN}/product/add/", product_form(product, [new]))

    assert response.status_code == 302, response.context["errors"] if response.context else response
    created = Variant.objects.select_related("product").get(sku="SCARF-1")
    assert created.product.slug == "scarf"
    assert Stock.objects.get(pk=created.pk).on_hand == 0
    assert storefront_variant("scarf", "SCARF-1")["price"]["amount"] == "30.00"


def test_tax_class_and_weight_are_edited_in_the_admin_and_reach_pricings_read(browser, variant, committed):
    with committed():
        response = browser.post(
            f"{ADMIN}/product/{variant.product_id}/change/",
            product_form(variant.product, [variant], tax_class="reduced", **{"variants-0-weight_grams": "450"}),
        )

    assert response.status_code == 302, response.context["errors"] if response.context else response
    [read] = CatalogService().get_variants(skus=["TEE-M"])
    assert (read.tax_class, read.weight_grams) == ("reduced", 450)
    assert not outbox("catalog").filter(topic=PRICE_CHANGED).exists()  # not a price change
    for bad in ({"tax_class": "luxury"}, {"variants-0-weight_grams": "-5"}, {"variants-0-weight_grams": "2000000"}):
        refused = browser.post(
            f"{ADMIN}/product/{variant.product_id}/change/", product_form(Product.objects.get(), [variant], **bad)
        )
        assert refused.status_code == 200 and refused.context["errors"], bad
    variant.refresh_from_db()
    assert (variant.product.tax_class, variant.weight_grams) == ("reduced", 450)


def test_stock_is_never_a_bare_field_edit_in_the_admin(browser, variant):
    change = browser.post(f"{ADMIN}/stock/{variant.pk}/change/", {"on_hand": 999, "reserved": 0})
    assert change.status_code == 403
    assert browser.get(f"{ADMIN}/stock/add/").status_code == 403
    assert browser.post(f"{ADMIN}/stock/{variant.pk}/delete/", {"post": "yes"}).status_code == 403
    page = browser.get(f"{ADMIN}/product/{variant.product_id}/change/").content.decode()
    assert 'name="variants-0-on_hand"' not in page and 'name="variants-0-reserved"' not in page
    # A forged inline field is ignored, never written.
    forged = product_form(variant.product, [variant], **{"variants-0-on_hand": "999", "variants-0-reserved": "5"})
    assert browser.post(f"{ADMIN}/product/{variant.product_id}/change/", forged).status_code == 302
    stock = Stock.objects.get(pk=variant.pk)
    assert (stock.on_hand, stock.reserved) == (10, 0)
    assert not StockMovement.objects.exists()


def test_the_admin_stock_adjustment_shows_the_change_first_then_logs_a_movement_with_the_staff_id(
    browser, staff_user, variant, committed
):
    assert storefront_variant("tee", "TEE-M")["available"] == 10  # cache warmed
    url = f"{ADMIN}/stock/{variant.pk}/adjust/"
    form = browser.get(url)
    assert form.status_code == 200 and "Adjust stock of TEE-M" in form.content.decode()

    confirmation = submit_kit_form(browser, url, form, reason="receive", on_hand_delta="5", note="PO-7")

    assert confirmation.status_code == 200  # what will happen, and nothing has yet
    page = confirmation.content.decode()
    assert "Nothing has happened yet" in page and "On hand 10 → 15 (+5); available 10 → 15" in page
    assert Stock.objects.get(pk=variant.pk).on_hand == 10 and not StockMovement.objects.exists()

    with committed():
        response = submit_kit_form(browser, url, confirmation)

    assert response.status_code == 302
    movement = StockMovement.objects.get(variant=variant)
    assert (movement.reason, movement.on_hand_delta, movement.on_hand_after) == ("receive", 5, 15)
    assert (movement.actor_id, movement.note) == (staff_user.pk, "PO-7")
    assert storefront_variant("tee", "TEE-M")["available"] == 15
    history = browser.get(f"{ADMIN}/stock/{variant.pk}/history/").content.decode()
    assert "on hand now 15" in history
    again = submit_kit_form(browser, url, confirmation)  # the same confirmation twice: shown again, not done
    assert again.status_code == 200 and "On hand 15 → 20" in again.content.decode()
    assert StockMovement.objects.filter(variant=variant).count() == 1


def test_the_admin_stock_adjustment_refuses_going_below_reserved(browser):
    held = VariantFactory(sku="HELD-1", stock=10, reserved=8)
    url = f"{ADMIN}/stock/{held.pk}/adjust/"
    form = browser.get(url)
    response = submit_kit_form(browser, url, form, reason="adjust", set_on_hand="3", note="x")
    assert response.status_code == 200
    assert "below the 8 reserved" in response.content.decode() and 'id="kit-submit"' not in response.content.decode()
    response = submit_kit_form(browser, url, form, reason="adjust", note="neither")
    assert response.status_code == 200 and "exactly one" in response.content.decode()
    assert Stock.objects.get(pk=held.pk).on_hand == 10
    assert not StockMovement.objects.exists()


def test_staff_without_the_stock_permission_cannot_adjust(variant):
    clerk = User.objects.create_user("clerk@example.com", "clerk-pass-123456", is_staff=True)
    browser = Client()
    browser.force_login(clerk)
    assert browser.post(f"{ADMIN}/stock/{variant.pk}/adjust/", {"on_hand_delta": "5", "note": "x"}).status_code == 403
    assert Stock.objects.get(pk=variant.pk).on_hand == 10


def test_products_are_deactivated_not_deleted(browser, variant, committed):
    assert browser.get(f"{ADMIN}/product/{variant.product_id}/delete/").status_code == 403
    with committed():
        response = browser.post(
            f"{ADMIN}/product/",
            {"action": "deactivate_products", "_selected_action": [variant.product_id]},
        )
    assert response.status_code == 302
    assert Product.objects.get(pk=variant.product_id).is_active is False
    assert APIClient().get("/api/v1/catalog/products/tee/").status_code == 404


def test_categories_are_saved_through_the_services_and_never_move_below_themselves(browser):
    root = CategoryFactory(name="Clothes", slug="clothes")
    response = browser.post(
        f"{ADMIN}/category/add/", {"name": "Shirts", "slug": "shirts", "parent": root.pk, "position": 0}
    )
    assert response.status_code == 302
    shirts = Category.objects.get(slug="shirts")
    assert shirts.path == f"/{root.pk}/{shirts.pk}/"

    response = browser.post(
        f"{ADMIN}/category/{root.pk}/change/",
        {"name": "Clothes", "slug": "clothes", "parent": shirts.pk, "position": 0},
    )
    assert response.status_code == 200 and response.context["errors"]
    root.refresh_from_db()
    assert root.parent_id is None and root.path == f"/{root.pk}/"
    listing = browser.get(f"{ADMIN}/category/").content.decode()
    assert listing.index("Clothes") < listing.index("— Shirts")


def test_the_product_list_shows_price_and_stock_at_a_cost_that_does_not_grow_with_rows(browser):
    tee = VariantFactory(sku="TEE-S", price_amount=Decimal("9.50"), stock=4, reserved=1, product__name="Tee")
    VariantFactory(sku="TEE-L", price_amount=Decimal("12.00"), stock=6, product=tee.product)
    VariantFactory(sku="TEE-XL", price_amount=Decimal("99.00"), stock=50, product=tee.product, is_active=False)
    VariantFactory(sku="MUG-1", price_amount=Decimal("7.00"), stock=0, product__name="Mug")

    def row(page: str, name: str) -> str:
        return page.split(f">{name}</a>", 1)[1].split("</tr>", 1)[0]

    page = browser.get(f"{ADMIN}/product/").content.decode()
    tee_row, mug_row = row(page, "Tee"), row(page, "Mug")
    assert "9.50 to 12.00 EUR" in tee_row and '<td class="field-available">9</td>' in tee_row  # the active ones
    assert "7.00 EUR" in mug_row and '<td class="field-available">0</td>' in mug_row

    def queries() -> int:
        with CaptureQueriesContext(connection_of("catalog")) as captured:
            assert browser.get(f"{ADMIN}/product/").status_code == 200
        return len(captured.captured_queries)

    few = queries()
    for i in range(18):
        VariantFactory(sku=f"MORE-{i}", stock=i)
    assert Product.objects.count() == 20
    assert queries() == few


def test_the_variants_table_fits_the_product_page(browser, variant):
    """One row per variant, narrow inputs, stock as one column (the page overflowed with twelve)."""
    page = browser.get(f"{ADMIN}/product/{variant.product_id}/change/").content.decode()
    table = page.split('id="variants-group"', 1)[1].split("</table>", 1)[0]
    headings = re.findall(r'<th class="column-([a-z_]+)', table)
    assert headings == [
        "sku",
        "name",
        "attributes",
        "price_amount",
        "compare_at_amount",
        "currency",
        "weight_grams",
        "is_active",
        "position",
        "stock_figures",
    ]
    assert "width: 7em" in table and "width: 9em" in table
    assert "10 available" in table and f"{ADMIN}/stock/{variant.pk}/adjust/" in table
