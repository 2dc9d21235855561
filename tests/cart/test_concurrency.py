"""Two devices, one cart, on PostgreSQL: many threads (each its own connection) released at once
by a barrier. No add is ever lost and the limits hold under the race.

The last test runs a naive read-then-write add through the same harness and requires it to lose
lines: proof that these tests can see the bug they guard against.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connections, transaction

from shop.cart import services
from shop.cart.api import CartFull, Owner
from shop.cart.models import Cart, CartLine
from shop.registry.router import alias_for_context

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 20
CUSTOMER = Owner(user_id=4242)


def run_at_once(count: int, call: Callable[[int], Any]) -> list[BaseException | None]:
    barrier = threading.Barrier(count)
    errors: list[BaseException | None] = [None] * count

    def worker(i: int) -> None:
        try:
            barrier.wait(timeout=20)
            call(i)
        except BaseException as exc:
            errors[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,), name=f"device-{i}") for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a device hung (deadlock?)"
    return errors


def quantities() -> dict[str, int]:
    return dict(CartLine.objects.filter(cart__user_id=CUSTOMER.user_id).values_list("sku", "quantity"))


def test_20_devices_adding_one_of_the_same_sku_give_20(skus: Callable[[int], list[str]]) -> None:
    (tee,) = skus(1)
    errors = run_at_once(THREADS, lambda i: services.add_line(owner=CUSTOMER, sku=tee, quantity=1))
    assert errors == [None] * THREADS
    assert quantities() == {tee: THREADS}
    assert Cart.objects.get(user_id=CUSTOMER.user_id).version == THREADS  # one bump per change


def test_20_devices_adding_different_skus_give_20_lines(skus: Callable[[int], list[str]]) -> None:
    many = skus(THREADS)
    errors = run_at_once(THREADS, lambda i: services.add_line(owner=CUSTOMER, sku=many[i], quantity=1))
    assert errors == [None] * THREADS
    assert quantities() == dict.fromkeys(many, 1)
    assert Cart.objects.filter(user_id=CUSTOMER.user_id).count() == 1  # the first add's race made one cart


def test_the_line_limit_holds_under_the_race(skus: Callable[[int], list[str]], settings: Any) -> None:
    settings.SHOP_CART_MAX_LINES = 5
    many = skus(THREADS)
    errors = run_at_once(THREADS, lambda i: services.add_line(owner=CUSTOMER, sku=many[i], quantity=1))
    assert len(quantities()) == 5
    assert sum(isinstance(e, CartFull) for e in errors) == THREADS - 5
    assert all(e is None or isinstance(e, CartFull) for e in errors)


def _naive_add(cart_id: int, sku: str) -> None:
    """Read the line, add in Python, write it back: the lost-update bug the service avoids."""
    with transaction.atomic(using=alias_for_context("cart")):
        line = CartLine.objects.get(cart_id=cart_id, sku=sku)
        quantity = line.quantity
        threading.Event().wait(0.01)  # the window every real request has between read and write
        CartLine.objects.filter(pk=line.pk).update(quantity=quantity + 1)


def test_the_check_catches_a_naive_read_then_write_add(skus: Callable[[int], list[str]]) -> None:
    (tee,) = skus(1)
    services.add_line(owner=CUSTOMER, sku=tee, quantity=1)
    cart = Cart.objects.get(user_id=CUSTOMER.user_id)
    errors = run_at_once(THREADS, lambda i: _naive_add(cart.pk, tee))
    assert errors == [None] * THREADS
    assert quantities()[tee] < 1 + THREADS  # lines were lost: the check above would have failed
