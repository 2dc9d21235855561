"""Production takes no order for free: with the simulated gateway and no explicit opt-in (a staging
shop), paying answers 503 ``gateway_unavailable`` and nothing is charged or marked paid, even where
``check --deploy`` (which fails on it: tests/web/test_deploy_settings.py) was skipped."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from shop.orders.models import Order
from shop.payments.models import Payment
from tests.helpers import assert_problem
from tests.payments.conftest import pay

pytestmark = pytest.mark.django_db(transaction=True)

OrderFor = Callable[..., tuple[Order, APIClient]]


def test_production_refuses_to_pay_through_the_simulator(order_for: OrderFor, settings: Any) -> None:
    order, client = order_for()
    settings.PRODUCTION = True

    assert_problem(pay(client, order, "tok_success"), 503, "gateway_unavailable")

    order.refresh_from_db()
    assert order.status == "pending_payment"
    assert not Payment.objects.filter(status="succeeded").exists()


def test_a_staging_shop_that_opted_in_pays_through_the_simulator(order_for: OrderFor, settings: Any) -> None:
    order, client = order_for()
    settings.PRODUCTION = True
    settings.SHOP_ALLOW_SIMULATED_GATEWAY = True

    response = pay(client, order, "tok_success")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "paid"
