"""The address book: owner-scoped (someone else's address is a 404), bounded, one default."""

from __future__ import annotations

import pytest

from shop.users.api import MAX_ADDRESSES_PER_USER
from shop.users.models import Address
from tests.factories import AddressFactory, UserFactory
from tests.helpers import connection_of

pytestmark = pytest.mark.django_db

LIST = "/api/v1/users/me/addresses/"
ADDRESS = {
    "full_name": "Ada Lovelace",
    "line1": "12 Analytical Row",
    "city": "London",
    "postal_code": "N1 7AA",
    "country": "GB",
}


def detail(address_id: int) -> str:
    return f"{LIST}{address_id}/"


def test_create_list_update_delete(login):
    client = login(UserFactory())
    created = client.post(LIST, ADDRESS)
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["is_default"] is True  # the first address becomes the default
    assert client.get(LIST).json()["results"] == [body]
    patched = client.patch(detail(body["id"]), {"city": "Cambridge"})
    assert patched.status_code == 200
    assert patched.json()["city"] == "Cambridge"
    assert client.delete(detail(body["id"])).status_code == 204
    assert client.get(detail(body["id"])).status_code == 404


def test_one_default_at_a_time(login):
    client = login(UserFactory())
    first = client.post(LIST, ADDRESS).json()
    second = client.post(LIST, {**ADDRESS, "line1": "1 Other St", "is_default": True}).json()
    assert second["is_default"] is True
    assert client.get(detail(first["id"])).json()["is_default"] is False
    client.delete(detail(second["id"]))
    assert client.get(detail(first["id"])).json()["is_default"] is True


@pytest.mark.parametrize("bad", [{"country": "Germany"}, {"country": "de"}, {"postal_code": "x" * 21}, {"city": ""}])
def test_invalid_addresses_are_refused(login, bad):
    client = login(UserFactory())
    response = client.post(LIST, {**ADDRESS, **bad})
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert set(response.json()["errors"]) == set(bad)
    assert Address.objects.count() == 0


def test_clients_cannot_choose_the_owner_or_id(login):
    owner, victim = UserFactory(), UserFactory()
    response = login(owner).post(LIST, {**ADDRESS, "user": victim.pk, "id": 424242})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"user", "id"}
    assert not Address.objects.filter(user=victim).exists()


def test_customer_a_cannot_read_or_change_b_addresses(login):
    a, b = UserFactory(), UserFactory()
    b_address = AddressFactory(user=b, city="Berlin")
    client = login(a)
    for response in (
        client.get(detail(b_address.pk)),
        client.patch(detail(b_address.pk), {"city": "Hacked"}),
        client.delete(detail(b_address.pk)),
    ):
        assert response.status_code == 404  # not 403: others' objects do not exist for you
        assert response.json()["code"] == "not_found"
    assert client.get(LIST).json()["results"] == []
    b_address.refresh_from_db()
    assert b_address.city == "Berlin"


def test_the_address_book_is_bounded(login):
    user = UserFactory()
    AddressFactory.create_batch(MAX_ADDRESSES_PER_USER, user=user)
    response = login(user).post(LIST, ADDRESS)
    assert response.status_code == 409
    assert response.json()["code"] == "address_book_full"
    assert Address.objects.filter(user=user).count() == MAX_ADDRESSES_PER_USER


def test_listing_costs_the_same_queries_for_1_or_20_addresses(login, django_assert_num_queries):
    few, many = UserFactory(), UserFactory()
    AddressFactory(user=few)
    AddressFactory.create_batch(20, user=many)
    few_client, many_client = login(few), login(many)
    # auth user lookup, count, page
    with django_assert_num_queries(3, connection=connection_of("users")):
        assert len(few_client.get(LIST).json()["results"]) == 1
    with django_assert_num_queries(3, connection=connection_of("users")):
        assert len(many_client.get(LIST).json()["results"]) == 20
