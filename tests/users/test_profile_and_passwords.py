"""Profile, password change and password reset, as the account owner experiences them."""

from __future__ import annotations

import re

import pytest

from shop.registry.router import alias_for_context
from shop.users.models import User
from tests.factories import UserFactory
from tests.helpers import outbox

pytestmark = pytest.mark.django_db

ME = "/api/v1/users/me/"
CHANGE = "/api/v1/users/me/password/"
RESET = "/api/v1/auth/password-reset/"
CONFIRM = "/api/v1/auth/password-reset/confirm/"
NEW_PASSWORD = "brand-new-passphrase-77"


def test_patch_full_name(login):
    user = UserFactory(full_name="Old Name")
    response = login(user).patch(ME, {"full_name": "New Name"})
    assert response.status_code == 200
    assert response.json()["full_name"] == "New Name"
    user.refresh_from_db()
    assert user.full_name == "New Name"


def test_email_change_needs_the_current_password(login):
    user = UserFactory(email="before@example.com")
    client = login(user)
    refused = client.patch(ME, {"email": "after@example.com"})
    assert refused.status_code == 403
    assert refused.json()["code"] == "wrong_password"
    wrong = client.patch(ME, {"email": "after@example.com", "current_password": "nope-nope-nope"})
    assert wrong.status_code == 403
    user.refresh_from_db()
    assert user.email == "before@example.com"
    ok = client.patch(ME, {"email": "After@example.com", "current_password": UserFactory.PASSWORD})
    assert ok.status_code == 200
    assert ok.json()["email"] == "after@example.com"


def test_email_change_to_a_taken_email_is_a_conflict(login):
    UserFactory(email="other@example.com")
    user = UserFactory(email="mine@example.com")
    response = login(user).patch(ME, {"email": "other@example.com", "current_password": UserFactory.PASSWORD})
    assert response.status_code == 409
    assert response.json()["code"] == "email_taken"


@pytest.mark.parametrize(
    "field,value",
    [
        ("is_staff", True),
        ("is_superuser", True),
        ("id", 12345),
        ("date_joined", "2000-01-01T00:00:00Z"),
        ("password", "x-new-password-123"),
    ],
)
def test_clients_cannot_set_privileged_fields_on_me(login, field, value):
    user = UserFactory()
    before = User.objects.values().get(pk=user.pk)
    response = login(user).patch(ME, {field: value})
    assert response.status_code == 400
    assert field in response.json()["errors"]
    after = User.objects.values().get(pk=user.pk)
    after.pop("last_login"), before.pop("last_login")
    assert after == before


def test_me_needs_authentication(api_client):
    response = api_client.get(ME)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_change_password_revokes_other_sessions_and_returns_a_fresh_pair(login, api_client):
    user = UserFactory()
    laptop = login(user)
    phone = login(user)
    wrong = laptop.post(CHANGE, {"current_password": "wrong-wrong-wrong", "new_password": NEW_PASSWORD})
    assert wrong.status_code == 403
    response = laptop.post(CHANGE, {"current_password": UserFactory.PASSWORD, "new_password": NEW_PASSWORD})
    assert response.status_code == 200
    fresh = response.json()
    # Every refresh token issued before the change is dead, on every device.
    for old in (laptop.tokens["refresh"], phone.tokens["refresh"]):
        assert api_client.post("/api/v1/auth/token/refresh/", {"refresh": old}).status_code == 401
    # Outstanding access tokens are revoked too (they carry a hash of the old password).
    assert phone.get(ME).status_code == 401
    # The fresh pair works.
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {fresh['access']}")
    assert api_client.get(ME).status_code == 200
    assert api_client.post("/api/v1/auth/token/", {"email": user.email, "password": NEW_PASSWORD}).status_code == 200


def test_change_password_enforces_the_password_rules(login):
    user = UserFactory()
    response = login(user).post(CHANGE, {"current_password": UserFactory.PASSWORD, "new_password": "123"})
    assert response.status_code == 400
    assert response.json()["code"] == "weak_password"
    user.refresh_from_db()
    assert user.check_password(UserFactory.PASSWORD)


@pytest.fixture
def ask_reset(api_client, django_capture_on_commit_callbacks):
    """POST a reset request and run what its commit starts: the users worker's follow-up (eager here)."""

    def ask(email: str):
        with django_capture_on_commit_callbacks(using=alias_for_context("users"), execute=True):
            return api_client.post(RESET, {"email": email})

    return ask


def _reset_link(email: str) -> tuple[str, str]:
    payload = outbox("users").filter(topic="users.PasswordResetRequested").latest("created_at").payload
    assert payload["email"] == email
    match = re.search(r"uid=([^&]+)&token=([^&]+)", payload["reset_url"])
    assert match
    return match.group(1), match.group(2)


def test_reset_request_answers_the_same_whether_or_not_the_account_exists(api_client, ask_reset):
    UserFactory(email="known@example.com")
    known = api_client.post(RESET, {"email": "known@example.com"})
    unknown = api_client.post(RESET, {"email": "Unknown@example.com"})
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    # The request only hands the address to the users worker, whatever it is.
    asked = list(outbox("users").order_by("created_at").values_list("topic", "payload"))
    assert [(t, p["email"]) for t, p in asked] == [
        ("users.PasswordResetAsked", "known@example.com"),
        ("users.PasswordResetAsked", "unknown@example.com"),
    ]

    for email in ("known@example.com", "unknown@example.com"):
        assert ask_reset(email).status_code == 202
    links = list(outbox("users").filter(topic="users.PasswordResetRequested").values_list("payload", flat=True))
    assert [link["email"] for link in links] == ["known@example.com"]


def test_reset_emails_per_account_are_capped_silently(ask_reset, settings):
    """A stranger asking again and again neither floods the customer's mailbox nor gets a refusal
    that the customer's own request would share."""
    settings.SHOP_PASSWORD_RESET_EMAILS_PER_HOUR = 2
    UserFactory(email="popular@example.com")
    answers = [ask_reset("popular@example.com").status_code for _ in range(4)]
    assert answers == [202] * 4
    assert outbox("users").filter(topic="users.PasswordResetRequested").count() == 2


def test_reset_confirm_sets_the_password_once(api_client, ask_reset):
    user = UserFactory(email="forgot@example.com")
    ask_reset("forgot@example.com")
    uid, token = _reset_link("forgot@example.com")
    response = api_client.post(CONFIRM, {"uid": uid, "token": token, "new_password": NEW_PASSWORD})
    assert response.status_code == 204
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    again = api_client.post(CONFIRM, {"uid": uid, "token": token, "new_password": "yet-another-pass-99"})
    assert again.status_code == 400
    assert again.json()["code"] == "invalid_reset_token"
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_reset_token_expires(api_client, ask_reset, settings):
    UserFactory(email="late@example.com")
    ask_reset("late@example.com")
    uid, token = _reset_link("late@example.com")
    settings.PASSWORD_RESET_TIMEOUT = -1
    response = api_client.post(CONFIRM, {"uid": uid, "token": token, "new_password": NEW_PASSWORD})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_reset_token"


@pytest.mark.parametrize("uid,token", [("garbage", "garbage"), ("MQ", "abc-def"), ("", "x")])
def test_reset_confirm_with_a_bad_token_changes_nothing(api_client, uid, token):
    user = UserFactory()
    response = api_client.post(CONFIRM, {"uid": uid, "token": token, "new_password": NEW_PASSWORD})
    assert response.status_code == 400
    user.refresh_from_db()
    assert user.check_password(UserFactory.PASSWORD)
