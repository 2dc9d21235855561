"""What a customer opens in a browser, in Debian's Chromium against the app on a real port: the
bank's 3-D Secure page (approve, decline), the password-reset page from its email, the order-status
page from the confirmation email, and an HTML error page."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from playwright.sync_api import expect
from rest_framework.test import APIClient

from shop.orders.models import Order
from shop.payments.models import Payment
from tests.factories import UserFactory
from tests.orders import conftest as orders_fixtures
from tests.orders.conftest import client_of, fill_cart, place
from tests.payments.conftest import pay

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
stocked = orders_fixtures.stocked  # the orders tests' fixture, shared

LINK = re.compile(r"https?://[^\s\"<>]+")


def placed_order(stocked: Callable[..., list[str]]) -> tuple[Order, APIClient, Any]:
    (sku,) = stocked(1, price="12.50")
    customer = UserFactory.create(full_name="Ada Lovelace")
    fill_cart(customer, [sku], quantity=2)
    client = client_of(customer)
    response = place(client)
    assert response.status_code == 201, response.content
    return Order.objects.get(pk=response.json()["id"]), client, customer


def links_in(subject_part: str) -> list[str]:
    (message,) = [m for m in mail.outbox if subject_part in m.subject]
    return LINK.findall(message.body)


def three_d_secure_page(page: Any, stocked: Callable[..., list[str]], public_url: str) -> tuple[Order, str]:
    order, client, _ = placed_order(stocked)
    answer = pay(client, order, "tok_requires_action").json()
    url = answer["payment"]["next_action_url"]
    assert url.startswith(f"{public_url}/payments/authenticate/"), url
    page.goto(url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm this payment")
    expect(page.locator("[data-amount]")).to_have_text(f"{order.total_amount} EUR")
    expect(page.get_by_text("shop", exact=True).first).to_be_visible()  # the merchant
    return order, url


def test_3d_secure_page_approve_pays_the_order(
    page: Any, stocked: Callable[..., list[str]], public_url: str, console_errors: list[str]
) -> None:
    order, url = three_d_secure_page(page, stocked, public_url)

    page.get_by_role("button", name="Approve").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Payment approved")
    order.refresh_from_db()
    assert order.status == "paid"
    page.get_by_role("link", name="Back to your order").click()  # the order's own status page
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Order {order.number}")
    expect(page.locator(".status")).to_have_text("Paid")
    page.goto(url)  # the bank's page again: no second decision
    expect(page.get_by_role("heading", level=1)).to_have_text("Already decided")
    assert console_errors == []  # the stylesheet loaded under the CSP, no violations


def test_3d_secure_page_decline_leaves_the_order_payable(
    page: Any, stocked: Callable[..., list[str]], public_url: str, console_errors: list[str]
) -> None:
    order, _ = three_d_secure_page(page, stocked, public_url)

    page.get_by_role("button", name="Decline").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Payment declined")
    payment = Payment.objects.get(order_id=order.pk)
    assert (payment.status, payment.failure_code) == ("failed", "authentication_failed")
    order.refresh_from_db()
    assert order.status == "pending_payment"
    assert console_errors == []


def test_reset_page_from_the_email_sets_a_password_that_logs_in(
    page: Any, public_url: str, console_errors: list[str], mailoutbox: list[Any]
) -> None:
    user = UserFactory.create(email="ada@example.com")
    response = APIClient().post("/api/v1/auth/password-reset/", {"email": user.email}, format="json")
    assert response.status_code == 202
    (link,) = [url for url in links_in("Reset your") if "/reset-password/" in url]
    assert link.startswith(f"{public_url}/account/reset-password/?uid="), link

    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a new password")
    page.get_by_label("New password").fill("a-brand-new-pass-77")
    page.get_by_label("The same password again").fill("a-brand-new-pass-77")
    page.get_by_role("button", name="Set the new password").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Your password is changed")
    login = APIClient().post(
        "/api/v1/auth/token/", {"email": user.email, "password": "a-brand-new-pass-77"}, format="json"
    )
    assert login.status_code == 200, login.content
    old = APIClient().post("/api/v1/auth/token/", {"email": user.email, "password": UserFactory.PASSWORD})
    assert old.status_code == 401
    page.goto(link)  # the link works once
    expect(page.get_by_role("heading", level=1)).to_have_text("This link no longer works")
    assert [e for e in console_errors if "400" not in e] == []  # only the used link's own 400


def test_order_status_page_from_the_confirmation_email(
    page: Any, stocked: Callable[..., list[str]], public_url: str, console_errors: list[str], mailoutbox: list[Any]
) -> None:
    order, _, _ = placed_order(stocked)
    (link,) = [url for url in links_in(f"Your order {order.number}") if "/orders/status/" in url]
    assert link.startswith(f"{public_url}/orders/status/"), link

    page.goto(link)  # no login: the link is the key

    expect(page.get_by_role("heading", level=1)).to_have_text(f"Order {order.number}")
    expect(page.locator(".status")).to_have_text("Awaiting payment")
    row = page.get_by_role("row").filter(has_text="Wool Socks")
    expect(row).to_contain_text("2")
    expect(row).to_contain_text("25.00 EUR")
    expect(page.locator("tr.total")).to_contain_text(f"{order.total_amount} EUR")
    assert console_errors == []


def test_an_unknown_page_is_an_html_error_page(page: Any, public_url: str) -> None:
    response = page.goto("/no-such-page/")

    assert response is not None and response.status == 404
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    page.get_by_role("link", name="Back to the start page").click()
    expect(page.get_by_role("link", name="API documentation")).to_be_visible()  # the landing page
    api = page.goto("/api/v1/no-such-endpoint/")  # the API keeps problem+json, even for a browser
    assert api is not None and api.status == 404
    assert api.headers["content-type"] == "application/problem+json"
    assert api.json()["code"] == "not_found"
