"""The order-status page behind the emails' "your order" link: signed, expiring, no login, read-only;
it shows status, lines, totals, payment and tracking, and answers a bad or old link with a clear page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core import signing
from django.test import Client

from shop.orders.models import Order
from shop.orders.services import lifecycle, status_page
from tests.contracts.kit import closed_port
from tests.factories import UserFactory
from tests.orders.conftest import ADDRESS, client_of, fill_cart, place

pytestmark = pytest.mark.django_db

BROWSER = "text/html,application/xhtml+xml,*/*;q=0.8"


@pytest.fixture
def order(stocked: Callable[..., list[str]]) -> Order:
    (sku,) = stocked(1, price="12.50")
    customer = UserFactory.create()
    fill_cart(customer, [sku], quantity=2)
    response = place(client_of(customer))
    assert response.status_code == 201, response.content
    return Order.objects.get(pk=response.json()["id"])


def open_page(url: str) -> Any:
    return Client(HTTP_ACCEPT=BROWSER).get(url.removeprefix("http://127.0.0.1:8000"))


def test_the_link_shows_the_order_without_a_login(order: Order) -> None:
    page = open_page(status_page.status_page_url(order_id=order.pk))

    assert page.status_code == 200
    assert page["Content-Type"] == "text/html; charset=utf-8"
    html = page.content.decode()
    assert f"Order {order.number}" in html
    assert "Awaiting payment" in html and "Pay by" in html
    assert "Wool Socks" in html and "Size 0" in html
    assert "25.00 EUR" in html  # the line: 2 x 12.50
    assert f"{order.total_amount} EUR" in html
    assert ADDRESS["line1"] in html and ADDRESS["city"] in html
    assert page["Cache-Control"] == "no-store" and page["X-Robots-Tag"] == "noindex"


def test_a_shipped_order_shows_its_carrier_and_tracking_number(order: Order) -> None:
    lifecycle.mark_paid(order_id=order.pk)
    lifecycle.fulfil(
        order_id=order.pk, carrier="DHL", tracking_number="JD014600006281", actor=lifecycle.Actor(kind="staff", id=None)
    )

    html = open_page(status_page.status_page_url(order_id=order.pk)).content.decode()

    assert "Shipped" in html
    assert "DHL" in html and "JD014600006281" in html


def test_a_tampered_link_is_a_404_page(order: Order) -> None:
    url = status_page.status_page_url(order_id=order.pk)
    token = url.rstrip("/").rsplit("/", 1)[1]
    _, rest = token.split(":", 1)
    forged = f"{signing.b64_encode(str(order.pk + 1).encode()).decode()}:{rest}"  # the next order's id, same signature

    for bad in (forged, token[:-2], "nonsense"):
        page = open_page(f"/orders/status/{bad}/")
        assert page.status_code == 404, bad
        assert page["Content-Type"] == "text/html; charset=utf-8"
        assert "not valid" in page.content.decode()


def test_an_expired_link_says_so(order: Order, settings: Any) -> None:
    url = status_page.status_page_url(order_id=order.pk)
    settings.SHOP_ORDER_STATUS_LINK_TTL_S = 0

    page = open_page(url)

    assert page.status_code == 410
    assert "expired" in page.content.decode()


def test_a_link_from_another_purpose_is_refused(order: Order) -> None:
    """Another signed value of ours (same SECRET_KEY, another salt) does not open an order."""
    page = open_page(f"/orders/status/{signing.dumps(order.pk)}/")
    assert page.status_code == 404


def test_the_page_still_shows_the_order_when_payments_cannot_answer(order: Order, settings: Any) -> None:
    url = status_page.status_page_url(order_id=order.pk)
    down = {"BACKEND": "remote", "URLS": [f"http://127.0.0.1:{closed_port()}"], "TIMEOUT": 0.5}
    settings.SHOP_CONTEXTS = {**settings.SHOP_CONTEXTS, "payments": down}

    page = open_page(url)

    assert page.status_code == 200
    assert f"Order {order.number}" in page.content.decode()
    assert "Cannot be shown right now" in page.content.decode()


def test_the_page_only_reads(order: Order) -> None:
    url = status_page.status_page_url(order_id=order.pk).removeprefix("http://127.0.0.1:8000")
    response = Client().post(url)
    assert response.status_code == 405
    order.refresh_from_db()
    assert order.status == "pending_payment"
