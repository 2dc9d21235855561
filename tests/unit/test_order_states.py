"""The order state table: every status reachable from placing an order, nothing leaves a refund, and
money only goes back from a status that had been paid."""

from __future__ import annotations

from shop.orders import api
from shop.orders.services.lifecycle import ALLOWED
from shop.orders.services.staff import statuses_to


def reachable(start: str) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        for status in ALLOWED[todo.pop()]:
            if status not in seen:
                seen.add(status)
                todo.append(status)
    return seen


def test_the_table_covers_every_status_and_only_known_ones() -> None:
    assert set(ALLOWED) == set(api.STATUSES)
    assert all(targets <= set(api.STATUSES) for targets in ALLOWED.values())
    assert reachable(api.PENDING_PAYMENT) == set(api.STATUSES)


def test_a_refunded_order_is_final_and_nothing_returns_to_pending() -> None:
    assert ALLOWED[api.REFUNDED] == frozenset()
    assert all(api.PENDING_PAYMENT not in targets for targets in ALLOWED.values())


def test_only_paid_statuses_can_be_refunded_and_an_unpaid_order_only_paid_or_cancelled() -> None:
    assert statuses_to(api.REFUNDED) == {api.PAID, api.FULFILLED, api.DELIVERED, api.CANCELLED}
    assert ALLOWED[api.PENDING_PAYMENT] == {api.PAID, api.CANCELLED}
