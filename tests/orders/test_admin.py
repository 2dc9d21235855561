"""The orders admin as staff use it: orders found by number or customer email, a list page that
fetches customers' emails in one call whatever the page size, read-only orders with their lines and
history, and status moves only through the lifecycle service (refusals are warnings, not crashes)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Iterator
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

from shop.catalog.models import Stock
from shop.orders.models import Order
from shop.orders.services import lifecycle
from shop.payments.models import Payment
from shop.registry.router import alias_for_context
from shop.users.models import User
from tests.factories import UserFactory
from tests.orders.conftest import fill_cart, place

pytestmark = pytest.mark.django_db

ADMIN = "/admin/orders/order/"
Stocked = Callable[..., list[str]]


@pytest.fixture
def staff() -> User:
    return User.objects.create_superuser("staff@example.com", "staff-pass-123456")


@pytest.fixture
def browser(staff: User) -> Client:
    client = Client()
    client.force_login(staff)
    return client


@pytest.fixture
def order_for(db: None) -> Callable[..., Order]:
    """``order_for(skus, email=None, quantity=1)``: an order placed through the API by a new customer
    (authenticated directly: twenty logins in a row would hit the login throttle)."""

    def make(skus: list[str], email: str | None = None, quantity: int = 1) -> Order:
        user = UserFactory.create(email=email) if email else UserFactory.create()
        fill_cart(user, skus, quantity)
        client = APIClient()
        client.force_authenticate(user)
        response = place(client)
        assert response.status_code == 201, response.content
        return Order.objects.get(pk=response.json()["id"])

    return make


def act(browser: Client, action: str, orders: Iterable[Order], **data: Any) -> Any:
    return browser.post(ADMIN, {"action": action, "_selected_action": [o.pk for o in orders], **data})


def notes(response: Any) -> list[tuple[int, str]]:
    return [(m.level, m.message) for m in get_messages(response.wsgi_request)]


def reserved(sku: str) -> int:
    return Stock.objects.get(variant__sku=sku).reserved


def test_the_list_shows_customers_and_search_finds_orders_by_number_or_email(
    browser: Client, stocked: Stocked, order_for: Callable[..., Order]
) -> None:
    (sku,) = stocked(1)
    ada = order_for([sku], email="ada@lovelace.example", quantity=3)
    grace = order_for([sku], email="grace@hopper.example")

    page = browser.get(ADMIN).content.decode()
    assert "ada@lovelace.example" in page and "grace@hopper.example" in page
    assert ada.number in page and grace.number in page
    assert str(ada.total) in page and "pending payment" in page

    for term in (ada.number, ada.number.lower(), ada.number[:-2].lower(), "LOVELACE", "ada@love"):
        found = browser.get(ADMIN, {"q": term}).content.decode()
        assert f"{ADMIN}{ada.pk}/change/" in found, term
        assert grace.number not in found and "grace@hopper.example" not in found, term
    assert "0 orders" in browser.get(ADMIN, {"q": "nobody"}).content.decode()
    assert "0 orders" in browser.get(ADMIN, {"q": ada.number[3:]}).content.decode()  # a prefix, not any part

    paid = browser.get(ADMIN, {"status__exact": "paid"}).content.decode()
    assert ada.number not in paid and "0 orders" in paid


def _queries(browser: Client) -> int:
    """Queries of one list page on the orders' and the users' databases (one alias, or two)."""
    aliases = {alias_for_context("orders"), alias_for_context("users")}
    with ExitStack() as stack:
        captured = [stack.enter_context(CaptureQueriesContext(connections[alias])) for alias in aliases]
        assert browser.get(ADMIN).status_code == 200
    return sum(len(c.captured_queries) for c in captured)


def test_the_list_page_costs_the_same_for_2_or_20_orders(
    browser: Client, stocked: Stocked, order_for: Callable[..., Order]
) -> None:
    (sku,) = stocked(1, stock=50)
    for _ in range(2):
        order_for([sku])
    few = _queries(browser)
    for _ in range(18):
        order_for([sku])
    assert Order.objects.values("customer_id").distinct().count() == 20
    assert _queries(browser) == few


def test_the_detail_page_is_read_only_with_lines_and_history(
    browser: Client, stocked: Stocked, order_for: Callable[..., Order]
) -> None:
    first, second = stocked(2)
    order = order_for([first, second], email="ada@lovelace.example", quantity=2)
    lifecycle.mark_paid(order_id=order.pk)

    response = browser.get(f"{ADMIN}{order.pk}/change/")
    assert response.status_code == 200
    body = response.content.decode()
    assert first in body and second in body and "Wool Socks" in body
    assert "ada@lovelace.example" in body and order.number in body and "12 Analytical Row" in body
    history = body.split("Status history", 1)[1]
    assert history.index(">customer<") < history.index(">payments<")  # placed first, then paid
    assert 'name="_save"' not in body and 'name="_continue"' not in body  # nothing to save
    assert re.search(r'Payment due by:</label>\s*<div class="readonly">-</div>', body)  # paid: no deadline

    assert browser.post(f"{ADMIN}{order.pk}/change/", {"status": "delivered"}).status_code == 403
    assert browser.post(f"{ADMIN}{order.pk}/delete/", {"post": "yes"}).status_code == 403
    assert browser.get(f"{ADMIN}add/").status_code == 403
    order.refresh_from_db()
    assert order.status == "paid"


def test_mark_fulfilled_asks_for_tracking_numbers_then_moves_paid_orders(
    browser: Client, staff: User, stocked: Stocked, order_for: Callable[..., Order]
) -> None:
    (sku,) = stocked(1)
    order = order_for([sku], email="ada@lovelace.example")
    lifecycle.mark_paid(order_id=order.pk)

    form = act(browser, "mark_fulfilled", [order])
    assert form.status_code == 200
    page = form.content.decode()
    assert order.number in page and "ada@lovelace.example" in page and 'name="apply"' in page
    order.refresh_from_db()
    assert order.status == "paid"  # the form alone changes nothing

    missing = act(browser, "mark_fulfilled", [order], apply="1", carrier="DHL")
    assert missing.status_code == 200 and "This field is required" in missing.content.decode()
    order.refresh_from_db()
    assert order.status == "paid"

    done = act(browser, "mark_fulfilled", [order], apply="1", carrier=" DHL ", **{f"tracking_{order.pk}": "JD0001"})
    assert done.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.carrier, order.tracking_number) == ("fulfilled", "DHL", "JD0001")
    last = order.history.order_by("at", "id").last()
    assert last is not None
    assert (last.from_status, last.to_status, last.actor, last.actor_id) == ("paid", "fulfilled", "staff", staff.pk)
    assert any(level == levels.SUCCESS and order.number in text for level, text in notes(done))


def test_mark_fulfilled_leaves_an_unpaid_order_with_a_warning_and_goes_on(
    browser: Client, stocked: Stocked, order_for: Callable[..., Order]
) -> None:
    (sku,) = stocked(1)
    unpaid, paid = order_for([sku]), order_for([sku])
    lifecycle.mark_paid(order_id=paid.pk)

    tracking = {f"tracking_{unpaid.pk}": "T-1", f"tracking_{paid.pk}": "T-2"}
    response = act(browser, "mark_fulfilled", [unpaid, paid], apply="1", carrier="UPS", **tracking)

    assert response.status_code == 302
    unpaid.refresh_from_db()
    paid.refresh_from_db()
    assert (unpaid.status, unpaid.carrier, unpaid.history.count()) == ("pending_payment", "", 1)
    assert (paid.status, paid.tracking_number) == ("fulfilled", "T-2")
    messages = notes(response)
    assert any(level == levels.WARNING and unpaid.number in text for level, text in messages)
    assert any(
        level == levels.SUCCESS and paid.number in text and unpaid.number not in text for level, text in messages
    )


def test_cancel_cancels_a_pending_order_releasing_its_stock_but_not_a_paid_one(
    browser: Client, staff: User, stocked: Stocked, order_for: Callable[..., Order]
) -> None:
    pending_sku, paid_sku = stocked(2)
    pending = order_for([pending_sku], quantity=2)
    paid = order_for([paid_sku])
    lifecycle.mark_paid(order_id=paid.pk)
    assert reserved(pending_sku) == 2

    response = act(browser, "cancel_unpaid", [pending, paid])

    assert response.status_code == 302
    pending.refresh_from_db()
    paid.refresh_from_db()
    assert pending.status == "cancelled" and reserved(pending_sku) == 0
    last = pending.history.order_by("at", "id").last()
    assert last is not None and (last.actor, last.actor_id) == ("staff", staff.pk)
    assert paid.status == "paid"
    messages = notes(response)
    assert any(level == levels.WARNING and paid.number in text for level, text in messages)
    assert any(level == levels.SUCCESS and pending.number in text for level, text in messages)


def test_mark_delivered_moves_a_fulfilled_order(
    browser: Client, staff: User, stocked: Stocked, order_for: Callable[..., Order]
) -> None:
    (sku,) = stocked(1)
    order = order_for([sku])
    lifecycle.mark_paid(order_id=order.pk)
    lifecycle.fulfil(order_id=order.pk, carrier="DHL", tracking_number="JD1", actor=lifecycle.Actor(kind="staff"))

    response = act(browser, "mark_delivered", [order])

    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == "delivered"
    last = order.history.order_by("at", "id").last()
    assert last is not None and (last.from_status, last.actor, last.actor_id) == ("fulfilled", "staff", staff.pk)
    again = act(browser, "mark_delivered", [order])  # delivered already: a warning, not a crash
    assert any(level == levels.WARNING and order.number in text for level, text in notes(again))


def test_staff_who_may_only_view_orders_cannot_move_them(stocked: Stocked, order_for: Callable[..., Order]) -> None:
    (sku,) = stocked(1)
    order = order_for([sku])
    viewer = UserFactory.create(email="viewer@example.com", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(content_type__app_label="orders", codename="view_order"))
    client = Client()
    client.force_login(viewer)

    assert client.get(ADMIN).status_code == 200
    act(client, "cancel_unpaid", [order])

    order.refresh_from_db()
    assert order.status == "pending_payment"


def test_the_list_and_the_search_still_work_while_users_cannot_answer(
    browser: Client, stocked: Stocked, order_for: Callable[..., Order], settings: Any
) -> None:
    from tests.contracts.kit import closed_port

    (sku,) = stocked(1)
    order = order_for([sku], email="ada@lovelace.example")
    # The users context bound to a address nobody listens on: a real ContextUnavailable, in every CI mode.
    down = {"BACKEND": "remote", "URLS": [f"http://127.0.0.1:{closed_port()}"], "TIMEOUT": 0.5}
    settings.SHOP_CONTEXTS = {**settings.SHOP_CONTEXTS, "users": down}

    page = browser.get(ADMIN)
    assert page.status_code == 200
    assert order.number in page.content.decode() and f"user #{order.customer_id}" in page.content.decode()
    found = browser.get(ADMIN, {"q": order.number.lower()})
    assert found.status_code == 200 and f"{ADMIN}{order.pk}/change/" in found.content.decode()
    assert "cannot be searched right now" in found.content.decode()
    assert browser.get(f"{ADMIN}{order.pk}/change/").status_code == 200


# --- refunds: through payments, the order follows when payments announces the refund ---------------
# These rely on events (PaymentRefunded is relayed to orders on commit), so they run in real transactions.
refunds = pytest.mark.django_db(transaction=True)


@pytest.fixture
def paid_order(order_for: Callable[..., Order], settings: Any) -> Iterator[Callable[..., Order]]:
    """``paid_order(sku, token="tok_success")``: an order paid over HTTP with a simulated-gateway token."""
    from shop.payments.services import calls

    settings.SHOP_PAYMENT_GATEWAY = "simulated"
    settings.SHOP_GATEWAY_BACKOFF_S = 0.001  # retries stay bounded and fast
    calls.reset_breakers()

    def make(sku: str, token: str = "tok_success") -> Order:
        order = order_for([sku])
        client = APIClient()
        client.force_authenticate(User.objects.get(pk=order.customer_id))
        response = client.post(
            f"/api/v1/orders/{order.pk}/pay/", {"token": token}, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4())
        )
        assert response.status_code == 200, response.content
        order.refresh_from_db()
        return order

    yield make
    calls.reset_breakers()


def payment_of(order: Order) -> Payment:
    return Payment.objects.get(order_id=order.pk)


def statuses(order: Order) -> list[str]:
    return list(order.history.order_by("at", "id").values_list("to_status", flat=True))


@refunds
def test_refund_full_refunds_the_payment_and_the_order_follows(
    browser: Client, staff: User, stocked: Stocked, paid_order: Callable[..., Order]
) -> None:
    (sku,) = stocked(1)
    order = paid_order(sku)
    assert order.status == "paid"

    response = act(browser, "refund_full", [order])

    assert response.status_code == 302
    order.refresh_from_db()
    payment = payment_of(order)
    assert (order.status, payment.status, payment.refunded_amount) == ("refunded", "refunded", order.total_amount)
    assert statuses(order) == ["pending_payment", "paid", "refunded"]
    assert any(level == levels.SUCCESS and order.number in text for level, text in notes(response))

    again = act(browser, "refund_full", [order])  # refunded already: a warning, not a crash
    assert any(level == levels.WARNING and order.number in text for level, text in notes(again))


@refunds
def test_refund_part_asks_for_an_amount_and_the_order_stays_paid_with_a_note(
    browser: Client, stocked: Stocked, paid_order: Callable[..., Order]
) -> None:
    (sku,) = stocked(1)
    order = paid_order(sku)

    form = act(browser, "refund_part", [order])
    assert form.status_code == 200
    page = form.content.decode()
    assert order.number in page and f'name="amount_{order.pk}"' in page and 'name="apply"' in page
    assert payment_of(order).status == "succeeded"  # the form alone changes nothing

    missing = act(browser, "refund_part", [order], apply="1", note="scratched box")
    assert missing.status_code == 200 and "This field is required" in missing.content.decode()
    more = act(browser, "refund_part", [order], apply="1", note="x", **{f"amount_{order.pk}": "10000.00"})
    assert more.status_code == 200  # more than the order's total: the form says so
    assert payment_of(order).status == "succeeded"

    done = act(browser, "refund_part", [order], apply="1", note="scratched box", **{f"amount_{order.pk}": "3.50"})

    assert done.status_code == 302
    order.refresh_from_db()
    payment = payment_of(order)
    assert (payment.status, payment.refunded_amount) == ("partially_refunded", Decimal("3.50"))
    assert order.status == "paid"
    last = order.history.order_by("at", "id").last()
    assert last is not None and "partially refunded 3.50" in last.note
    assert any(level == levels.SUCCESS and order.number in text for level, text in notes(done))


@refunds
def test_cancel_paid_cancels_then_refunds_the_order(
    browser: Client, staff: User, stocked: Stocked, paid_order: Callable[..., Order]
) -> None:
    (sku,) = stocked(1)
    order = paid_order(sku)

    response = act(browser, "cancel_paid", [order])

    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == "refunded" and payment_of(order).status == "refunded"
    assert statuses(order) == ["pending_payment", "paid", "cancelled", "refunded"]
    cancelled = order.history.get(to_status="cancelled")
    assert (cancelled.actor, cancelled.actor_id) == ("staff", staff.pk)
    assert any(level == levels.SUCCESS and order.number in text for level, text in notes(response))


@refunds
def test_refunds_of_an_unpaid_order_are_warnings_and_change_nothing(
    browser: Client, stocked: Stocked, order_for: Callable[..., Order]
) -> None:
    (sku,) = stocked(1)
    order = order_for([sku])

    for action, data in (
        ("refund_full", {}),
        ("refund_part", {"apply": "1", "note": "x", f"amount_{order.pk}": "1.00"}),
        ("cancel_paid", {}),
    ):
        response = act(browser, action, [order], **data)
        assert response.status_code == 302, action
        assert any(level == levels.WARNING and order.number in text for level, text in notes(response)), action
        assert not any(level == levels.SUCCESS for level, _ in notes(response)), action
        order.refresh_from_db()
        assert (order.status, statuses(order)) == ("pending_payment", ["pending_payment"]), action
    assert not Payment.objects.filter(order_id=order.pk).exists()
    assert reserved(sku) == 1  # its stock is still held


@refunds
def test_cancel_paid_refuses_a_shipped_order_and_a_failed_refund_is_reported_as_such(
    browser: Client, stocked: Stocked, paid_order: Callable[..., Order], monkeypatch: pytest.MonkeyPatch
) -> None:
    from shop.payments.services.gateways.base import TransientGatewayError
    from shop.payments.services.gateways.simulated import SimulatedGateway

    shipped_sku, sku = stocked(2)
    shipped, order = paid_order(shipped_sku), paid_order(sku)
    lifecycle.fulfil(order_id=shipped.pk, carrier="DHL", tracking_number="JD1", actor=lifecycle.Actor(kind="staff"))

    def down(self: SimulatedGateway, **kwargs: Any) -> Any:
        raise TransientGatewayError("connection reset")

    monkeypatch.setattr(SimulatedGateway, "refund", down)
    response = act(browser, "cancel_paid", [shipped, order])

    assert response.status_code == 302
    shipped.refresh_from_db()
    order.refresh_from_db()
    assert shipped.status == "fulfilled" and payment_of(shipped).status == "succeeded"
    assert order.status == "cancelled" and payment_of(order).status == "succeeded"  # cancelled, not yet refunded
    messages = notes(response)
    assert any(level == levels.WARNING and shipped.number in text for level, text in messages)
    assert any(level == levels.WARNING and order.number in text and "refund failed" in text for level, text in messages)
    assert not any(level == levels.SUCCESS for level, _ in messages)

    monkeypatch.undo()  # the gateway answers again: the cancelled order is refunded the usual way
    act(browser, "refund_full", [order])
    order.refresh_from_db()
    assert (order.status, payment_of(order).status) == ("refunded", "refunded")
