"""Lists are bounded: no client can ask for more than ``MAX_PAGE_SIZE`` rows at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from shop.kernel.problems import PROBLEM_CONTENT_TYPE
from shop.web.pagination import MAX_PAGE_SIZE, NewestFirstCursorPagination, PagePagination
from tests.factories import AddressFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/users/me/addresses/"
TOTAL = 130


@pytest.fixture
def client_with_many_addresses(make_user: Callable[..., Any], login: Callable[..., APIClient]) -> APIClient:
    user = make_user()
    AddressFactory.create_batch(TOTAL, user=user)
    AddressFactory.create_batch(3)  # someone else's: never counted
    return login(user)


@pytest.mark.parametrize(
    ("query", "expected"),
    [("", 20), ("?page_size=5", 5), ("?page_size=100", 100), ("?page_size=1000", MAX_PAGE_SIZE), ("?page_size=0", 20)],
)
def test_page_size_is_capped(client_with_many_addresses: APIClient, query: str, expected: int) -> None:
    response = client_with_many_addresses.get(URL + query)
    assert response.status_code == 200
    body = response.json()
    assert len(body["results"]) == expected
    assert body["count"] == TOTAL
    assert body["next"] is not None


def test_the_last_page_holds_the_rest_and_a_page_past_it_is_a_problem_404(
    client_with_many_addresses: APIClient,
) -> None:
    last = client_with_many_addresses.get(URL + "?page_size=1000&page=2").json()
    assert len(last["results"]) == TOTAL - MAX_PAGE_SIZE
    assert last["next"] is None

    past = client_with_many_addresses.get(URL + "?page_size=1000&page=3")
    assert past.status_code == 404
    assert past["Content-Type"] == PROBLEM_CONTENT_TYPE
    assert past.json()["code"] == "not_found"


@pytest.mark.urls("tests.web.urls")
def test_cursor_pages_are_capped_and_walk_every_row_once(client_with_many_addresses: APIClient) -> None:
    response = client_with_many_addresses.get("/test/cursor-addresses/?page_size=1000")
    first = response.json()
    assert len(first["results"]) == MAX_PAGE_SIZE
    rest = client_with_many_addresses.get(first["next"]).json()
    assert rest["next"] is None
    ids = [row["id"] for row in first["results"] + rest["results"]]
    assert len(ids) == len(set(ids)) == TOTAL


def test_every_pagination_class_of_the_edge_is_bounded(settings: Any) -> None:
    """A new pagination class must keep the cap, or a client could page the whole table in one go."""
    assert settings.REST_FRAMEWORK["DEFAULT_PAGINATION_CLASS"] == "shop.web.pagination.PagePagination"
    for pagination in (PagePagination, NewestFirstCursorPagination):
        assert pagination.max_page_size == MAX_PAGE_SIZE <= 100
        assert pagination.page_size <= MAX_PAGE_SIZE
