"""The payments admin as staff use it: read-only payments with their ledger and keys, found by payment
id, order id or gateway reference; refunds (full, or part on an intermediate form) only through the
refund service, the order following by itself; refusals are warnings, not crashes; webhook events
read-only with their raw body."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import constants as levels
from django.contrib.messages import get_messages
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from shop.orders.models import Order
from shop.payments.adapters.gateways.base import TransientGatewayError
from shop.payments.adapters.gateways.simulated import SimulatedGateway
from shop.payments.models import Payment, PaymentKey, Transaction, WebhookEvent
from shop.registry.router import alias_for_context
from shop.users.models import User
from tests.factories import UserFactory
from tests.helpers import submit_kit_form
from tests.payments.conftest import pay

pytestmark = pytest.mark.django_db(transaction=True)  # the order follows a refund on commit, as in production

OrderFor = Callable[..., tuple[Order, APIClient]]
PAYMENTS = "/admin/payments/payment/"
EVENTS = "/admin/payments/webhookevent/"
WEBHOOK = "/api/v1/payments/webhooks/simulated/"


@pytest.fixture
def staff() -> User:
    return User.objects.create_superuser("staff@example.com", "staff-pass-123456")


@pytest.fixture
def browser(staff: User) -> Client:
    client = Client()
    client.force_login(staff)
    return client


def paid(order_for: OrderFor, token: str = "tok_success", user: User | None = None) -> tuple[Order, Payment]:
    order, client = order_for(user)
    pay(client, order, token)
    return order, Payment.objects.get(order_id=order.pk)


def act(browser: Client, action: str, payments: Iterable[Payment], **data: Any) -> Any:
    return browser.post(PAYMENTS, {"action": action, "_selected_action": [p.pk for p in payments], **data})


def notes(response: Any) -> list[tuple[int, str]]:
    return [(m.level, m.message) for m in get_messages(response.wsgi_request)]


def warned(response: Any, text: str) -> bool:
    return any(level == levels.WARNING and text in message for level, message in notes(response))


def test_the_list_shows_order_customer_and_amount_and_search_finds_them_by_every_one(
    browser: Client, order_for: OrderFor
) -> None:
    order, payment = paid(order_for, user=UserFactory.create(email="ada@lovelace.example"))
    other_order, other = paid(order_for, "tok_decline")

    page = browser.get(PAYMENTS).content.decode()
    assert f"{PAYMENTS}{payment.pk}/change/" in page and f"{PAYMENTS}{other.pk}/change/" in page
    assert payment.order_number == order.number and order.number in page and other_order.number in page
    assert f"ada@lovelace.example (#{order.customer_id})" in page
    assert str(payment.amount) in page and "succeeded" in page and "failed" in page and "simulated" in page
    results = page.split('id="result_list"', 1)[1].split("</thead>", 1)[0]
    # Few, narrow columns (nine were cut off beside the filters): no bare ids, the order and the customer.
    assert re.findall(r'class="[^"]*column-([a-z_]+)', results) == ["order", "customer", "amounts", "status", "updated"]

    for term in (
        str(payment.pk),
        f"#{payment.pk}",
        str(order.pk),
        payment.gateway_reference,
        order.number.lower(),
        "LOVELACE",
    ):
        found = browser.get(PAYMENTS, {"q": term}).content.decode()
        assert f"{PAYMENTS}{payment.pk}/change/" in found, term
        assert f"{PAYMENTS}{other.pk}/change/" not in found, term
    assert "0 payments" in browser.get(PAYMENTS, {"q": "sim_nobody"}).content.decode()
    assert "0 payments" in browser.get(PAYMENTS, {"q": "9" * 30}).content.decode()  # no overflow, no match

    failed = browser.get(PAYMENTS, {"status__exact": "failed"}).content.decode()
    assert f"{PAYMENTS}{other.pk}/change/" in failed and f"{PAYMENTS}{payment.pk}/change/" not in failed


def test_the_detail_page_is_read_only_with_the_ledger_and_the_keys(browser: Client, order_for: OrderFor) -> None:
    _, payment = paid(order_for)
    charge = Transaction.objects.get(payment=payment, kind="charge")
    key = PaymentKey.objects.get(payment=payment)

    response = browser.get(f"{PAYMENTS}{payment.pk}/change/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Ledger (gateway calls)" in body and "Idempotency keys" in body
    assert charge.gateway_reference in body and key.key in body and str(payment.amount) in body
    assert 'name="_save"' not in body and 'name="_continue"' not in body  # nothing to save
    assert 'name="transactions-0-outcome"' not in body and 'name="keys-0-key"' not in body  # shown, not fields

    assert browser.post(f"{PAYMENTS}{payment.pk}/change/", {"status": "refunded"}).status_code == 403
    assert browser.post(f"{PAYMENTS}{payment.pk}/delete/", {"post": "yes"}).status_code == 403
    assert browser.get(f"{PAYMENTS}add/").status_code == 403
    payment.refresh_from_db()
    assert payment.status == "succeeded"


def test_a_full_refund_refunds_the_payment_and_the_order_follows(
    browser: Client, order_for: OrderFor, staff: User
) -> None:
    order, payment = paid(order_for)

    confirmation = act(browser, "refund_full", [payment])

    assert confirmation.status_code == 200  # what will happen, and nothing has yet
    page = confirmation.content.decode()
    assert "Nothing has happened yet" in page and order.number in page
    assert f"Refund {payment.amount} to the customer; nothing left of the payment." in page
    payment.refresh_from_db()
    assert payment.status == "succeeded" and not Transaction.objects.filter(payment=payment, kind="refund").exists()

    response = submit_kit_form(browser, PAYMENTS, confirmation)

    assert response.status_code == 302
    payment.refresh_from_db()
    order.refresh_from_db()
    assert (payment.status, payment.refunded_amount) == ("refunded", payment.amount_amount)
    assert order.status == "refunded"
    refund = Transaction.objects.get(payment=payment, kind="refund")
    assert refund.outcome == "succeeded" and refund.idempotency_key.startswith(f"admin-{payment.pk}-")
    assert any(level == levels.SUCCESS and f"#{payment.pk}" in text for level, text in notes(response))

    again = submit_kit_form(browser, PAYMENTS, confirmation)  # the same confirmation twice: shown, not done
    assert again.status_code == 200 and "it is refunded: only a succeeded payment is refunded" in again.content.decode()
    forced = submit_kit_form(browser, PAYMENTS, again)  # nothing left: a warning, not a crash
    assert forced.status_code == 302 and warned(forced, f"Payment #{payment.pk} was not refunded")
    assert Transaction.objects.filter(payment=payment, kind="refund").count() == 1


def test_a_partial_refund_asks_for_the_amount_and_the_order_stays_paid_with_a_note(
    browser: Client, order_for: OrderFor
) -> None:
    order, payment = paid(order_for)

    form = act(browser, "refund_part", [payment])
    assert form.status_code == 200
    page = form.content.decode()
    assert f'name="amount_{payment.pk}"' in page and str(payment.amount) in page
    payment.refresh_from_db()
    assert payment.status == "succeeded"  # the form alone changes nothing

    missing = submit_kit_form(browser, PAYMENTS, form, reason="scratched")
    assert missing.status_code == 200 and "This field is required" in missing.content.decode()
    too_precise = submit_kit_form(browser, PAYMENTS, form, reason="x", **{f"amount_{payment.pk}": "1.005"})
    assert too_precise.status_code == 200 and "Nothing has happened yet" not in too_precise.content.decode()
    too_large = submit_kit_form(browser, PAYMENTS, form, reason="x", **{f"amount_{payment.pk}": "999.00"})
    assert too_large.status_code == 200 and "999.00 EUR is more than the" in too_large.content.decode()
    assert 'id="kit-submit"' not in too_large.content.decode()
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_amount) == ("succeeded", Decimal("0.00"))

    review = submit_kit_form(browser, PAYMENTS, form, reason="scratched", **{f"amount_{payment.pk}": "5.00"})
    assert f"Refund 5.00 EUR to the customer; {payment.amount - payment.money('5.00')} left" in review.content.decode()
    payment.refresh_from_db()
    assert payment.refunded_amount == Decimal("0.00")
    done = submit_kit_form(browser, PAYMENTS, review)

    assert done.status_code == 302
    payment.refresh_from_db()
    order.refresh_from_db()
    assert (payment.status, payment.refunded_amount) == ("partially_refunded", Decimal("5.00"))
    assert order.status == "paid"
    last = order.history.order_by("at", "id").last()
    assert last is not None and "partially refunded 5.00 EUR" in last.note
    assert any(level == levels.SUCCESS and f"#{payment.pk}" in text for level, text in notes(done))


def test_refusing_to_refund_a_failed_or_unfinished_payment_is_a_warning_and_the_others_go_on(
    browser: Client, order_for: OrderFor
) -> None:
    failed_order, failed = paid(order_for, "tok_decline")
    pending_order, pending = paid(order_for, "tok_delayed_success")
    good_order, good = paid(order_for)

    confirmation = act(browser, "refund_full", [failed, pending, good])
    assert confirmation.content.decode().count("Left as it is") == 2
    response = submit_kit_form(browser, PAYMENTS, confirmation)

    assert response.status_code == 302
    assert warned(response, f"Payment #{failed.pk} was not refunded") and warned(response, "succeeded payment")
    assert warned(response, f"Payment #{pending.pk} was not refunded")
    for payment, order, status in ((failed, failed_order, "failed"), (pending, pending_order, "pending")):
        payment.refresh_from_db()
        order.refresh_from_db()
        assert (payment.status, payment.refunded_amount, order.status) == (status, Decimal("0.00"), "pending_payment")
        assert not Transaction.objects.filter(payment=payment, kind="refund").exists()
        assert not PaymentKey.objects.filter(payment=payment, purpose="refund").exists()
    good.refresh_from_db()
    good_order.refresh_from_db()
    assert (good.status, good_order.status) == ("refunded", "refunded")


def test_a_gateway_that_does_not_answer_is_a_warning_and_nothing_is_refunded(
    browser: Client, order_for: OrderFor, monkeypatch: pytest.MonkeyPatch
) -> None:
    order, payment = paid(order_for)

    def down(self: SimulatedGateway, **kwargs: Any) -> Any:
        raise TransientGatewayError("connection reset")

    monkeypatch.setattr(SimulatedGateway, "refund", down)
    response = submit_kit_form(browser, PAYMENTS, act(browser, "refund_full", [payment]))

    assert response.status_code == 302 and warned(response, f"Payment #{payment.pk} was not refunded")
    payment.refresh_from_db()
    order.refresh_from_db()
    assert (payment.status, order.status) == ("succeeded", "paid")
    assert not PaymentKey.objects.filter(payment=payment, purpose="refund").exists()


def test_staff_who_may_only_view_payments_see_the_ledger_but_cannot_refund(order_for: OrderFor) -> None:
    _, payment = paid(order_for)
    viewer = UserFactory.create(email="viewer@example.com", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(content_type__app_label="payments", codename="view_payment"))
    client = Client()
    client.force_login(viewer)

    assert client.get(PAYMENTS).status_code == 200
    detail = client.get(f"{PAYMENTS}{payment.pk}/change/")
    assert detail.status_code == 200 and "Ledger (gateway calls)" in detail.content.decode()
    act(client, "refund_full", [payment])

    payment.refresh_from_db()
    assert payment.status == "succeeded"
    assert not Transaction.objects.filter(payment=payment, kind="refund").exists()


def test_webhook_events_are_listed_read_only_with_their_raw_body(browser: Client, order_for: OrderFor) -> None:
    _, payment = paid(order_for, "tok_delayed_success")
    raw, headers = SimulatedGateway().settle(reference=payment.gateway_reference, succeed=True)
    meta: dict[str, Any] = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    assert APIClient().post(WEBHOOK, data=raw, content_type="application/json", **meta).status_code == 200
    event = WebhookEvent.objects.get()

    page = browser.get(EVENTS).content.decode()
    assert event.event_id in page and event.kind in page and payment.gateway_reference in page
    assert event.event_id in browser.get(EVENTS, {"q": payment.gateway_reference}).content.decode()
    assert "0 webhook events" in browser.get(EVENTS, {"q": "evt_nobody"}).content.decode()

    detail = browser.get(f"{EVENTS}{event.pk}/change/")
    assert detail.status_code == 200
    body = detail.content.decode()
    assert html.escape(raw.decode(), quote=True) in body or html.escape(raw.decode(), quote=False) in body
    assert 'name="_save"' not in body

    assert browser.post(f"{EVENTS}{event.pk}/change/", {"result": "x"}).status_code == 403
    assert browser.post(f"{EVENTS}{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert browser.get(f"{EVENTS}add/").status_code == 403
    assert WebhookEvent.objects.get().raw_body == event.raw_body


def _list_queries(browser: Client) -> int:
    """Queries of one list page on the payments' and the users' databases (one alias, or two)."""
    aliases = {alias_for_context("payments"), alias_for_context("users")}
    with ExitStack() as stack:
        captured = [stack.enter_context(CaptureQueriesContext(connections[alias])) for alias in aliases]
        assert browser.get(PAYMENTS).status_code == 200
    return sum(len(c.captured_queries) for c in captured)


def test_the_list_page_costs_the_same_for_2_or_12_payments(browser: Client, order_for: OrderFor) -> None:
    for _ in range(2):
        paid(order_for)
    few = _list_queries(browser)
    for _ in range(10):
        paid(order_for)
    assert Payment.objects.values("customer_id").distinct().count() == 12
    assert _list_queries(browser) == few


def test_the_pages_still_work_while_users_cannot_answer(browser: Client, order_for: OrderFor, settings: Any) -> None:
    from tests.contracts.kit import closed_port

    order, payment = paid(order_for)
    down = {"BACKEND": "remote", "URLS": [f"http://127.0.0.1:{closed_port()}"], "TIMEOUT": 0.5}
    settings.SHOP_CONTEXTS = {**settings.SHOP_CONTEXTS, "users": down}

    page = browser.get(PAYMENTS)
    assert page.status_code == 200
    assert (
        order.number in page.content.decode()
        and f"user #{order.customer_id} (email unavailable)" in page.content.decode()
    )
    found = browser.get(PAYMENTS, {"q": "someone@example.com"})
    assert found.status_code == 200 and "cannot be searched right now" in found.content.decode()
    assert browser.get(f"{PAYMENTS}{payment.pk}/change/").status_code == 200
    confirmation = act(browser, "refund_full", [payment])
    assert confirmation.status_code == 200 and f"user #{order.customer_id}" in confirmation.content.decode()
