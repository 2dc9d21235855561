"""Every email renders, in text and HTML, with the sample data staff preview it with; and the admin's
preview pages show them. No broker, no SMTP: rendering only."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from html import escape
from typing import Any

import pytest
from django.test import Client

from shop.notifications import api
from shop.notifications.services import EMAILS, Samples, render

MISSING = "!!MISSING:%s!!"
ORDER = Samples.order
NUMBER = ORDER["number"]
ORDER_PAGE = ORDER["url"]  # the signed order-status link (a sample here)
WITH_LINES = {"order_confirmation", "payment_receipt", "order_shipped"}

# What each email must say, besides the greeting and the footer every one has.
KEY_DATA: dict[str, list[str]] = {
    "welcome": ["Welcome to shop", "ada@example.com"],
    "password_reset": [Samples.context(api.Kind.PASSWORD_RESET)["reset_url"], "60 minutes", "ada@example.com"],
    "order_confirmation": [
        NUMBER,
        "24 Nov 2026, 12:30 UTC",
        "Ada Lovelace, 12 Analytical Row, W1 2AB London, GB",
        ORDER_PAGE,
        "€59.90",
        "€11.98",
        "€71.88",
    ],
    "payment_receipt": [NUMBER, "€71.88", ORDER_PAGE],
    "payment_failed": [NUMBER, "€71.88", "the card was declined", ORDER_PAGE],
    "order_shipped": [NUMBER, "DHL", "JD014600006281", ORDER_PAGE],
    "order_cancelled": [NUMBER, "you asked us to", "Your payment will be refunded.", ORDER_PAGE],
    "order_refunded": [NUMBER, "€71.88", ORDER_PAGE],
    "order_partially_refunded": [NUMBER, "€9.90", ORDER_PAGE],
}


@pytest.fixture(autouse=True)
def _loud_missing_variables(settings: Any) -> None:
    """A variable the template uses but the context lacks shows up instead of rendering as ''."""
    templates = copy.deepcopy(settings.TEMPLATES)
    for engine in templates:
        engine.setdefault("OPTIONS", {})["string_if_invalid"] = MISSING
    settings.TEMPLATES = templates


def test_every_kind_has_a_subject_and_sample_data() -> None:
    assert set(EMAILS) == set(api.Kind) == set(KEY_DATA)  # one entry per kind, and its key data


@pytest.mark.parametrize("kind", api.KINDS)
def test_every_kind_renders_in_text_and_html(kind: str) -> None:
    rendered = render(kind, Samples.context(kind))

    assert rendered.subject == EMAILS[kind].subject.format(shop_name="shop", number=NUMBER)
    assert rendered.text.startswith("Hello Ada Lovelace,\n")
    assert rendered.html.startswith("<!doctype html>") and rendered.html.rstrip().endswith("</html>")
    assert f"<title>{rendered.subject}</title>" in rendered.html
    assert "<p>Hello Ada Lovelace,</p>" in rendered.html
    assert "<p>" not in rendered.text and "&lt;" not in rendered.text and "&#x27;" not in rendered.text
    for body in (rendered.text, rendered.html):
        assert "{{" not in body and "}}" not in body and "{%" not in body and "%}" not in body, body
        assert "!!MISSING" not in body, body
        assert "None" not in body, body
        for expected in KEY_DATA[kind]:
            assert expected in body, f"{kind}: {expected!r} missing from\n{body}"
        assert "http://127.0.0.1:8000" in body  # the shop's link in the footer (SHOP_PUBLIC_URL)


@pytest.mark.parametrize("kind", sorted(WITH_LINES))
def test_order_emails_list_every_line(kind: str) -> None:
    rendered = render(kind, Samples.context(kind))

    for line in ORDER["lines"]:
        variant = f" ({line['variant']})" if line["variant"] else ""
        assert (
            f"- {line['quantity']} x {line['name']}{variant} [{line['sku']}] at {line['unit_price']} = {line['total']}"
        ) in rendered.text
        assert f"<td>{line['name']}{variant}<br><small>{line['sku']}</small></td>" in rendered.html
        assert (
            f'<td align="right">{line["quantity"]}</td><td align="right">{line["unit_price"]}</td>'
            f'<td align="right">{line["total"]}</td>'
        ) in rendered.html
    assert f"Total:    {ORDER['total']}" in rendered.text
    assert f"<strong>{ORDER['total']}</strong>" in rendered.html


def test_customer_supplied_text_is_escaped_in_html_only() -> None:
    """Names come from customers (and product names from staff): HTML escapes them, text keeps them."""
    hostile = "<script>alert('x')</script> & Co"
    context = Samples.context(api.Kind.ORDER_CONFIRMATION)
    context["full_name"] = hostile
    context["order"] = {**ORDER, "lines": [{**ORDER["lines"][0], "name": hostile}]}

    rendered = render("order_confirmation", context)

    assert "<script>" not in rendered.html
    assert escape(hostile) in rendered.html
    assert f"Hello {hostile}," in rendered.text
    assert f"x {hostile} (M / Navy)" in rendered.text


# --- the admin's previews ------------------------------------------------------------------------------
PREVIEW = "/admin/notifications/notification/preview/"


@pytest.fixture
def previews(db: None, staff_client: Client) -> Iterator[Client]:
    yield staff_client


def test_the_preview_index_links_every_kind(previews: Client) -> None:
    changelist = previews.get("/admin/notifications/notification/")
    assert changelist.status_code == 200
    assert 'href="preview/"' in changelist.content.decode()

    index = previews.get(PREVIEW)

    assert index.status_code == 200
    page = index.content.decode()
    assert "Email previews" in page
    for kind in api.KINDS:
        assert f'<a href="{kind}/">{kind.replace("_", " ")}</a>' in page


@pytest.mark.parametrize("kind", api.KINDS)
def test_each_preview_shows_subject_text_and_html(previews: Client, kind: str) -> None:
    rendered = render(kind, Samples.context(kind))

    response = previews.get(f"{PREVIEW}{kind}/")

    assert response.status_code == 200
    page = response.content.decode()
    assert f"Subject: {escape(rendered.subject)}" in page
    assert escape(rendered.text) in page  # the text part, shown as text
    assert "<iframe sandbox=" in page and KEY_DATA[kind][0] in page.split("<iframe sandbox=", 1)[1]
    assert "!!MISSING" not in page


def test_the_html_preview_stays_inside_its_sandboxed_frame(previews: Client) -> None:
    """The email's HTML must be the frame's ``srcdoc`` attribute, escaped: unescaped, its first quote
    ends the attribute and the rest of the email becomes part of the admin page, outside the sandbox."""
    rendered = render("order_confirmation", Samples.context(api.Kind.ORDER_CONFIRMATION))

    page = previews.get(f"{PREVIEW}order_confirmation/").content.decode()

    assert f'srcdoc="{escape(rendered.html)}"' in page
    assert "<p>Hello Ada Lovelace,</p>" not in page


def test_previews_are_for_staff_only(previews: Client) -> None:
    assert previews.get(f"{PREVIEW}no_such_kind/").status_code == 404
    anonymous = Client()
    for url in (PREVIEW, f"{PREVIEW}welcome/"):
        response = anonymous.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
