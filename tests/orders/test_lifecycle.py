"""Order status moves: only the legal ones, each recorded; unpaid orders expire and give their
stock back; customers see and touch only their own orders."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from shop.catalog.models import Stock
from shop.orders import api, tasks
from shop.orders.models import Order
from shop.orders.services import lifecycle
from shop.users.models import User
from tests.helpers import assert_problem, outbox
from tests.orders.conftest import ORDERS, client_of, order_url, place

pytestmark = pytest.mark.django_db

Shopper = Callable[..., tuple[User, APIClient]]
Stocked = Callable[..., list[str]]
STAFF = lifecycle.Actor(kind="staff", id=1)


def reserved(sku: str) -> tuple[int, int]:
    row = Stock.objects.get(variant__sku=sku)
    return row.on_hand, row.reserved


@pytest.fixture
def order(stocked: Stocked, shopper: Shopper) -> Order:
    (sku,) = stocked(1)
    _, client = shopper([sku], quantity=2)
    return Order.objects.get(pk=place(client).json()["id"])


def move(order: Order, to_status: str) -> None:
    """Drive ``order`` to ``to_status`` along the legal path, through the service."""
    paths = {
        api.PAID: [api.PAID],
        api.FULFILLED: [api.PAID, api.FULFILLED],
        api.DELIVERED: [api.PAID, api.FULFILLED, api.DELIVERED],
        api.CANCELLED: [api.CANCELLED],
        api.REFUNDED: [api.PAID, api.REFUNDED],
        api.PENDING_PAYMENT: [],
    }
    for step in paths[to_status]:
        if step == api.PAID:
            lifecycle.mark_paid(order_id=order.pk)
        elif step == api.FULFILLED:
            lifecycle.fulfil(order_id=order.pk, carrier="DHL", tracking_number="JD0001", actor=STAFF)
        elif step == api.DELIVERED:
            lifecycle.deliver(order_id=order.pk, actor=STAFF)
        elif step == api.CANCELLED:
            lifecycle.cancel(order_id=order.pk, actor=STAFF)
        else:
            lifecycle.mark_refunded(order_id=order.pk)


def test_the_happy_path_is_recorded_and_announced(order: Order) -> None:
    sku = order.lines.get().sku
    lifecycle.mark_paid(order_id=order.pk)
    assert reserved(sku) == (8, 0)  # the hold became sold stock
    lifecycle.fulfil(order_id=order.pk, carrier="DHL", tracking_number="JD0001", actor=STAFF)
    lifecycle.deliver(order_id=order.pk, actor=STAFF)

    order.refresh_from_db()
    assert (order.status, order.carrier, order.tracking_number) == ("delivered", "DHL", "JD0001")
    history = list(order.history.values_list("from_status", "to_status", "actor"))
    assert history == [
        ("", "pending_payment", "customer"),
        ("pending_payment", "paid", "payments"),
        ("paid", "fulfilled", "staff"),
        ("fulfilled", "delivered", "staff"),
    ]
    topics = list(outbox("orders").order_by("created_at").values_list("topic", flat=True))
    assert topics == ["orders.OrderPlaced", "orders.OrderPaid", "orders.OrderFulfilled", "orders.OrderDelivered"]


ILLEGAL = [
    (start, target)
    for start, target in itertools.product(api.STATUSES, api.STATUSES)
    if target not in lifecycle.ALLOWED[start] and target != api.PENDING_PAYMENT
]


@pytest.mark.parametrize(("start", "target"), ILLEGAL)
def test_every_illegal_move_is_refused_and_changes_nothing(order: Order, start: str, target: str) -> None:
    move(order, start)
    order.refresh_from_db()
    before = (order.status, order.history.count(), outbox("orders").count())
    with pytest.raises(api.IllegalTransition) as refused:
        lifecycle.transition(order_id=order.pk, to_status=target, actor=STAFF)
    assert refused.value.extra == {"from_status": start, "to_status": target}
    order.refresh_from_db()
    assert (order.status, order.history.count(), outbox("orders").count()) == before


def test_an_unpaid_cancelled_order_cannot_be_refunded(order: Order) -> None:
    lifecycle.cancel(order_id=order.pk, actor=STAFF)
    with pytest.raises(api.IllegalTransition):
        lifecycle.mark_refunded(order_id=order.pk)


def test_payment_events_are_idempotent_and_never_move_an_order_back(order: Order) -> None:
    lifecycle.mark_paid(order_id=order.pk)
    lifecycle.fulfil(order_id=order.pk, carrier="UPS", tracking_number="1Z", actor=STAFF)
    lifecycle.mark_paid(order_id=order.pk)  # a late duplicate of the payment event
    order.refresh_from_db()
    assert order.status == "fulfilled" and order.history.count() == 3
    lifecycle.mark_refunded(order_id=order.pk)
    lifecycle.mark_refunded(order_id=order.pk)
    order.refresh_from_db()
    assert order.status == "refunded" and order.history.count() == 4


def test_the_customer_cancels_an_unpaid_order_and_the_stock_comes_back(stocked: Stocked, shopper: Shopper) -> None:
    (sku,) = stocked(1)
    _, client = shopper([sku], quantity=3)
    placed = place(client).json()
    assert reserved(sku) == (10, 3)
    cancelled = client.post(order_url(placed["id"], "cancel"))
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert reserved(sku) == (10, 0)
    assert cancelled.json()["history"][-1]["actor"] == "customer"
    assert_problem(client.post(order_url(placed["id"], "cancel")), 409, "illegal_transition")


def test_a_paid_order_is_not_cancelled_by_the_customer(order: Order) -> None:
    lifecycle.mark_paid(order_id=order.pk)
    client = client_of(User.objects.get(pk=order.customer_id))
    assert_problem(client.post(order_url(order.pk, "cancel")), 409, "illegal_transition")
    order.refresh_from_db()
    assert order.status == "paid"


def test_unpaid_orders_expire_and_their_stock_comes_back(stocked: Stocked, shopper: Shopper) -> None:
    (sku,) = stocked(1)
    _, late = shopper([sku], quantity=2)
    _, on_time = shopper([sku], quantity=1)
    _, paid = shopper([sku], quantity=1)
    late_id = place(late).json()["id"]
    on_time_id = place(on_time).json()["id"]
    paid_id = place(paid).json()["id"]
    lifecycle.mark_paid(order_id=paid_id)
    past = timezone.now() - timedelta(seconds=1)
    Order.objects.filter(pk__in=[late_id, paid_id]).update(payment_due_by=past)
    assert reserved(sku) == (9, 3)

    assert tasks.cancel_unpaid_orders.apply().get(disable_sync_subtasks=False) == 1

    statuses = dict(Order.objects.values_list("pk", "status"))
    assert statuses == {late_id: "cancelled", on_time_id: "pending_payment", paid_id: "paid"}
    assert reserved(sku) == (9, 1)
    cancelled = outbox("orders").get(topic="orders.OrderCancelled")
    assert cancelled.payload["reason"] == "payment_timeout"  # type: ignore[index]


def test_customers_see_only_their_own_orders(stocked: Stocked, shopper: Shopper) -> None:
    (sku,) = stocked(1)
    _, alice = shopper([sku])
    _, bob = shopper([sku])
    mine = place(alice).json()
    place(bob)

    assert [o["number"] for o in alice.get(ORDERS).json()["results"]] == [mine["number"]]
    for url in (order_url(mine["id"]), order_url(999999)):
        assert_problem(bob.get(url), 404, "not_found", resource="order")
    assert_problem(bob.post(order_url(mine["id"], "cancel")), 404, "not_found", resource="order")
    assert Order.objects.get(pk=mine["id"]).status == "pending_payment"
    assert_problem(APIClient().get(ORDERS), 401, "not_authenticated")


def test_the_list_is_newest_first_filterable_and_paged(stocked: Stocked, shopper: Shopper) -> None:
    (sku,) = stocked(1, stock=50)
    user, client = shopper([sku])
    numbers = []
    for _ in range(5):
        client.post("/api/v1/cart/lines/", {"sku": sku, "quantity": 1}, format="json")
        numbers.append(place(client).json()["number"])
    lifecycle.cancel(order_id=Order.objects.get(number=numbers[0]).pk, actor=STAFF)

    page = client.get(ORDERS, {"page_size": 2}).json()
    assert [o["number"] for o in page["results"]] == numbers[::-1][:2]
    rest = client.get(page["next"]).json()
    assert [o["number"] for o in rest["results"]] == numbers[::-1][2:4]
    cancelled = client.get(ORDERS, {"status": "cancelled"}).json()["results"]
    assert [(o["number"], o["status"], o["item_count"]) for o in cancelled] == [(numbers[0], "cancelled", 2)]
    assert_problem(client.get(ORDERS, {"status": "lost"}), 400, "validation_error")
    assert Order.objects.filter(customer_id=user.pk).count() == 5


def test_cancel_refuses_a_paid_order_under_the_lock(order: Order) -> None:
    """Cancelling a paid order means refunding it (payments); ``cancel`` never drops a paid order."""
    lifecycle.mark_paid(order_id=order.pk)
    with pytest.raises(api.IllegalTransition):
        lifecycle.cancel(order_id=order.pk, actor=STAFF)
    order.refresh_from_db()
    assert order.status == "paid"
