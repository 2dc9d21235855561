"""The simulated bank's 3-D Secure page, as a customer's browser meets it (``next_action_url``): the
amount and merchant, Approve / Decline in a CSRF-protected form, the answer, the way back to the
order, and "already decided" the second time; its JSON form answers the same. The real browser
drives it in tests/browser/."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from shop.orders.models import Order
from shop.orders.services import status_page
from shop.payments.models import Payment
from tests.helpers import assert_problem
from tests.payments.conftest import pay

pytestmark = pytest.mark.django_db(transaction=True)  # events are relayed on commit, as in production

HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"  # what a browser sends
JSON_FORM = "/api/v1/payments/simulated/authenticate/"
OrderFor = Callable[..., tuple[Order, APIClient]]


def waiting_payment(order_for: OrderFor) -> tuple[Order, str]:
    """An order whose payment waits for the customer's 3-D Secure answer, and the page's path."""
    order, client = order_for()
    url = pay(client, order, "tok_requires_action").json()["payment"]["next_action_url"]
    path = url.removeprefix("http://127.0.0.1:8000")
    assert path != url and path.startswith("/payments/authenticate/"), url
    return order, path


def browser() -> Client:
    return Client(enforce_csrf_checks=True, HTTP_ACCEPT=HTML)


def csrf_token(page: Any) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    assert match, page.content.decode()
    return match.group(1)


def decide(client: Client, path: str, decision: str) -> Any:
    page = client.get(path)
    return client.post(path, {"csrfmiddlewaretoken": csrf_token(page), "decision": decision})


def test_the_page_shows_amount_and_merchant_and_asks(order_for: OrderFor, settings: Any) -> None:
    settings.SHOP_NAME = "Wool & Co"
    order, path = waiting_payment(order_for)

    page = browser().get(path)

    assert page.status_code == 200
    assert page["Content-Type"] == "text/html; charset=utf-8"
    html = page.content.decode()
    assert f"{order.total_amount} EUR" in html
    assert "Wool &amp; Co" in html
    assert 'value="approve"' in html and 'value="decline"' in html
    assert "script" not in html  # no JavaScript at all
    assert "form-action 'self'" in page["Content-Security-Policy"]
    assert page["Referrer-Policy"] == "same-origin"  # the page's URL never reaches another site


def test_approving_pays_the_order_and_links_back_to_its_status_page(order_for: OrderFor) -> None:
    order, path = waiting_payment(order_for)

    answer = decide(browser(), path, "approve")

    assert answer.status_code == 200
    html = answer.content.decode()
    assert "Payment approved" in html
    back = re.search(r'href="http://127\.0\.0\.1:8000/orders/status/([^/"]+)/">Back to your order', html)
    assert back, html
    assert status_page.order_id_from(back.group(1)) == order.pk
    order.refresh_from_db()
    assert order.status == "paid"


def test_declining_fails_the_payment_and_leaves_the_order_payable(order_for: OrderFor) -> None:
    order, path = waiting_payment(order_for)

    answer = decide(browser(), path, "decline")

    assert answer.status_code == 200
    assert "Payment declined" in answer.content.decode()
    payment = Payment.objects.get()
    assert (payment.status, payment.failure_code) == ("failed", "authentication_failed")
    order.refresh_from_db()
    assert order.status == "pending_payment"


def test_deciding_twice_answers_already_decided_and_changes_nothing(order_for: OrderFor) -> None:
    _, path = waiting_payment(order_for)
    first, second = browser(), browser()  # two tabs, both opened before either decided
    first_token, second_token = csrf_token(first.get(path)), csrf_token(second.get(path))
    assert first.post(path, {"csrfmiddlewaretoken": first_token, "decision": "approve"}).status_code == 200

    again = second.post(path, {"csrfmiddlewaretoken": second_token, "decision": "decline"})

    assert again.status_code == 409
    assert "Already decided" in again.content.decode() and "it was approved" in again.content.decode()
    assert Payment.objects.get().status == "succeeded"
    reopened = browser().get(path)  # the link opened again later says so too, without a form
    assert reopened.status_code == 200
    assert "Already decided" in reopened.content.decode() and 'value="approve"' not in reopened.content.decode()


def test_a_post_without_the_csrf_token_is_refused(order_for: OrderFor) -> None:
    _, path = waiting_payment(order_for)

    forged = browser().post(path, {"decision": "approve"})  # what another site's auto-submitting form sends

    assert forged.status_code == 403
    assert forged["Content-Type"] == "text/html; charset=utf-8"
    assert "sent without its security token" in forged.content.decode()
    assert Payment.objects.get().status == "requires_action"


def test_an_unknown_payment_is_an_html_404(db: None) -> None:
    page = browser().get("/payments/authenticate/sim_pay_nope/")
    assert page.status_code == 404
    assert page["Content-Type"] == "text/html; charset=utf-8"
    assert "no payment waiting" in page.content.decode()


def test_the_json_form_answers_already_decided_with_409(order_for: OrderFor) -> None:
    waiting_payment(order_for)
    reference = Payment.objects.get().gateway_reference
    assert APIClient().post(f"{JSON_FORM}{reference}/", {"approve": True}, format="json").status_code == 200

    again = APIClient().post(f"{JSON_FORM}{reference}/", {"approve": False}, format="json")

    assert_problem(again, 409, "authentication_already_decided")
    assert_problem(
        APIClient().post(f"{JSON_FORM}sim_pay_nope/", {"approve": True}, format="json"),
        404,
        "not_found",
        resource="payment",
    )
    assert Payment.objects.get().status == "succeeded"


def test_without_the_simulated_gateway_there_is_no_page(order_for: OrderFor, settings: Any) -> None:
    _, path = waiting_payment(order_for)
    settings.SHOP_PAYMENT_GATEWAY = "stripe"
    assert browser().get(path).status_code == 404
