"""Vouchers on the pricing context (issue 16): codes that unlock a promotion in a quote, with a stable error
for each reason one cannot be used, and uses held for orders whose limits hold under real concurrency on
PostgreSQL (django-oscar #4580: concurrent checkouts all passed a check made apart from the count)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from shop.kernel import Money
from shop.pricing.api import (
    Destination,
    Line,
    PricingAPI,
    VoucherExhausted,
    VoucherExpired,
    VoucherMinSubtotal,
    VoucherNotApplicable,
    VoucherUnknown,
    VoucherUse,
)
from shop.pricing.models import Promotion, Voucher
from shop.pricing.services.quoting import PricingService
from tests.catalog.factories import VariantFactory
from tests.orders.test_checkout_concurrency import at_once

GERMANY = Destination(country="DE")


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


def voucher(code: str = "SUMMER-10", *, value: str = "10", **fields: Any) -> Voucher:
    promotion = Promotion.objects.create(
        name=f"promo {code}",
        label=f"Voucher {code}",
        kind="order",
        benefit="percentage",
        value=Decimal(value),
        requires_voucher=True,
    )
    return Voucher.objects.create(code=code, promotion=promotion, **fields)


def basket(price: str = "50.00", quantity: int = 2) -> list[Line]:
    return [Line(sku=str(VariantFactory.create(price_amount=Decimal(price)).sku), quantity=quantity)]


def use(code: str, amount: str = "10.00") -> VoucherUse:
    return VoucherUse(code=code, discount=eur(amount))


# --- in a quote ------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_code_unlocks_its_promotion_and_only_with_the_code(net: None, pricing: PricingAPI) -> None:
    voucher("SUMMER-10")
    lines = basket()

    without = pricing.quote(lines=lines, destination=GERMANY)
    quote = pricing.quote(lines=lines, destination=GERMANY, voucher_codes=[" summer-10 "])

    assert without.discount == eur("0") and without.vouchers == []
    assert quote.discount == eur("10.00")
    assert [(v.code, v.label, v.discount) for v in quote.vouchers] == [("SUMMER-10", "Voucher SUMMER-10", eur("10.00"))]
    assert [d.source for d in quote.lines[0].discounts] == ["voucher:SUMMER-10"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "code", "error"),
    [
        ({}, "NOPE-1", VoucherUnknown),
        ({}, "not a code!", VoucherUnknown),
        ({"is_active": False}, "SUMMER-10", VoucherUnknown),
        ({"ends_at": "past"}, "SUMMER-10", VoucherExpired),
        ({"starts_at": "future"}, "SUMMER-10", VoucherExpired),
        ({"usage_limit": 3, "used": 3}, "SUMMER-10", VoucherExhausted),
        ({"min_subtotal": Decimal("500")}, "SUMMER-10", VoucherMinSubtotal),
        ({"first_order_only": True}, "SUMMER-10", VoucherNotApplicable),
    ],
)
def test_each_reason_a_code_cannot_be_used_has_its_own_error(
    pricing: PricingAPI, fields: dict[str, Any], code: str, error: type[Exception]
) -> None:
    now = timezone.now()
    moments = {"past": now - timedelta(hours=1), "future": now + timedelta(hours=1)}
    voucher("SUMMER-10", **{k: moments.get(v, v) if isinstance(v, str) else v for k, v in fields.items()})

    with pytest.raises(error) as caught:
        pricing.quote(lines=basket(), destination=GERMANY, voucher_codes=[code], first_order=False)

    assert type(caught.value) is error
    assert caught.value.status == (404 if error is VoucherUnknown else 409)


@pytest.mark.django_db
def test_two_codes_of_one_promotion_apply_once(pricing: PricingAPI) -> None:
    first = voucher("TWIN-1")
    Voucher.objects.create(code="TWIN-2", promotion=first.promotion)

    with pytest.raises(VoucherNotApplicable):
        pricing.quote(lines=basket(), destination=GERMANY, voucher_codes=["TWIN-1", "TWIN-2"])


# --- holding and giving back uses -------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_use_is_held_once_per_order_given_back_once_and_a_zero_discount_holds_nothing(pricing: PricingAPI) -> None:
    code = voucher("ONCE-1", usage_limit=1)

    pricing.redeem_vouchers(customer_id=1, order_reference="SO-1", uses=[use("ONCE-1")])
    pricing.redeem_vouchers(customer_id=1, order_reference="SO-1", uses=[use("once-1")])  # a retry: the same use
    code.refresh_from_db()
    assert code.used == 1 and code.uses.count() == 1
    with pytest.raises(VoucherExhausted):
        pricing.redeem_vouchers(customer_id=2, order_reference="SO-2", uses=[use("ONCE-1")])

    pricing.release_vouchers(order_reference="SO-1")
    pricing.release_vouchers(order_reference="SO-1")
    code.refresh_from_db()
    assert code.used == 0
    pricing.redeem_vouchers(customer_id=3, order_reference="SO-3", uses=[use("ONCE-1", "0.00")])  # took nothing
    code.refresh_from_db()
    assert code.used == 0 and code.uses.filter(order_reference="SO-3").count() == 0
    pricing.redeem_vouchers(customer_id=2, order_reference="SO-2", uses=[use("ONCE-1")])  # given back: usable again
    code.refresh_from_db()
    assert code.used == 1


@pytest.mark.django_db
def test_a_failed_redemption_holds_none_of_its_codes(pricing: PricingAPI) -> None:
    fine, spent = voucher("FINE-1"), voucher("SPENT-1", usage_limit=1, used=1)

    with pytest.raises(VoucherExhausted):
        pricing.redeem_vouchers(customer_id=1, order_reference="SO-9", uses=[use("FINE-1"), use("SPENT-1")])

    fine.refresh_from_db()
    spent.refresh_from_db()
    assert (fine.used, spent.used, fine.uses.count()) == (0, 1, 0)


# --- under concurrency -------------------------------------------------------------------------------------
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_limit_of_5_holds_against_50_concurrent_checkouts() -> None:
    code = voucher("RUSH-5", usage_limit=5)
    service = PricingService()

    def redeem(i: int) -> str:
        try:
            service.redeem_vouchers(
                customer_id=1000 + i, order_reference=f"SO-{uuid.uuid4().hex[:8]}", uses=[use("RUSH-5")]
            )
        except VoucherExhausted:
            return "exhausted"
        return "held"

    outcomes = at_once(50, redeem)

    assert sorted(outcomes).count("held") == 5 and outcomes.count("exhausted") == 45, outcomes
    code.refresh_from_db()
    assert code.used == 5 and code.uses.count() == 5


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_per_customer_limit_of_1_holds_against_10_concurrent_checkouts_of_one_customer() -> None:
    code = voucher("ONE-EACH", per_customer_limit=1)
    service = PricingService()

    def redeem(i: int) -> str:
        try:
            service.redeem_vouchers(customer_id=7, order_reference=f"SO-{i}", uses=[use("ONE-EACH")])
        except VoucherExhausted as exc:
            return f"exhausted:{exc.extra['limit']}"
        return "held"

    outcomes = at_once(10, redeem)

    assert outcomes.count("held") == 1 and outcomes.count("exhausted:customer") == 9, outcomes
    code.refresh_from_db()
    assert code.used == 1
