"""The ``UsersAPI`` contract, run against the local service and over HTTP (fixture ``binding``).

What a caller sees must not depend on the binding: same DTOs, same order, same error classes
with the same codes and extras.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from shop.registry.transport import codec
from shop.users.api import Address, AddressNotFound, User, UserNotFound, UsersAPI
from shop.users.models import User as UserModel
from shop.users.services import UsersService
from tests.contracts.kit import method_queries, remote_in_process
from tests.factories import AddressFactory, UserFactory
from tests.helpers import connection_of


def _implementations_satisfy_the_protocol() -> None:
    """Never called: mypy checks these assignments, so a signature drifting from ``UsersAPI`` fails CI."""
    impl: UsersAPI = UsersService()
    del impl


def test_implementations_have_the_protocols_signatures() -> None:
    """The runtime twin of the typed helper above (``make`` type-checks ``shop`` only): same
    keyword-only parameters, defaults and resolved types; and the HTTP client exposes every method."""
    client = remote_in_process(UsersAPI)
    for name, declared in codec.public_methods(UsersAPI).items():
        implemented = getattr(UsersService, name)
        assert _shape(implemented) == _shape(declared), name
        assert callable(getattr(client, name))


def _shape(func: Callable[..., Any]) -> tuple[Any, ...]:
    hints = typing.get_type_hints(func)
    params = [(p.name, p.kind, p.default, hints.get(p.name)) for p in inspect.signature(func).parameters.values()]
    return (*params, hints.get("return"))


def _expected_user(user: UserModel) -> User:
    return User(
        id=user.pk,
        email=user.email,
        full_name=user.full_name,
        is_active=user.is_active,
        is_staff=user.is_staff,
        date_joined=user.date_joined,
    )


def test_get_user_round_trips_the_dto(users_api: UsersAPI) -> None:
    user = UserFactory.create(full_name="Ada Lovelace", is_staff=True)

    got = users_api.get_user(user_id=user.pk)

    assert type(got) is User
    assert got == _expected_user(user)
    assert isinstance(got.date_joined, datetime)
    assert got.date_joined.utcoffset() is not None  # aware, same instant


def test_an_unknown_user_is_not_found_and_named_a_user(users_api: UsersAPI) -> None:
    with pytest.raises(UserNotFound) as caught:
        users_api.get_user(user_id=987_654_321)

    assert type(caught.value) is UserNotFound
    assert (caught.value.code, caught.value.resource) == ("not_found", "user")
    assert caught.value.status == 404
    assert caught.value.extra == {"user_id": 987_654_321}


def test_get_users_keeps_the_callers_order_and_skips_missing_ids_in_one_query(users_api: UsersAPI) -> None:
    first, second, third = (UserFactory.create() for _ in range(3))

    with method_queries(connection_of("users"), exactly=1):
        got = users_api.get_users(user_ids=[third.pk, 987_654_321, first.pk, second.pk])

    assert [u.id for u in got] == [third.pk, first.pk, second.pk]
    assert got[0] == _expected_user(third)
    assert all(type(u) is User for u in got)


def test_get_users_of_nothing_is_empty(users_api: UsersAPI) -> None:
    assert users_api.get_users(user_ids=[]) == []
    assert users_api.get_users(user_ids=(987_654_321,)) == []


def test_find_users_by_part_of_the_email_newest_first_and_bounded(users_api: UsersAPI) -> None:
    older = UserFactory.create(email="ada@lovelace.example")
    newer = UserFactory.create(email="ADA.king@lovelace.example")
    UserFactory.create(email="grace@hopper.example")

    got = users_api.find_users(email_contains="LOVELACE")

    assert [u.id for u in got] == [newer.pk, older.pk]
    assert got[1] == _expected_user(older)
    assert [u.id for u in users_api.find_users(email_contains="lovelace", limit=1)] == [newer.pk]
    assert users_api.find_users(email_contains="  ") == []
    assert users_api.find_users(email_contains="nobody@") == []


def test_get_address_of_own_address(users_api: UsersAPI) -> None:
    address = AddressFactory.create(label="home", line2="c/o Babbage", region="BE", phone="+49 30 1234")

    got = users_api.get_address(user_id=address.user_id, address_id=address.pk)

    assert type(got) is Address
    assert got == Address(
        id=address.pk,
        user_id=address.user_id,
        label="home",
        full_name=address.full_name,
        line1=address.line1,
        line2="c/o Babbage",
        city=address.city,
        postal_code=address.postal_code,
        region="BE",
        country="DE",
        phone="+49 30 1234",
        is_default=False,
    )


def test_another_users_address_is_not_found(users_api: UsersAPI) -> None:
    someone_elses = AddressFactory.create()
    me = UserFactory.create()

    with pytest.raises(AddressNotFound) as caught:
        users_api.get_address(user_id=me.pk, address_id=someone_elses.pk)

    assert type(caught.value) is AddressNotFound
    assert (caught.value.code, caught.value.resource) == ("not_found", "address")
    assert caught.value.status == 404
    assert caught.value.extra == {"user_id": me.pk, "address_id": someone_elses.pk}
    assert caught.value == AddressNotFound(user_id=me.pk, address_id=someone_elses.pk)


def test_default_address_is_none_without_one(users_api: UsersAPI) -> None:
    user = UserFactory.create()
    AddressFactory.create(user=user, is_default=False)

    assert users_api.get_default_address(user_id=user.pk) is None
    assert users_api.get_default_address(user_id=987_654_321) is None


def test_default_address_is_the_default_one(users_api: UsersAPI) -> None:
    user = UserFactory.create()
    AddressFactory.create(user=user, is_default=False)
    default = AddressFactory.create(user=user, is_default=True)

    got = users_api.get_default_address(user_id=user.pk)

    assert got is not None
    assert type(got) is Address
    assert (got.id, got.user_id, got.is_default) == (default.pk, user.pk, True)


def test_a_call_outside_the_signature_is_a_type_error_on_the_callers_side(users_api: UsersAPI) -> None:
    with pytest.raises(TypeError):
        users_api.get_user(id=1)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        users_api.get_user()  # type: ignore[call-arg]


def test_calls_run_inside_the_callers_transaction(users_api: UsersAPI) -> None:
    """Over HTTP in-process, the server side must see the test's uncommitted rows, and leave the
    connection usable (the in-process app must not close it when its request ends)."""
    user = UserFactory.create()
    connection = connection_of("users")
    assert connection.in_atomic_block

    assert users_api.get_user(user_id=user.pk).id == user.pk

    assert connection.in_atomic_block
    assert not connection.needs_rollback
    assert UserFactory.create().pk > user.pk  # the connection still works
