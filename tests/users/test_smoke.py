import pytest

pytestmark = pytest.mark.django_db


def test_register_login_me(api_client, login):
    response = api_client.post(
        "/api/v1/auth/register/",
        {"email": "New@Example.com", "password": "a-long-enough-pass-42", "full_name": "New Person"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["email"] == "new@example.com"
    from shop.users.models import User

    client = login(User.objects.get(email="new@example.com"), "a-long-enough-pass-42")
    me = client.get("/api/v1/users/me/")
    assert me.status_code == 200
    assert me.json()["full_name"] == "New Person"
