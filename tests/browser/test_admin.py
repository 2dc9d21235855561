"""Staff in a browser: signing in through the admin's form (``login_to_admin``, the entry point for
every admin browser test) and the admin's "View site" link."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from shop.users.models import User
from tests.browser.conftest import login_to_admin

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_view_site_opens_the_landing_page(page: Any, console_errors: list[str]) -> None:
    User.objects.create_superuser("staff@example.com", "staff-pass-123456")
    login_to_admin(page, email="staff@example.com", password="staff-pass-123456")

    page.get_by_role("link", name="View site").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("shop")
    page.get_by_role("link", name="Admin").click()  # and back, still signed in
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    assert console_errors == []
