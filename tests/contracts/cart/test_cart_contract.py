"""The ``CartAPI`` contract, run against the local service and over HTTP (fixture ``binding``).

What checkout sees must not depend on the binding: the same ``Cart`` DTO (Money included), the same
errors with the same codes, and ``clear`` guarded by the version checkout read.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from shop.cart.api import (
    Cart,
    CartAPI,
    CartChanged,
    CartFull,
    CartLine,
    CartLineNotFound,
    CartNotFound,
    CartWarning,
    InvalidOwner,
    Owner,
    QuantityOutOfRange,
)
from shop.cart.services import CartService
from shop.catalog.api import InactiveProduct, UnknownSku
from shop.catalog.models import Stock
from shop.catalog.models import Variant as VariantRow
from shop.kernel import Money
from tests.catalog.factories import ProductFactory, VariantFactory
from tests.contracts.kit import assert_implements

EUR = "EUR"


def _implementations_satisfy_the_protocol() -> None:
    """Never called: mypy checks this assignment, so a signature drifting from ``CartAPI`` fails CI."""
    impl: CartAPI = CartService()
    del impl


def test_implementations_have_the_protocols_signatures() -> None:
    assert_implements(CartAPI, CartService)


def eur(amount: str) -> Money:
    return Money(Decimal(amount), EUR)


@pytest.fixture
def shoe() -> VariantRow:
    product = ProductFactory.create(name="Trail Shoe", slug="trail-shoe")
    return VariantFactory.create(
        product=product, sku="SHOE-42", name="42", attributes={"size": "42"}, price_amount=Decimal("80.00"), stock=5
    )


@pytest.fixture
def sock() -> VariantRow:
    return VariantFactory.create(sku="SOCK-M", price_amount=Decimal("4.50"), stock=100)


CUSTOMER = Owner(user_id=7)


def test_a_customer_without_a_cart_gets_an_empty_one_at_version_0(cart_api: CartAPI) -> None:
    cart = cart_api.get_cart(owner=CUSTOMER)
    assert cart == Cart(version=0, lines=[], subtotal=eur("0"), item_count=0, warnings=[], user_id=7)


def test_add_returns_the_whole_cart_with_catalog_prices(cart_api: CartAPI, shoe: VariantRow, sock: VariantRow) -> None:
    cart_api.add_line(owner=CUSTOMER, sku="SHOE-42", quantity=1)
    cart = cart_api.add_line(owner=CUSTOMER, sku="SOCK-M", quantity=3)

    assert type(cart) is Cart and cart.version == 2
    assert cart.lines[0] == CartLine(
        sku="SHOE-42",
        product_id=shoe.product_id,
        product_name="Trail Shoe",
        product_slug="trail-shoe",
        variant_name="42",
        attributes={"size": "42"},
        quantity=1,
        unit_price=eur("80.00"),
        line_total=eur("80.00"),
        price_when_added=eur("80.00"),
        available=5,
        is_sold=True,
    )
    assert [(line.sku, line.quantity, line.line_total) for line in cart.lines] == [
        ("SHOE-42", 1, eur("80.00")),
        ("SOCK-M", 3, eur("13.50")),
    ]
    assert (cart.subtotal, cart.item_count, cart.warnings) == (eur("93.50"), 4, [])
    assert type(cart.subtotal) is Money and type(cart.subtotal.amount) is Decimal
    assert cart_api.get_cart(owner=CUSTOMER) == cart


def test_adding_the_same_sku_sums_the_line(cart_api: CartAPI, sock: VariantRow) -> None:
    cart_api.add_line(owner=CUSTOMER, sku="SOCK-M", quantity=2)
    cart = cart_api.add_line(owner=CUSTOMER, sku="SOCK-M", quantity=5)
    assert [(line.sku, line.quantity) for line in cart.lines] == [("SOCK-M", 7)]


def test_unknown_and_withdrawn_skus_are_refused_with_the_catalogs_errors(cart_api: CartAPI, shoe: VariantRow) -> None:
    with pytest.raises(UnknownSku) as unknown:
        cart_api.add_line(owner=CUSTOMER, sku="NOPE", quantity=1)
    assert type(unknown.value) is UnknownSku and (unknown.value.code, unknown.value.resource) == ("not_found", "sku")
    VariantRow.objects.filter(pk=shoe.pk).update(is_active=False)
    with pytest.raises(InactiveProduct) as inactive:
        cart_api.add_line(owner=CUSTOMER, sku="SHOE-42", quantity=1)
    assert inactive.value.extra["skus"] == ["SHOE-42"]
    assert cart_api.get_cart(owner=CUSTOMER).version == 0  # nothing was written


@pytest.mark.parametrize("quantity", [0, -1, 100])
def test_quantity_out_of_range_changes_nothing(cart_api: CartAPI, sock: VariantRow, quantity: int) -> None:
    cart_api.add_line(owner=CUSTOMER, sku="SOCK-M", quantity=1)
    with pytest.raises(QuantityOutOfRange) as refused:
        cart_api.add_line(owner=CUSTOMER, sku="SOCK-M", quantity=quantity)
    assert refused.value.extra["maximum"] == 99
    with pytest.raises(QuantityOutOfRange):
        cart_api.set_quantity(owner=CUSTOMER, sku="SOCK-M", quantity=quantity)
    cart = cart_api.get_cart(owner=CUSTOMER)
    assert (cart.version, cart.lines[0].quantity) == (1, 1)


def test_a_sum_past_the_line_maximum_is_refused(cart_api: CartAPI, sock: VariantRow) -> None:
    cart_api.add_line(owner=CUSTOMER, sku="SOCK-M", quantity=98)
    with pytest.raises(QuantityOutOfRange) as refused:
        cart_api.add_line(owner=CUSTOMER, sku="SOCK-M", quantity=2)
    assert refused.value.extra["in_cart"] == 98
    assert cart_api.add_line(owner=CUSTOMER, sku="SOCK-M", quantity=1).lines[0].quantity == 99


def test_a_full_cart_refuses_a_new_line_but_not_more_of_a_held_one(
    cart_api: CartAPI, sock: VariantRow, settings: Any
) -> None:
    settings.SHOP_CART_MAX_LINES = 2
    extra = VariantFactory.create(sku="CAP-1")
    cart_api.add_line(owner=CUSTOMER, sku="SOCK-M", quantity=1)
    cart_api.add_line(owner=CUSTOMER, sku="CAP-1", quantity=1)
    third = VariantFactory.create(sku="HAT-1")
    with pytest.raises(CartFull) as full:
        cart_api.add_line(owner=CUSTOMER, sku=third.sku, quantity=1)
    assert full.value.code == "cart_full" and full.value.extra["max_lines"] == 2
    assert cart_api.add_line(owner=CUSTOMER, sku=extra.sku, quantity=1).item_count == 3


def test_set_quantity_and_remove_line(cart_api: CartAPI, shoe: VariantRow, sock: VariantRow) -> None:
    cart_api.add_line(owner=CUSTOMER, sku="SHOE-42", quantity=1)
    cart_api.add_line(owner=CUSTOMER, sku="SOCK-M", quantity=1)
    cart = cart_api.set_quantity(owner=CUSTOMER, sku="SOCK-M", quantity=4)
    assert [(line.sku, line.quantity) for line in cart.lines] == [("SHOE-42", 1), ("SOCK-M", 4)]
    with pytest.raises(CartLineNotFound):
        cart_api.set_quantity(owner=CUSTOMER, sku="CAP-1", quantity=1)
    cart = cart_api.remove_line(owner=CUSTOMER, sku="SHOE-42")
    assert [line.sku for line in cart.lines] == ["SOCK-M"] and cart.subtotal == eur("18.00")
    again = cart_api.remove_line(owner=CUSTOMER, sku="SHOE-42")  # idempotent: a retry is harmless
    assert again.version == cart.version


def test_clear_is_guarded_by_the_version_checkout_read(cart_api: CartAPI, sock: VariantRow) -> None:
    read = cart_api.add_line(owner=CUSTOMER, sku="SOCK-M", quantity=1)
    cart_api.add_line(owner=CUSTOMER, sku="SOCK-M", quantity=1)  # another device, after checkout's read

    with pytest.raises(CartChanged) as changed:
        cart_api.clear(owner=CUSTOMER, version=read.version)
    assert changed.value.extra == {"expected": read.version, "actual": read.version + 1}
    assert cart_api.get_cart(owner=CUSTOMER).item_count == 2

    current = cart_api.get_cart(owner=CUSTOMER)
    cleared = cart_api.clear(owner=CUSTOMER, version=current.version)
    assert (cleared.lines, cleared.item_count, cleared.version) == ([], 0, current.version + 1)
    assert cart_api.clear(owner=CUSTOMER, version=current.version).lines == []  # a retried clear succeeds
    assert cart_api.clear(owner=Owner(user_id=999)).version == 0  # nothing to clear


def test_warnings_tell_the_truth_about_price_stock_and_withdrawn_items(
    cart_api: CartAPI, shoe: VariantRow, sock: VariantRow
) -> None:
    cart_api.add_line(owner=CUSTOMER, sku="SHOE-42", quantity=4)
    cart_api.add_line(owner=CUSTOMER, sku="SOCK-M", quantity=2)
    VariantRow.objects.filter(pk=shoe.pk).update(price_amount=Decimal("70.00"))
    Stock.objects.filter(pk=shoe.pk).update(on_hand=3)
    VariantRow.objects.filter(pk=sock.pk).update(is_active=False)

    cart = cart_api.get_cart(owner=CUSTOMER)

    assert cart.warnings == [
        CartWarning(
            code="price_changed",
            sku="SHOE-42",
            detail="The price of Trail Shoe changed from 80.00 EUR to 70.00 EUR since added.",
            previous_price=eur("80.00"),
        ),
        CartWarning(
            code="insufficient_stock",
            sku="SHOE-42",
            detail="Only 3 of Trail Shoe available; the cart holds 4.",
            available=3,
        ),
        CartWarning(
            code="not_sold", sku="SOCK-M", detail=f"{sock.product.name} is no longer sold; remove it to check out."
        ),
    ]
    assert [line.is_sold for line in cart.lines] == [True, False]
    assert cart.subtotal == eur("280.00")  # today's price, withdrawn line left out
    # Adding again means the customer saw the new price: the warning goes.
    assert [w.code for w in cart_api.add_line(owner=CUSTOMER, sku="SHOE-42", quantity=1).warnings] == [
        "insufficient_stock",
        "not_sold",
    ]


def test_a_guest_cart_is_opened_by_the_first_add_and_named_by_its_token(cart_api: CartAPI, sock: VariantRow) -> None:
    opened = cart_api.add_line(owner=Owner(), sku="SOCK-M", quantity=2)
    token = opened.guest_token
    assert token and len(token) >= 40 and opened.user_id is None

    guest = Owner(guest_token=token)
    assert cart_api.add_line(owner=guest, sku="SOCK-M", quantity=1).guest_token is None  # issued once
    assert cart_api.get_cart(owner=guest).item_count == 3
    with pytest.raises(CartNotFound) as missing:
        cart_api.get_cart(owner=Owner(guest_token=token[:-1] + ("A" if token[-1] != "A" else "B")))
    assert type(missing.value) is CartNotFound and (missing.value.code, missing.value.resource) == ("not_found", "cart")
    with pytest.raises(InvalidOwner):
        cart_api.get_cart(owner=Owner())
    with pytest.raises(InvalidOwner):
        cart_api.get_cart(owner=Owner(user_id=7, guest_token=token))


def test_merge_moves_guest_lines_into_the_customers_cart_and_kills_the_token(
    cart_api: CartAPI, shoe: VariantRow, sock: VariantRow
) -> None:
    cart_api.add_line(owner=CUSTOMER, sku="SOCK-M", quantity=98)
    token = cart_api.add_line(owner=Owner(), sku="SOCK-M", quantity=5).guest_token
    assert token is not None
    cart_api.add_line(owner=Owner(guest_token=token), sku="SHOE-42", quantity=1)

    merged = cart_api.merge(user_id=7, guest_token=token)

    assert [(line.sku, line.quantity) for line in merged.lines] == [("SOCK-M", 99), ("SHOE-42", 1)]  # capped
    assert merged.user_id == 7 and merged.guest_token is None
    with pytest.raises(CartNotFound):
        cart_api.get_cart(owner=Owner(guest_token=token))
    with pytest.raises(CartNotFound):
        cart_api.merge(user_id=7, guest_token=token)
    assert cart_api.get_cart(owner=CUSTOMER) == merged


def test_merge_reports_lines_that_do_not_fit(cart_api: CartAPI, sock: VariantRow, settings: Any) -> None:
    settings.SHOP_CART_MAX_LINES = 1
    cart_api.add_line(owner=CUSTOMER, sku="SOCK-M", quantity=1)
    token = cart_api.add_line(owner=Owner(), sku=VariantFactory.create(sku="CAP-9").sku, quantity=1).guest_token
    assert token is not None
    merged = cart_api.merge(user_id=7, guest_token=token)
    assert [line.sku for line in merged.lines] == ["SOCK-M"]
    assert [(w.code, w.sku) for w in merged.warnings] == [("not_merged", "CAP-9")]
