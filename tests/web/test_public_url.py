"""One public base URL drives every absolute link: with ``SHOP_PUBLIC_URL`` at port 8310 (what
``make run PORT=8310`` sets), every link in every email of the journey and the 3-D Secure
``next_action_url`` point at port 8310, and each of them opens (no 404 behind any link)."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.test import Client
from rest_framework.test import APIClient

from shop.notifications import api as notifications_api
from shop.orders.models import Order
from shop.orders.services import lifecycle
from shop.users.models import User
from tests.orders.conftest import client_of, fill_cart, place
from tests.orders.conftest import stocked as stocked  # noqa: PLC0414  (a fixture)
from tests.payments.conftest import pay

ROOT = Path(__file__).resolve().parents[2]
PUBLIC = "http://127.0.0.1:8310"
LINK = re.compile(r"https?://[^\s\"'<>]+")
STAFF = lifecycle.Actor(kind="staff", id=1)
BROWSER = "text/html,application/xhtml+xml,*/*;q=0.8"


def links(message: Any) -> list[str]:
    html = message.alternatives[0][0]
    return LINK.findall(message.body) + [unescape(url) for url in LINK.findall(html)]


def opens(url: str) -> int:
    parts = urlsplit(url)
    path = f"{parts.path}?{parts.query}" if parts.query else parts.path
    return int(Client(HTTP_ACCEPT=BROWSER).get(path).status_code)


@pytest.mark.django_db(transaction=True)  # events are relayed on commit, as in production
def test_every_link_of_the_journey_is_on_the_public_url(stocked: Callable[..., list[str]], settings: Any) -> None:
    settings.SHOP_PUBLIC_URL = PUBLIC
    settings.SHOP_PAYMENT_GATEWAY = "simulated"
    email = "ada@example.com"
    assert (
        APIClient()
        .post("/api/v1/auth/register/", {"email": email, "password": "a-long-pass-phrase-42"}, format="json")
        .status_code
        == 201
    )
    assert APIClient().post("/api/v1/auth/password-reset/", {"email": email}, format="json").status_code == 202
    customer = User.objects.get(email=email)
    client = client_of(customer)
    skus = stocked(2)

    fill_cart(customer, [skus[0]], quantity=2)
    first = Order.objects.get(pk=place(client).json()["id"])
    pay(client, first, "tok_decline")
    waiting = pay(client, first, "tok_requires_action").json()["payment"]
    next_action = waiting["next_action_url"]
    assert next_action.startswith(f"{PUBLIC}/payments/authenticate/"), next_action
    assert opens(next_action) == 200
    reference = next_action.rstrip("/").rsplit("/", 1)[1]
    approved = APIClient().post(
        f"/api/v1/payments/simulated/authenticate/{reference}/", {"approve": True}, format="json"
    )
    assert approved.status_code == 200, approved.content
    lifecycle.fulfil(order_id=first.pk, carrier="DHL", tracking_number="JD0146", actor=STAFF)
    lifecycle.refund(order_id=first.pk, actor=STAFF)

    fill_cart(customer, [skus[1]])
    second = place(client).json()["id"]
    assert client.post(f"/api/v1/orders/{second}/cancel/").status_code == 200

    kinds = {m.extra_headers["Message-ID"] for m in mail.outbox}
    assert len(kinds) == len(mail.outbox) >= len(notifications_api.KINDS)  # every kind, each once
    seen: set[str] = set()
    for message in mail.outbox:
        found = links(message)
        assert found, message.subject
        for url in found:
            assert url.startswith(f"{PUBLIC}/"), f"{message.subject}: {url}"
            seen.add(url)
        assert ":8000" not in message.body + message.alternatives[0][0], message.subject
    assert {urlsplit(url).path.split("/")[1] for url in seen} == {"", "account", "orders"}
    for url in seen:  # the start page, the reset page and each order-status page open
        assert opens(url) == 200, url


def test_make_run_derives_the_public_url_from_host_and_port() -> None:
    def dry_run(*args: str) -> str:
        result = subprocess.run(
            ["make", "-n", "run", *args], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
        )
        (serve,) = [line for line in result.stdout.splitlines() if "runserver" in line]
        return serve

    assert dry_run("PORT=8310").startswith("SHOP_PUBLIC_URL=http://127.0.0.1:8310 ")
    assert dry_run("HOST=0.0.0.0", "PORT=8310").startswith("SHOP_PUBLIC_URL=http://127.0.0.1:8310 ")
    assert dry_run("PORT=8310", "SHOP_PUBLIC_URL=https://shop.example").startswith(
        "SHOP_PUBLIC_URL=https://shop.example "
    )
