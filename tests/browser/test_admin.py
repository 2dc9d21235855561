"""Staff in a browser: signing in through the admin's form (``login_to_admin``, the entry point for
every admin browser test), the admin's "View site" link, and a refund with its confirmation step."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from playwright.sync_api import expect

from shop.payments.models import Payment, Transaction
from shop.users.models import User
from tests.browser.conftest import login_to_admin
from tests.browser.test_customer_pages import placed_order
from tests.orders import conftest as orders_fixtures
from tests.payments.conftest import pay

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
stocked = orders_fixtures.stocked  # the orders tests' fixture, shared


def test_view_site_opens_the_landing_page(page: Any, console_errors: list[str]) -> None:
    User.objects.create_superuser("staff@example.com", "staff-pass-123456")
    login_to_admin(page, email="staff@example.com", password="staff-pass-123456")

    page.get_by_role("link", name="View site").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("shop")
    page.get_by_role("link", name="Admin").click()  # and back, still signed in
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    assert console_errors == []


def test_admin_refund_shows_the_plan_then_refunds_once_on_confirmation(
    page: Any, console_errors: list[str], stocked: Callable[..., list[str]], settings: Any
) -> None:
    """Staff open a paid order, press "Refund (full)", read what will happen (nothing has moved yet),
    confirm, and land back on the order, refunded once; the customer is emailed."""
    from shop.payments.adapters import calls

    settings.SHOP_PAYMENT_GATEWAY = "simulated"
    calls.reset_breakers()
    order, client, customer = placed_order(stocked)
    assert pay(client, order, "tok_success").status_code == 200
    order.refresh_from_db()
    assert order.status == "paid"
    User.objects.create_superuser("staff@example.com", "staff-pass-123456")
    login_to_admin(page, email="staff@example.com", password="staff-pass-123456")

    page.goto(f"/admin/orders/order/{order.pk}/change/")
    page.locator("#kit-buttons button[value=refund_full]").click()

    expect(page.locator("#kit-question")).to_contain_text("Nothing has happened yet")
    plan = page.locator("#kit-plan")
    expect(plan).to_contain_text(order.number)
    expect(plan).to_contain_text(f"Refund {order.total} of the {order.total} paid (all that is left)")
    order.refresh_from_db()
    assert order.status == "paid"  # the first click only showed the plan
    assert Transaction.objects.filter(payment__order_id=order.pk, kind="refund").count() == 0

    page.locator("#kit-submit").click()

    page.wait_for_url(f"**/admin/orders/order/{order.pk}/change/")
    expect(page.locator("ul.messagelist")).to_contain_text(order.number)
    order.refresh_from_db()
    payment = Payment.objects.get(order_id=order.pk)
    assert (order.status, payment.status, payment.refunded_amount) == ("refunded", "refunded", order.total_amount)
    assert Transaction.objects.filter(payment__order_id=order.pk, kind="refund").count() == 1
    assert [m.to for m in mail.outbox if m.subject == f"Refund for order {order.number}"] == [[customer.email]]
    assert console_errors == []
