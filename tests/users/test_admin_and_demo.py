"""Staff side: the admin works for the seeded admin and never shows a password hash."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client

from shop.users.management.commands.demo_users import ADMIN, CUSTOMER
from shop.users.models import User
from tests.factories import AddressFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent_and_its_logins_work(api_client, capsys):
    call_command("seed_demo")
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert ADMIN[0] in out and ADMIN[1] in out and CUSTOMER[0] in out
    assert User.objects.filter(email__in=[ADMIN[0], CUSTOMER[0]]).count() == 2
    browser = Client()
    assert browser.login(email=ADMIN[0], password=ADMIN[1])
    assert browser.get("/admin/").status_code == 200
    token = api_client.post("/api/v1/auth/token/", {"email": CUSTOMER[0], "password": CUSTOMER[1]})
    assert token.status_code == 200


@pytest.fixture
def staff_browser() -> Client:
    staff = User.objects.create_superuser("staff@example.com", "staff-pass-123456")
    browser = Client()
    browser.force_login(staff)
    return browser


def test_admin_searches_users_by_email(staff_browser):
    UserFactory(email="findme@example.com")
    UserFactory(email="other@example.com")
    page = staff_browser.get("/admin/users/user/", {"q": "findme"}).content.decode()
    assert "findme@example.com" in page
    assert "other@example.com" not in page


def test_admin_user_page_shows_addresses_but_no_password_hash(staff_browser):
    user = UserFactory()
    AddressFactory(user=user, line1="1 Inline Street")
    page = staff_browser.get(f"/admin/users/user/{user.pk}/change/").content.decode()
    assert "1 Inline Street" in page
    assert user.password not in page
    assert user.password.split("$")[-1] not in page
    assert "md5" not in page.lower() and "argon2" not in page.lower()


def test_customers_cannot_enter_the_admin():
    customer = UserFactory()
    browser = Client()
    browser.force_login(customer)
    assert browser.get("/admin/").status_code == 302
