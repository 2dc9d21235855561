"""Pricing's admin as staff use it: every page opens; a zone and a weight-banded method set up in the
admin are what the next quote offers; a rate changed there is what the next quote charges; and the
forms refuse configuration a quote could not use, changing nothing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from shop.pricing.api import Destination, Line, PricingAPI
from shop.pricing.models import Promotion, ShippingBand, ShippingMethod, ShippingZone, TaxClass, TaxRate
from shop.users.models import User
from tests.catalog.factories import VariantFactory
from tests.pricing.factories import method, zone

pytestmark = pytest.mark.django_db
ADMIN = "/admin/pricing"


@pytest.fixture
def browser() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("staff@example.com", "staff-pass-123456"))
    return client


def method_form(**changes: Any) -> dict[str, Any]:
    """The POST body of the method page (band rows included), as the browser sends it."""
    bands = changes.pop("bands", [])
    data: dict[str, Any] = {
        "zone": changes.pop("zone"),
        "code": "parcel",
        "name": "Parcel",
        "delivery_estimate": "2-3 days",
        "pricing": "weight",
        "flat_price": "0",
        "free_over": "",
        "is_active": "on",
        "position": "0",
        "bands-TOTAL_FORMS": len(bands),
        "bands-INITIAL_FORMS": 0,
        "bands-MIN_NUM_FORMS": 0,
        "bands-MAX_NUM_FORMS": 1000,
    }
    for i, (up_to, price) in enumerate(bands):
        data.update({f"bands-{i}-up_to": up_to, f"bands-{i}-price": price})
    data.update(changes)
    return data


def test_staff_can_open_every_pricing_page(browser: Client) -> None:
    de_rate = TaxRate.objects.get(country="DE", tax_class__code="standard")
    worldwide = ShippingMethod.objects.get(code="standard")
    banded = method(zone("Austria", ["AT"]), "parcel-at", pricing="weight", bands=[("1000", "5.90"), (None, "9.90")])
    pages = [
        f"{ADMIN}/taxclass/",
        f"{ADMIN}/taxclass/{TaxClass.objects.get(code='reduced').pk}/change/",
        f"{ADMIN}/taxrate/",
        f"{ADMIN}/taxrate/add/",
        f"{ADMIN}/taxrate/{de_rate.pk}/change/",
        f"{ADMIN}/shippingzone/",
        f"{ADMIN}/shippingzone/add/",
        f"{ADMIN}/shippingzone/{worldwide.zone_id}/change/",
        f"{ADMIN}/shippingmethod/",
        f"{ADMIN}/shippingmethod/add/",
        f"{ADMIN}/shippingmethod/{banded.pk}/change/",
    ]
    for page in pages:
        assert browser.get(page).status_code == 200, page

    rates = browser.get(f"{ADMIN}/taxrate/", {"country": "DE"}).content.decode()
    assert "DE Germany" in rates and "19 %" in rates and "FR France" not in rates
    methods = browser.get(f"{ADMIN}/shippingmethod/").content.decode()
    assert "≤ 1000 g: 5.90; above: 9.90" in methods and "every country" not in methods
    zones = browser.get(f"{ADMIN}/shippingzone/").content.decode()
    assert "every country (rest of the world)" in zones
    classes = browser.get(f"{ADMIN}/taxclass/").content.decode()
    assert "0 % everywhere (by rule)" in classes
    assert browser.get(f"{ADMIN}/taxclass/add/").status_code == 403  # the set is the catalog's


def test_a_zone_and_banded_method_set_up_in_the_admin_are_offered_by_the_next_quote(
    browser: Client, net: None, pricing: PricingAPI
) -> None:
    VariantFactory(sku="BOOTS", price_amount=Decimal("20.00"), weight_grams=1200)
    added = browser.post(
        f"{ADMIN}/shippingzone/add/", {"name": "Islands", "countries": ["DE"], "postal_code_prefixes": "27498, 25 938"}
    )
    assert added.status_code == 302, added.context["errors"] if added.context else added
    islands = ShippingZone.objects.get(name="Islands")
    assert islands.postal_code_prefixes == "27498, 25938"

    response = browser.post(
        f"{ADMIN}/shippingmethod/add/", method_form(zone=islands.pk, bands=[("1000", "6.00"), ("5000", "11.00")])
    )

    assert response.status_code == 302, response.context["errors"] if response.context else response
    offers = pricing.shipping_methods(
        lines=[Line(sku="BOOTS", quantity=2)], destination=Destination(country="DE", postal_code="27498")
    )
    assert [(o.method, o.price.amount, o.delivery_estimate) for o in offers] == [
        ("parcel", Decimal("11.00"), "2-3 days")
    ]


def test_a_rate_changed_in_the_admin_is_charged_by_the_next_quote(
    browser: Client, net: None, pricing: PricingAPI
) -> None:
    VariantFactory(sku="TEE", price_amount=Decimal("100.00"))
    row = TaxRate.objects.get(country="DE", tax_class__code="standard")
    body = {"country": "DE", "tax_class": row.tax_class_id, "rate": "16", "note": "temporary cut"}

    assert browser.post(f"{ADMIN}/taxrate/{row.pk}/change/", body).status_code == 302

    quote = pricing.quote(lines=[Line(sku="TEE", quantity=1)], destination=Destination(country="DE"))
    assert (quote.lines[0].tax_rate, str(quote.lines[0].tax.amount)) == (Decimal("16.00"), "16.00")


@pytest.mark.parametrize(
    ("page", "body"),
    [
        ("taxrate", {"country": "DE", "tax_class": "exempt", "rate": "5"}),  # exempt is 0 % by rule
        ("taxrate", {"country": "AT", "tax_class": "standard", "rate": "100"}),
        ("taxrate", {"country": "AT", "tax_class": "standard", "rate": "-1"}),
        ("taxrate", {"country": "DE", "tax_class": "standard", "rate": "18"}),  # Germany has one already
        ("shippingzone", {"name": "Prefixes only", "postal_code_prefixes": "BT"}),
        ("shippingzone", {"name": "Odd prefix", "countries": ["GB"], "postal_code_prefixes": "B-T"}),
        ("shippingmethod", {"bands": []}),  # weight pricing without bands
        ("shippingmethod", {"pricing": "flat", "bands": [("1000", "5.00")]}),
        ("shippingmethod", {"bands": [("1000.5", "5.00")]}),  # grams are whole
        ("shippingmethod", {"bands": [("1000", "5.00"), ("1000", "6.00")]}),
        ("shippingmethod", {"bands": [("1000", "-5.00")]}),
        ("shippingmethod", {"code": "standard", "bands": [("1000", "5.00")]}),  # the code is taken
    ],
)
def test_the_forms_refuse_what_a_quote_could_not_use(browser: Client, page: str, body: dict[str, Any]) -> None:
    counts = (TaxRate.objects.count(), ShippingZone.objects.count(), ShippingMethod.objects.count())
    if page == "taxrate":
        body = {**body, "tax_class": TaxClass.objects.get(code=body["tax_class"]).pk}
    if page == "shippingmethod":
        body = method_form(zone=ShippingZone.objects.get().pk, **body)

    response = browser.post(f"{ADMIN}/{page}/add/", body)

    assert response.status_code == 200, response  # the form again, with its errors
    assert response.context["errors"] or response.context["inline_admin_formsets"][0].formset.non_form_errors()
    assert (TaxRate.objects.count(), ShippingZone.objects.count(), ShippingMethod.objects.count()) == counts
    assert ShippingBand.objects.count() == 0


def promotion_form(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Summer",
        "label": "Summer sale",
        "kind": "catalogue",
        "benefit": "percentage",
        "value": "20",
        "skus": "",
        "category_ids": "[]",
        "min_subtotal": "",
        "priority": "0",
        "is_active": "on",
    }
    body.update(changes)
    return {name: value for name, value in body.items() if value is not None}


@pytest.mark.parametrize(
    "changes",
    [
        {},  # items, but none covered
        {"everything": "on", "value": "120"},  # more than 100 %
        {"everything": "on", "benefit": "free_shipping"},  # free shipping is an order promotion
        {"everything": "on", "min_subtotal": "50"},  # a threshold is an order promotion's
        {"kind": "order", "skus": "TEE"},  # an order promotion covers the order
        {"everything": "on", "category_ids": '["shoes"]'},
        {"everything": "on", "value": "-1"},
    ],
)
def test_the_promotion_form_refuses_what_a_quote_could_not_apply(browser: Client, changes: dict[str, Any]) -> None:
    response = browser.post(f"{ADMIN}/promotion/add/", promotion_form(**changes))

    assert response.status_code == 200 and response.context["errors"], response
    assert not Promotion.objects.exists()


def test_a_promotion_set_up_in_the_admin_is_applied_by_the_next_quote(browser: Client, pricing: PricingAPI) -> None:
    sku = str(VariantFactory(price_amount=Decimal("50.00")).sku)

    response = browser.post(f"{ADMIN}/promotion/add/", promotion_form(skus=f"{sku}, OTHER-1"))

    assert response.status_code == 302, response.context["errors"] if response.context else response
    listed = browser.get(f"{ADMIN}/promotion/").content.decode()
    assert "Summer sale" in listed and "open-ended" in listed
    assert browser.get(f"{ADMIN}/promotion/{Promotion.objects.get().pk}/change/").status_code == 200
    quote = pricing.quote(lines=[Line(sku=sku, quantity=1)], destination=Destination(country="DE"))
    assert [(d.label, d.amount.amount) for d in quote.lines[0].discounts] == [("Summer sale", Decimal("10.00"))]
