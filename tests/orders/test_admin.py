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
from shop.kernel import Money
from shop.orders.models import Order
from shop.orders.services import lifecycle
from shop.payments.models import Payment, Transaction
from shop.registry.router import alias_for_context
from shop.users.models import User
from tests.factories import UserFactory
from tests.helpers import submit_kit_form
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
    assert order.number in page and "ada@lovelace.example" in page and f'name="tracking_{order.pk}"' in page
    order.refresh_from_db()
    assert order.status == "paid"  # the form alone changes nothing

    missing = submit_kit_form(browser, ADMIN, form, carrier="DHL")
    assert missing.status_code == 200 and "This field is required" in missing.content.decode()
    order.refresh_from_db()
    assert order.status == "paid"

    done = submit_kit_form(browser, ADMIN, form, carrier=" DHL ", **{f"tracking_{order.pk}": "JD0001"})
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

    form = act(browser, "mark_fulfilled", [unpaid, paid])
    assert f'name="tracking_{unpaid.pk}"' not in form.content.decode()  # nothing to ship: no tracking asked
    response = submit_kit_form(browser, ADMIN, form, carrier="UPS", **{f"tracking_{paid.pk}": "T-2"})

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

    confirmation = act(browser, "cancel_unpaid", [pending, paid])

    assert confirmation.status_code == 200  # the first POST shows what will happen and changes nothing
    page = confirmation.content.decode()
    assert "Nothing has happened yet" in page
    assert f"back to stock: 2 x {pending_sku}" in page and "Back to stock in all: 2 unit(s)." in page
    assert paid.number in page and "only an order awaiting payment is cancelled here" in page
    pending.refresh_from_db()
    assert pending.status == "pending_payment" and reserved(pending_sku) == 2

    response = submit_kit_form(browser, ADMIN, confirmation)

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
    page = client.get(f"{ADMIN}{order.pk}/change/")
    assert page.status_code == 200 and 'id="kit-buttons"' not in page.content.decode()  # no buttons to press
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


def test_the_confirmation_says_so_and_changes_nothing_while_payments_cannot_answer(
    browser: Client, stocked: Stocked, order_for: Callable[..., Order], settings: Any
) -> None:
    from tests.contracts.kit import closed_port

    (sku,) = stocked(1)
    order = order_for([sku])
    lifecycle.mark_paid(order_id=order.pk)
    down = {"BACKEND": "remote", "URLS": [f"http://127.0.0.1:{closed_port()}"], "TIMEOUT": 0.5}
    settings.SHOP_CONTEXTS = {**settings.SHOP_CONTEXTS, "payments": down}

    response = act(browser, "refund_full", [order])

    assert response.status_code == 302
    assert any(
        level == levels.WARNING and "payments cannot answer right now" in text and "nothing was changed" in text
        for level, text in notes(response)
    )
    detail = browser.get(f"{ADMIN}{order.pk}/change/")
    assert detail.status_code == 200 and "Payments cannot answer right now" in detail.content.decode()
    order.refresh_from_db()
    assert order.status == "paid"


# --- refunds: through payments, the order follows when payments announces the refund ---------------
# These rely on events (PaymentRefunded is relayed to orders on commit), so they run in real transactions.
refunds = pytest.mark.django_db(transaction=True)


@pytest.fixture
def paid_order(order_for: Callable[..., Order], settings: Any) -> Iterator[Callable[..., Order]]:
    """``paid_order(sku, token="tok_success")``: an order paid over HTTP with a simulated-gateway token."""
    from shop.payments.adapters import calls

    settings.SHOP_PAYMENT_GATEWAY = "simulated"
    settings.SHOP_GATEWAY_BACKOFF_S = 0.001  # retries stay bounded and fast
    calls.reset_breakers()

    def make(sku: str, token: str = "tok_success", email: str | None = None) -> Order:
        order = order_for([sku], email=email)
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


def refunds_of(order: Order) -> int:
    return Transaction.objects.filter(payment__order_id=order.pk, kind="refund").count()


def statuses(order: Order) -> list[str]:
    return list(order.history.order_by("at", "id").values_list("to_status", flat=True))


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


@refunds
def test_refund_full_shows_what_will_happen_first_then_refunds_once(
    browser: Client, staff: User, stocked: Stocked, paid_order: Callable[..., Order]
) -> None:
    (sku,) = stocked(1)
    order = paid_order(sku)
    assert order.status == "paid"

    confirmation = act(browser, "refund_full", [order])

    assert confirmation.status_code == 200
    page = confirmation.content.decode()
    assert "Nothing has happened yet" in page and order.number in page
    assert f"Refund {order.total} of the {order.total} paid (all that is left)" in page
    assert f"Refunded in all: {order.total}." in page and 'id="kit-submit"' in page
    order.refresh_from_db()
    assert (order.status, payment_of(order).status, refunds_of(order)) == ("paid", "succeeded", 0)

    response = submit_kit_form(browser, ADMIN, confirmation)

    assert response.status_code == 302
    order.refresh_from_db()
    payment = payment_of(order)
    assert (order.status, payment.status, payment.refunded_amount) == ("refunded", "refunded", order.total_amount)
    assert statuses(order) == ["pending_payment", "paid", "refunded"]
    assert any(level == levels.SUCCESS and order.number in text for level, text in notes(response))

    # The same confirmation sent again (a double click, the back button): nothing more moves.
    again = submit_kit_form(browser, ADMIN, confirmation)
    assert again.status_code == 200
    assert "Something changed since the confirmation was shown" in again.content.decode()
    assert "it is refunded already" in again.content.decode() and 'id="kit-submit"' not in again.content.decode()
    assert refunds_of(order) == 1


@refunds
def test_a_confirmation_that_went_stale_shows_the_new_plan_instead_of_acting(
    browser: Client, stocked: Stocked, paid_order: Callable[..., Order]
) -> None:
    (sku,) = stocked(1)
    order = paid_order(sku)
    confirmation = act(browser, "refund_full", [order])
    # Meanwhile someone else refunds part of it: the confirmation no longer says what would happen.
    lifecycle.refund(order_id=order.pk, actor=lifecycle.Actor(kind="staff"), amount=eur("1.00"), note="dent")

    stale = submit_kit_form(browser, ADMIN, confirmation)

    assert stale.status_code == 200
    left = order.total - eur("1.00")
    page = stale.content.decode()
    assert "Something changed" in page and f"Refund {left} of the {order.total}" in page
    assert refunds_of(order) == 1 and payment_of(order).refunded_amount == Decimal("1.00")
    submit_kit_form(browser, ADMIN, stale)
    order.refresh_from_db()
    assert (order.status, payment_of(order).refunded_amount) == ("refunded", order.total_amount)


@refunds
def test_refund_part_asks_for_an_amount_shows_it_then_refunds_and_the_order_stays_paid(
    browser: Client, stocked: Stocked, paid_order: Callable[..., Order]
) -> None:
    (sku,) = stocked(1)
    order = paid_order(sku)

    form = act(browser, "refund_part", [order])
    assert form.status_code == 200
    assert f'name="amount_{order.pk}"' in form.content.decode()
    missing = submit_kit_form(browser, ADMIN, form, note="scratched box")
    assert missing.status_code == 200 and "This field is required" in missing.content.decode()
    more = submit_kit_form(browser, ADMIN, form, note="x", **{f"amount_{order.pk}": "10000.00"})
    assert more.status_code == 200 and "Nothing has happened yet" not in more.content.decode()  # the form says no

    review = submit_kit_form(browser, ADMIN, form, note="scratched box", **{f"amount_{order.pk}": "3.50"})

    assert review.status_code == 200
    page = review.content.decode()
    assert "Nothing has happened yet" in page
    assert f"Refund 3.50 EUR of the {order.total} paid; {order.total - eur('3.50')} stays paid" in page
    assert payment_of(order).status == "succeeded" and refunds_of(order) == 0  # shown, not done

    done = submit_kit_form(browser, ADMIN, review)

    assert done.status_code == 302
    order.refresh_from_db()
    payment = payment_of(order)
    assert (payment.status, payment.refunded_amount) == ("partially_refunded", Decimal("3.50"))
    assert order.status == "paid"
    last = order.history.order_by("at", "id").last()
    assert last is not None and "partially refunded 3.50" in last.note
    assert any(level == levels.SUCCESS and order.number in text for level, text in notes(done))


@refunds
def test_cancel_paid_shows_the_refund_first_then_cancels_and_refunds(
    browser: Client, staff: User, stocked: Stocked, paid_order: Callable[..., Order]
) -> None:
    (sku,) = stocked(1)
    order = paid_order(sku)

    confirmation = act(browser, "cancel_paid", [order])

    assert confirmation.status_code == 200
    page = confirmation.content.decode()
    assert f"Cancelled now; refund {order.total} of the {order.total} paid (all that is left)" in page
    assert "Its stock stays sold" in page
    order.refresh_from_db()
    assert (order.status, refunds_of(order)) == ("paid", 0)

    response = submit_kit_form(browser, ADMIN, confirmation)

    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == "refunded" and payment_of(order).status == "refunded"
    assert statuses(order) == ["pending_payment", "paid", "cancelled", "refunded"]
    cancelled = order.history.get(to_status="cancelled")
    assert (cancelled.actor, cancelled.actor_id) == ("staff", staff.pk)
    assert any(level == levels.SUCCESS and order.number in text for level, text in notes(response))


@refunds
def test_refunds_of_an_unpaid_order_say_why_not_and_change_nothing(
    browser: Client, stocked: Stocked, order_for: Callable[..., Order]
) -> None:
    (sku,) = stocked(1)
    order = order_for([sku])

    for action in ("refund_full", "cancel_paid", "refund_part"):
        page = act(browser, action, [order])
        if action == "refund_part":
            assert "it is pending payment: nothing was paid" in page.content.decode()
            page = submit_kit_form(browser, ADMIN, page, note="x", **{f"amount_{order.pk}": "1.00"})
        assert page.status_code == 200, action
        assert "Left as it is" in page.content.decode() and 'id="kit-submit"' not in page.content.decode(), action
        # Even a hand-made submission of that page moves nothing: each order is refused, with a warning.
        forced = submit_kit_form(browser, ADMIN, page)
        assert forced.status_code == 302, action
        assert any(level == levels.WARNING and order.number in text for level, text in notes(forced)), action
        assert not any(level == levels.SUCCESS for level, _ in notes(forced)), action
        order.refresh_from_db()
        assert (order.status, statuses(order)) == ("pending_payment", ["pending_payment"]), action
    assert not Payment.objects.filter(order_id=order.pk).exists()
    assert reserved(sku) == 1  # its stock is still held


@refunds
def test_cancel_paid_refuses_a_shipped_order_and_a_failed_refund_is_reported_as_such(
    browser: Client, stocked: Stocked, paid_order: Callable[..., Order], monkeypatch: pytest.MonkeyPatch
) -> None:
    from shop.payments.adapters.gateways.base import TransientGatewayError
    from shop.payments.adapters.gateways.simulated import SimulatedGateway

    shipped_sku, sku = stocked(2)
    shipped, order = paid_order(shipped_sku), paid_order(sku)
    lifecycle.fulfil(order_id=shipped.pk, carrier="DHL", tracking_number="JD1", actor=lifecycle.Actor(kind="staff"))
    confirmation = act(browser, "cancel_paid", [shipped, order])
    assert "only a paid order that has not shipped is cancelled here" in confirmation.content.decode()

    def down(self: SimulatedGateway, **kwargs: Any) -> Any:
        raise TransientGatewayError("connection reset")

    monkeypatch.setattr(SimulatedGateway, "refund", down)
    response = submit_kit_form(browser, ADMIN, confirmation)

    assert response.status_code == 302
    shipped.refresh_from_db()
    order.refresh_from_db()
    assert shipped.status == "fulfilled" and payment_of(shipped).status == "succeeded"
    assert order.status == "cancelled" and payment_of(order).status == "succeeded"  # cancelled, not yet refunded
    messages = notes(response)
    assert any(level == levels.WARNING and shipped.number in text for level, text in messages)
    assert any(
        level == levels.WARNING and order.number in text and "refund failed" in text and "retried automatically" in text
        for level, text in messages
    )
    assert not any(level == levels.SUCCESS for level, _ in messages)

    # Staff see the owed refund: on the order, in the "refund owed" filter, with a button to retry it.
    page = browser.get(f"{ADMIN}{order.pk}/change/").content.decode()
    assert "Being retried" in page and "retry_owed_refund" in _buttons(page)
    listed = browser.get(ADMIN, {"refund_owed": "retrying"}).content.decode()
    assert order.number in listed and shipped.number not in listed

    monkeypatch.undo()  # the gateway answers again: staff retry now (or the sweep would, when due)
    from shop.payments.adapters import calls

    calls.reset_breakers()
    done = submit_kit_form(browser, ADMIN, act(browser, "retry_owed_refund", [order]))
    assert any(level == levels.SUCCESS and order.number in text for level, text in notes(done))
    order.refresh_from_db()
    assert (order.status, payment_of(order).status) == ("refunded", "refunded")
    assert not Order.objects.filter(lifecycle.owed_refunds(), pk=order.pk).exists()  # off the "refund owed" list


def _buttons(page: str) -> list[str]:
    if 'id="kit-buttons"' not in page:
        return []
    form = page.split('id="kit-buttons"', 1)[1].split("</form>", 1)[0]
    return re.findall(r'name="action" value="([a-z_]+)"', form)


@refunds
def test_the_order_page_shows_its_payment_refunds_emails_and_the_actions_it_allows(
    browser: Client, stocked: Stocked, paid_order: Callable[..., Order]
) -> None:
    (sku, other_sku) = stocked(2)
    order = paid_order(sku, email="ada@lovelace.example")
    other = paid_order(other_sku)
    lifecycle.refund(order_id=order.pk, actor=lifecycle.Actor(kind="staff"), amount=eur("2.00"), note="dent")
    url = f"{ADMIN}{order.pk}/change/"

    page = browser.get(url).content.decode()

    payment = payment_of(order)
    panel = page.split('id="order-payment"', 1)[1]
    assert "partially refunded" in panel and str(order.total) in panel and "2.00 EUR" in panel
    assert str(order.total - eur("2.00")) in panel  # what is left
    refunds_table = page.split('id="order-refunds"', 1)[1].split("</table>", 1)[0]
    assert "2.00 EUR" in refunds_table and "succeeded" in refunds_table
    assert f"/admin/payments/payment/{payment.pk}/change/" in page
    assert sorted(_buttons(page)) == ["cancel_paid", "mark_fulfilled", "refund_full", "refund_part"]
    # The quote the order was placed at: tax by rate (20 % elsewhere, GB), the method, each line's tax.
    breakdown = page.split("field-tax_breakdown_table", 1)[1].split("</table>", 1)[0]
    assert "<td>20 %</td>" in breakdown and f"<td>{order.money(order.tax_amount)}</td>" in breakdown
    assert "Standard shipping (standard, tax" in page
    line = order.lines.get()
    assert f"{order.money(line.tax_amount)} (20 %, standard)" in page

    emails_url = f"/admin/notifications/notification/?order={order.pk}"
    assert emails_url in page
    emails = browser.get(emails_url).content.decode()
    assert f"Your order {order.number}" in emails and f"Payment received for order {order.number}" in emails
    assert other.number not in emails

    # A button asks first, like the list's actions, and comes back to the order.
    confirmation = browser.post(ADMIN, {"action": "refund_full", "_selected_action": [order.pk], "_kit_next": url})
    assert confirmation.status_code == 200
    left = order.total - eur("2.00")
    assert f"Refund {left} of the {order.total} paid (all that is left)" in confirmation.content.decode()
    done = submit_kit_form(browser, ADMIN, confirmation)
    assert (done.status_code, done["Location"]) == (302, url)
    order.refresh_from_db()
    assert order.status == "refunded"
    assert _buttons(browser.get(url).content.decode()) == []  # refunded: nothing left to do
