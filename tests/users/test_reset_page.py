"""The built-in password-reset page the reset email links to: the link opens a form, the form sets
the password (once, by the password rules, CSRF-protected), and the link is built from
``SHOP_PUBLIC_URL`` unless a storefront's own page is configured. Chromium drives it in tests/browser/."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client, TestCase
from rest_framework.test import APIClient

from shop.registry.router import alias_for_context
from tests.factories import UserFactory
from tests.helpers import outbox

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-brand-new-pass-77"
BROWSER = "text/html,application/xhtml+xml,*/*;q=0.8"


def reset_url_for(email: str) -> str:
    """Ask for a reset and run what its commit starts (the users worker's follow-up, eager here)."""
    with TestCase.captureOnCommitCallbacks(using=alias_for_context("users"), execute=True):
        response = APIClient().post("/api/v1/auth/password-reset/", {"email": email}, format="json")
    assert response.status_code == 202
    payload = outbox("users").filter(topic="users.PasswordResetRequested").latest("created_at").payload
    return str(payload["reset_url"])


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def fields(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def browser() -> Client:
    return Client(enforce_csrf_checks=True, HTTP_ACCEPT=BROWSER)


def submit(client: Client, url: str, password: str, again: str | None = None) -> Any:
    form = client.get(path_of(url))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.content.decode())
    assert token, form.content.decode()
    return client.post(
        urlsplit(url).path,
        {
            "csrfmiddlewaretoken": token.group(1),
            **fields(url),
            "new_password": password,
            "new_password_again": password if again is None else again,
        },
    )


def logs_in(email: str, password: str) -> bool:
    response = APIClient().post("/api/v1/auth/token/", {"email": email, "password": password}, format="json")
    return bool(response.status_code == 200)


def test_the_link_is_the_built_in_page_on_the_public_url(settings: Any) -> None:
    settings.SHOP_PUBLIC_URL = "http://127.0.0.1:8310"
    UserFactory(email="ada@example.com")

    url = reset_url_for("ada@example.com")

    assert url.startswith("http://127.0.0.1:8310/account/reset-password/?uid="), url
    assert set(fields(url)) == {"uid", "token"}


def test_a_storefront_page_replaces_the_built_in_one(settings: Any) -> None:
    settings.SHOP_PASSWORD_RESET_URL = "https://www.example.com/account/new-password#{uid}/{token}"
    UserFactory(email="ada@example.com")

    url = reset_url_for("ada@example.com")

    assert re.fullmatch(r"https://www\.example\.com/account/new-password#[^/]+/[0-9a-z]+-[0-9a-f]{32}", url), url


def test_the_link_opens_a_form_that_sets_the_password_once() -> None:
    user = UserFactory(email="ada@example.com")
    url = reset_url_for(user.email)
    client = browser()

    form = client.get(path_of(url))
    assert form.status_code == 200 and form["Content-Type"] == "text/html; charset=utf-8"
    assert "Choose a new password" in form.content.decode()
    assert form["Cache-Control"] == "no-store"  # the token stays out of caches

    done = submit(client, url, NEW_PASSWORD)

    assert done.status_code == 200
    assert "Your password is changed" in done.content.decode()
    assert logs_in(user.email, NEW_PASSWORD)
    assert not logs_in(user.email, UserFactory.PASSWORD)
    used = browser().get(path_of(url))
    assert used.status_code == 400 and "This link no longer works" in used.content.decode()


def test_two_different_passwords_are_refused_and_nothing_changes() -> None:
    user = UserFactory(email="ada@example.com")
    url = reset_url_for(user.email)

    answer = submit(browser(), url, NEW_PASSWORD, again="something-else-entirely-1")

    assert answer.status_code == 400
    assert "The two passwords are not the same." in answer.content.decode()
    assert logs_in(user.email, UserFactory.PASSWORD)


def test_a_weak_password_is_refused_with_the_rules_reason() -> None:
    user = UserFactory(email="ada@example.com")
    url = reset_url_for(user.email)

    answer = submit(browser(), url, "1234567890")

    assert answer.status_code == 400
    assert "entirely numeric" in answer.content.decode()
    assert logs_in(user.email, UserFactory.PASSWORD)
    assert "Choose a new password" in answer.content.decode()  # the form again, the link still good


@pytest.mark.parametrize(
    "query",
    [
        "",
        "uid=MQ&token=nope",
        "uid=%%%&token=abc-0123",
        "uid=OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk&token=abc-0123",  # 99999999999999999999 (past bigint)
        "uid=LTE&token=abc-0123",  # -1
    ],
)
def test_a_bad_link_is_a_clear_page_never_a_500(query: str) -> None:
    page = browser().get(f"/account/reset-password/?{query}")
    assert page.status_code == 400
    assert "This link no longer works" in page.content.decode()


def test_the_form_needs_its_csrf_token() -> None:
    user = UserFactory(email="ada@example.com")
    url = reset_url_for(user.email)

    forged = browser().post(
        urlsplit(url).path, {**fields(url), "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD}
    )

    assert forged.status_code == 403
    assert logs_in(user.email, UserFactory.PASSWORD)
