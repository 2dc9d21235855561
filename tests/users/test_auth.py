"""Register, log in, refresh with rotation, log out: what a client of /api/v1/auth sees."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from django.conf import settings

from shop.users.models import User
from shop.web.jwt_keys import load_private_key
from tests.factories import UserFactory
from tests.helpers import outbox

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/auth/register/"
TOKEN = "/api/v1/auth/token/"
REFRESH = "/api/v1/auth/token/refresh/"
LOGOUT = "/api/v1/auth/logout/"
GOOD_PASSWORD = "a-long-enough-pass-42"


def test_register_then_login_then_me(api_client, login):
    response = api_client.post(
        REGISTER, {"email": " New@Example.COM ", "password": GOOD_PASSWORD, "full_name": "New Person"}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["email"] == "new@example.com"
    assert "password" not in body
    client = login(User.objects.get(email="new@example.com"), GOOD_PASSWORD)
    me = client.get("/api/v1/users/me/")
    assert me.status_code == 200
    assert me.json() == {
        "id": body["id"],
        "email": "new@example.com",
        "full_name": "New Person",
        "date_joined": body["date_joined"],
    }


def test_registration_publishes_user_registered_with_what_an_email_needs(api_client):
    api_client.post(REGISTER, {"email": "evt@example.com", "password": GOOD_PASSWORD, "full_name": "Eve"})
    user = User.objects.get(email="evt@example.com")
    event = outbox("users").get(topic="users.UserRegistered")
    assert event.payload["user_id"] == user.pk
    assert event.payload["email"] == "evt@example.com"
    assert event.payload["full_name"] == "Eve"
    assert GOOD_PASSWORD not in str(event.payload)


def test_login_email_is_case_insensitive(api_client):
    UserFactory(email="mixed@example.com")
    response = api_client.post(TOKEN, {"email": "MIXED@example.com", "password": UserFactory.PASSWORD})
    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}


def test_duplicate_email_is_a_conflict_and_creates_nothing(api_client):
    UserFactory(email="taken@example.com")
    response = api_client.post(REGISTER, {"email": "Taken@example.com", "password": GOOD_PASSWORD})
    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "email_taken"
    assert User.objects.filter(email="taken@example.com").count() == 1


@pytest.mark.parametrize("password", ["short", "1234567890123", "password123"])
def test_weak_passwords_are_refused(api_client, password):
    response = api_client.post(REGISTER, {"email": "weak@example.com", "password": password})
    assert response.status_code == 400
    assert response.json()["code"] == "weak_password"
    assert not User.objects.filter(email="weak@example.com").exists()


@pytest.mark.parametrize(
    "extra",
    [{"is_staff": True}, {"is_superuser": True}, {"id": 999}, {"date_joined": "2001-01-01T00:00:00Z"}],
)
def test_clients_cannot_set_privileged_fields_at_registration(api_client, extra):
    response = api_client.post(REGISTER, {"email": "sneaky@example.com", "password": GOOD_PASSWORD, **extra})
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert set(response.json()["errors"]) == set(extra)
    assert not User.objects.filter(email="sneaky@example.com").exists()


def test_wrong_password_is_401_problem(api_client):
    UserFactory(email="someone@example.com")
    response = api_client.post(TOKEN, {"email": "someone@example.com", "password": "not-the-password"})
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_access_token_lives_15_minutes_and_is_signed_with_the_private_key(api_client):
    UserFactory(email="jwt@example.com")
    access = api_client.post(TOKEN, {"email": "jwt@example.com", "password": UserFactory.PASSWORD}).json()["access"]
    public_key = load_private_key(settings.SHOP_JWT_PRIVATE_KEY).public_key()
    claims = jwt.decode(access, public_key, algorithms=["EdDSA"])
    assert timedelta(seconds=claims["exp"] - claims["iat"]) == timedelta(minutes=15)
    with pytest.raises(jwt.InvalidAlgorithmError):
        jwt.decode(access, settings.SECRET_KEY, algorithms=["HS256"])


def test_a_token_forged_with_secret_key_is_rejected(api_client):
    user = UserFactory()
    forged = jwt.encode(
        {"token_type": "access", "user_id": user.pk, "exp": 9999999999, "jti": "x"},
        settings.SECRET_KEY,
        algorithm="HS256",
    )
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {forged}")
    response = api_client.get("/api/v1/users/me/")
    assert response.status_code == 401


def test_refresh_rotates_and_a_reused_refresh_token_is_rejected(api_client):
    UserFactory(email="rot@example.com")
    first = api_client.post(TOKEN, {"email": "rot@example.com", "password": UserFactory.PASSWORD}).json()
    rotated = api_client.post(REFRESH, {"refresh": first["refresh"]})
    assert rotated.status_code == 200
    assert rotated.json()["refresh"] != first["refresh"]
    replay = api_client.post(REFRESH, {"refresh": first["refresh"]})
    assert replay.status_code == 401
    assert replay["Content-Type"] == "application/problem+json"
    assert api_client.post(REFRESH, {"refresh": rotated.json()["refresh"]}).status_code == 200


def test_logout_blacklists_the_refresh_token(api_client):
    UserFactory(email="bye@example.com")
    pair = api_client.post(TOKEN, {"email": "bye@example.com", "password": UserFactory.PASSWORD}).json()
    assert api_client.post(LOGOUT, {"refresh": pair["refresh"]}).status_code == 204
    assert api_client.post(REFRESH, {"refresh": pair["refresh"]}).status_code == 401
    again = api_client.post(LOGOUT, {"refresh": pair["refresh"]})
    assert again.status_code == 400
    assert again.json()["code"] == "invalid_refresh_token"


def test_inactive_users_cannot_log_in(api_client):
    UserFactory(email="gone@example.com", is_active=False)
    response = api_client.post(TOKEN, {"email": "gone@example.com", "password": UserFactory.PASSWORD})
    assert response.status_code == 401


def test_the_acting_user_does_not_leak_into_the_next_request(api_client, login):
    """A worker thread serves many requests: an anonymous one must not act as the previous user."""
    from shop.kernel import context as call_context

    client = login(UserFactory())
    assert client.get("/api/v1/users/me/").status_code == 200
    assert call_context.acting_user_id.get() is None
    assert api_client.get("/api/v1/users/me/").status_code == 401
    assert call_context.acting_user_id.get() is None
