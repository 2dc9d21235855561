"""Browser tests: Playwright drives Debian's Chromium (``/usr/bin/chromium``, installed by ``make test``
and ``.ci/run`` with apt-get; never a browser download) against the app served on a real port.

* ``live_server`` (pytest-django) serves the app from a thread on 127.0.0.1, on the test database
  (transactional, so both sides see each other's writes); ``public_url`` points ``SHOP_PUBLIC_URL`` at
  it, so every link in an email or an API answer opens in the browser.
* ``browser`` is one Chromium per session; ``page`` a fresh context (no cookies) per test, with its
  console errors and CSP violations collected in ``console_errors``.
* ``login_to_admin`` signs a staff member in through the admin's own login form.

Tests here are marked ``browser``: without Chromium they are skipped loudly (the harness's banner),
and with ``SHOP_REQUIRE_SERVICES=1`` a missing Chromium fails the run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

# The live server listens on 127.0.0.1 (not "localhost", which Chromium may try as ::1 first).
os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", "127.0.0.1")

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 15_000


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    executable = os.environ.get("SHOP_CHROMIUM") or "/usr/bin/chromium"
    # Playwright's sync API keeps an event loop running on this thread; the test's own ORM calls are
    # still synchronous (the app runs in the live server's thread).
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            # launch() gives Chromium a fresh, temporary --user-data-dir of its own.
            chromium = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_FLAGS)
            try:
                yield chromium
            finally:
                chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def public_url(live_server: Any, settings: Any) -> str:
    """The live server's address, as ``SHOP_PUBLIC_URL``: emails and ``next_action_url`` point at it."""
    settings.SHOP_PUBLIC_URL = live_server.url
    return str(live_server.url)


@pytest.fixture
def console_errors() -> list[str]:
    return []


@pytest.fixture
def page(browser: Any, public_url: str, console_errors: list[str]) -> Iterator[Any]:
    """A page in a fresh browser context (no cookies from another test) on the live server."""
    context = browser.new_context(base_url=public_url)
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    tab.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
    tab.on("pageerror", lambda error: console_errors.append(str(error)))
    try:
        yield tab
    finally:
        context.close()


def login_to_admin(page: Any, *, email: str, password: str) -> None:
    """Sign in through the admin's own login form (its CSRF token and session cookie included)."""
    page.goto("/admin/login/?next=/admin/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/")
