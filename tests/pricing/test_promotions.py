"""Automatic promotions in the quote (issue 16, first step): covered items, time windows, tax on the
discounted amount in both price entry modes, free shipping above a threshold, and an order that keeps
each line's discount."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from shop.kernel import Money
from shop.orders.services import status_page
from shop.pricing.api import Destination, Line, PricingAPI
from shop.pricing.models import Promotion
from tests.catalog.factories import CategoryFactory, ProductFactory, VariantFactory
from tests.factories import UserFactory
from tests.orders.conftest import ADDRESS, client_of, fill_cart

pytestmark = pytest.mark.django_db
GERMANY = Destination(country="DE", postal_code="10117")


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


def promotion(**fields: Any) -> Promotion:
    defaults: dict[str, Any] = {"name": "promo", "label": "Sale", "kind": "catalogue", "benefit": "percentage"}
    return Promotion.objects.create(**{**defaults, **fields})


def sku_in(category: Any = None, price: str = "50.00", **kwargs: Any) -> str:
    product = ProductFactory.create(**({"category": category} if category else {}))
    return str(VariantFactory.create(product=product, price_amount=Decimal(price), stock=20, **kwargs).sku)


def test_a_category_promotion_covers_its_descendants_and_tax_is_on_what_is_left(net: None, pricing: PricingAPI) -> None:
    outdoor = CategoryFactory.create(name="Outdoor")
    boots = sku_in(CategoryFactory.create(parent=outdoor, name="Boots"))
    other = sku_in()
    sale = promotion(category_ids=[outdoor.pk], value=Decimal("20"), label="Outdoor -20 %")

    quote = pricing.quote(lines=[Line(sku=boots, quantity=1), Line(sku=other, quantity=1)], destination=GERMANY)

    covered, plain = quote.lines
    assert [(d.source, d.label, d.amount) for d in covered.discounts] == [
        (f"promotion:{sale.pk}", "Outdoor -20 %", eur("10.00"))
    ]
    assert (covered.net, covered.tax, covered.total) == (eur("40.00"), eur("7.60"), eur("47.60"))
    assert plain.discounts == [] and plain.total == eur("59.50")
    shipping = quote.shipping.total if quote.shipping else eur("0")
    assert quote.discount == eur("10.00")
    assert quote.total == sum((line.total for line in quote.lines), eur("0")) + shipping


def test_only_running_promotions_apply(net: None, pricing: PricingAPI) -> None:
    sku = sku_in()
    now = timezone.now()
    promotion(everything=True, value=Decimal("10"), ends_at=now - timedelta(minutes=1))
    promotion(everything=True, value=Decimal("10"), starts_at=now + timedelta(minutes=1))
    promotion(everything=True, value=Decimal("10"), is_active=False)

    assert pricing.quote(lines=[Line(sku=sku, quantity=1)], destination=GERMANY).discount == eur("0")


def test_a_fixed_discount_on_gross_prices_comes_off_the_shelf_price(gross: None, pricing: PricingAPI) -> None:
    """Medusa #12226: 19.00 off a 119.00 (incl. 19 %) item is 100.00 to pay, of which 15.97 tax."""
    sku = sku_in(price="119.00")
    promotion(skus=sku, benefit="fixed", value=Decimal("19.00"))

    [line] = pricing.quote(lines=[Line(sku=sku, quantity=1)], destination=GERMANY).lines

    assert (line.subtotal, line.discount, line.total, line.tax, line.net) == (
        eur("119.00"),
        eur("19.00"),
        eur("100.00"),
        eur("15.97"),
        eur("84.03"),
    )


def test_free_shipping_above_a_threshold(net: None, pricing: PricingAPI) -> None:
    sku = sku_in(price="22.00")  # 2 x 22.00 = 44.00: free from the promotion's 40, not the method's own 50
    promotion(kind="order", benefit="free_shipping", min_subtotal=Decimal("40.00"), label="Free shipping from 40")

    below = pricing.quote(lines=[Line(sku=sku, quantity=1)], destination=GERMANY)
    above = pricing.quote(lines=[Line(sku=sku, quantity=2)], destination=GERMANY)

    assert below.shipping is not None and below.shipping.total == eur("5.83")  # 4.90 + 19 %
    assert above.shipping is not None and (above.shipping.discount, above.shipping.total) == (eur("4.90"), eur("0"))
    assert [d.label for d in above.shipping.discounts] == ["Free shipping from 40"]


@pytest.mark.django_db(transaction=True)  # the confirmation email goes out after the order commits
def test_the_order_keeps_each_lines_discount_and_costs_what_the_cart_quoted() -> None:
    first, second = sku_in(price="60.00"), sku_in(price="40.00")
    promotion(kind="order", benefit="fixed", value=Decimal("10.00"), min_subtotal=Decimal("50"), label="10 off 50")
    user = UserFactory.create(email="ada@example.com")
    fill_cart(user, [first, second])
    client = client_of(user)
    quote = client.get("/api/v1/cart/", {"country": "GB"}).json()["quote"]

    response = client.post(
        "/api/v1/orders/",
        {"shipping_address": ADDRESS, "expected_total": quote["total"]["amount"]},
        format="json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )

    assert response.status_code == 201, response.content
    order = response.json()
    assert [line["discount"]["amount"] for line in order["lines"]] == ["6.00", "4.00"]  # pro rata 60:40
    assert (order["discount"]["amount"], order["total"]["amount"]) == ("10.00", quote["total"]["amount"])
    assert [line["total"]["amount"] for line in order["lines"]] == [line["total"]["amount"] for line in quote["lines"]]
    assert [[d["label"] for d in line["discounts"]] for line in order["lines"]] == [["10 off 50"], ["10 off 50"]]
    # The confirmation email and the order's status page show the discount.
    [email] = [m for m in mail.outbox if m.to == ["ada@example.com"]]
    assert "Discount: -€10.00" in email.body and "10 off 50: -€6.00" in email.body
    page = Client(HTTP_ACCEPT="text/html").get(
        status_page.status_page_url(order_id=order["id"]).removeprefix("http://127.0.0.1:8000")
    )
    assert "Discount" in page.content.decode() and "10 off 50: -6.00 EUR" in page.content.decode()
    # ... and so does the order's admin page, line by line.
    staff = Client()
    staff.force_login(UserFactory.create(is_staff=True, is_superuser=True))
    admin_page = staff.get(f"/admin/orders/order/{order['id']}/change/").content.decode()
    assert "10 off 50: -6.00 EUR" in admin_page and "10 off 50: -4.00 EUR" in admin_page
