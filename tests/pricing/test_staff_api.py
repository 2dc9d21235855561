"""Pricing's staff API (issue 16): promotions and vouchers for integrations, for staff only, with the
same rules as the admin (what a quote could not apply is a 400) and the voucher's usage report."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from shop.kernel import Money
from shop.pricing.api import VoucherUse
from shop.pricing.models import Promotion, Voucher
from shop.pricing.services.quoting import PricingService
from tests.factories import UserFactory
from tests.helpers import assert_problem

pytestmark = pytest.mark.django_db
STAFF = "/api/v1/pricing/staff"


@pytest.fixture
def staff() -> APIClient:
    client = APIClient()
    client.force_authenticate(UserFactory.create(is_staff=True))
    return client


def promotion_body(**changes: Any) -> dict[str, Any]:
    return {"name": "Summer", "label": "Summer -20 %", "kind": "catalogue", "benefit": "percentage", "value": "20",
            "everything": True, **changes}  # fmt: skip


def test_only_staff_may_use_it() -> None:
    customer = APIClient()
    customer.force_authenticate(UserFactory.create())
    for client, status in ((APIClient(), 401), (customer, 403)):
        assert client.get(f"{STAFF}/promotions/").status_code == status
        assert (
            client.post(f"{STAFF}/vouchers/generate/", {"promotion": 1, "count": 1}, format="json").status_code
            == status
        )
    assert not Voucher.objects.exists()


def test_staff_create_change_and_read_promotions(staff: APIClient) -> None:
    created = staff.post(f"{STAFF}/promotions/", promotion_body(), format="json")

    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["kind"], body["value"], body["is_active"]) == ("catalogue", "20.00", True)
    changed = staff.patch(f"{STAFF}/promotions/{body['id']}/", {"is_active": False, "priority": 5}, format="json")
    assert changed.status_code == 200 and (changed.json()["is_active"], changed.json()["priority"]) == (False, 5)
    assert staff.get(f"{STAFF}/promotions/{body['id']}/").json()["priority"] == 5
    assert [p["id"] for p in staff.get(f"{STAFF}/promotions/").json()["results"]] == [body["id"]]
    assert_problem(staff.get(f"{STAFF}/promotions/999999/"), 404, "not_found", resource="promotion")


@pytest.mark.parametrize(
    "changes",
    [
        {"everything": False},  # items, none covered
        {"value": "101"},
        {"benefit": "free_shipping"},
        {"kind": "order", "skus": "TEE"},
        {"benefit": "buy_x_get_y"},  # without X and Y
        {"value": "-1"},
        {"used": 3},  # not a field a client sets
    ],
)
def test_what_a_quote_could_not_apply_is_a_400_and_nothing_is_made(staff: APIClient, changes: dict[str, Any]) -> None:
    assert_problem(
        staff.post(f"{STAFF}/promotions/", promotion_body(**changes), format="json"), 400, "validation_error"
    )
    assert not Promotion.objects.exists()


def test_a_patch_that_breaks_the_promotion_is_refused_whole(staff: APIClient) -> None:
    promotion = staff.post(f"{STAFF}/promotions/", promotion_body(), format="json").json()

    assert_problem(
        staff.patch(f"{STAFF}/promotions/{promotion['id']}/", {"everything": False}, format="json"),
        400,
        "validation_error",
    )
    assert Promotion.objects.get().everything is True


def test_staff_make_vouchers_switch_them_off_and_read_their_uses(staff: APIClient) -> None:
    promotion = Promotion.objects.create(
        name="V", label="V", kind="order", benefit="fixed", value=Decimal("5"), requires_voucher=True
    )

    one = staff.post(
        f"{STAFF}/vouchers/", {"code": "vip-1", "promotion": promotion.pk, "usage_limit": 10}, format="json"
    )
    assert one.status_code == 201 and one.json()["code"] == "VIP-1", one.content
    assert_problem(
        staff.post(f"{STAFF}/vouchers/", {"code": "VIP-1", "promotion": promotion.pk}, format="json"),
        409,
        "voucher_code_taken",
    )
    made = staff.post(
        f"{STAFF}/vouchers/generate/", {"promotion": promotion.pk, "count": 500, "prefix": "AUTUMN"}, format="json"
    )
    assert made.status_code == 201 and made.json()["count"] == 500
    listed = staff.get(f"{STAFF}/vouchers/", {"batch": made.json()["batch"], "page_size": 100}).json()
    assert listed["count"] == 500 and all(v["code"].startswith("AUTUMN-") for v in listed["results"])

    PricingService().redeem_vouchers(
        customer_id=9,
        order_reference="SO-USES-0001",
        uses=[VoucherUse(code="VIP-1", discount=Money(Decimal("5"), "EUR"))],
    )
    uses = staff.get(f"{STAFF}/vouchers/vip-1/uses/").json()["results"]
    assert [(u["order_reference"], u["customer_id"], u["discount_amount"]) for u in uses] == [
        ("SO-USES-0001", 9, "5.00")
    ]
    off = staff.patch(f"{STAFF}/vouchers/VIP-1/", {"is_active": False}, format="json")
    assert off.status_code == 200 and off.json()["is_active"] is False and off.json()["used"] == 1
    assert_problem(staff.patch(f"{STAFF}/vouchers/NOPE/", {"is_active": False}, format="json"), 404, "voucher_unknown")
    assert_problem(staff.get(f"{STAFF}/vouchers/NOPE/uses/"), 404, "voucher_unknown")


def test_vouchers_only_for_promotions_that_take_them(staff: APIClient) -> None:
    automatic = Promotion.objects.create(name="A", label="A", everything=True, value=Decimal("5"))

    assert_problem(
        staff.post(f"{STAFF}/vouchers/", {"code": "X-1", "promotion": automatic.pk}, format="json"),
        400,
        "validation_error",
    )
    assert_problem(
        staff.post(f"{STAFF}/vouchers/generate/", {"promotion": automatic.pk, "count": 5}, format="json"),
        404,
        "not_found",
        resource="promotion",
    )
    assert not Voucher.objects.exists()
