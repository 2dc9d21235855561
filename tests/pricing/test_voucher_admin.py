"""Vouchers in the admin as staff use them: generate 10,000 unique codes at once, export them as CSV,
deactivate some, and read a code's usage report (the orders holding its uses)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.test import Client

from shop.kernel import Money
from shop.pricing.api import VoucherUse
from shop.pricing.models import Promotion, Voucher
from shop.pricing.services.quoting import PricingService
from shop.users.models import User

pytestmark = pytest.mark.django_db
ADMIN = "/admin/pricing/voucher"


@pytest.fixture
def browser() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("staff@example.com", "staff-pass-123456"))
    return client


@pytest.fixture
def promotion() -> Promotion:
    return Promotion.objects.create(
        name="Spring", label="Spring -5", kind="order", benefit="fixed", value=Decimal("5"), requires_voucher=True
    )


def test_staff_generate_10000_unique_codes_and_export_them(browser: Client, promotion: Promotion) -> None:
    page = browser.get(f"{ADMIN}/generate/")
    assert page.status_code == 200 and "Spring" in page.content.decode()

    made = browser.post(
        f"{ADMIN}/generate/", {"promotion": promotion.pk, "count": "10000", "code_prefix": "spring", "usage_limit": "1"}
    )

    assert made.status_code == 302 and "?batch=SPRING-" in made["Location"]
    codes = list(Voucher.objects.values_list("code", flat=True))
    assert len(codes) == len(set(codes)) == 10_000
    assert all(code.startswith("SPRING-") and len(code) == 15 for code in codes)
    assert set(Voucher.objects.values_list("usage_limit", flat=True)) == {1}
    listed = browser.get(made["Location"]).content.decode()
    assert "Generate codes" in listed and "10000 codes made in batch SPRING-" in listed

    chosen = list(Voucher.objects.order_by("code").values_list("pk", flat=True)[:3])
    exported = browser.post(f"{ADMIN}/", {"action": "export_csv", "_selected_action": chosen})
    rows = list(csv.reader(io.StringIO(exported.content.decode())))
    assert exported["Content-Type"].startswith("text/csv") and rows[0][0] == "code" and len(rows) == 4
    assert rows[1][1:4] == ["Spring", "0", "1"]


def test_generation_refuses_what_it_cannot_make(browser: Client, promotion: Promotion) -> None:
    automatic = Promotion.objects.create(name="Auto", label="Auto", everything=True, value=Decimal("5"))
    for body in (
        {"promotion": promotion.pk, "count": "0"},
        {"promotion": promotion.pk, "count": "200000"},
        {"promotion": promotion.pk, "count": "5", "code_prefix": "no spaces!"},
        {"promotion": automatic.pk, "count": "5"},  # not a voucher promotion
    ):
        response = browser.post(f"{ADMIN}/generate/", body)
        assert response.status_code == 200, body  # the form again, with its error
    assert not Voucher.objects.exists()


def test_a_codes_page_reports_its_uses_and_deactivating_keeps_placed_orders(
    browser: Client, promotion: Promotion
) -> None:
    code = Voucher.objects.create(code="REPORT-1", promotion=promotion)
    PricingService().redeem_vouchers(
        customer_id=42,
        order_reference="SO-AAAA-BBBB",
        uses=[VoucherUse(code="REPORT-1", discount=Money(Decimal("5.00"), "EUR"))],
    )

    page = browser.get(f"{ADMIN}/{code.pk}/change/").content.decode()
    assert "SO-AAAA-BBBB" in page and "5.00" in page

    browser.post(f"{ADMIN}/", {"action": "deactivate", "_selected_action": [code.pk]})
    code.refresh_from_db()
    assert (code.is_active, code.used) == (False, 1)
