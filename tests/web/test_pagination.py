"""Lists are bounded: no client can ask for more than ``MAX_PAGE_SIZE`` rows at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from shop.web.pagination import MAX_PAGE_SIZE, PagePagination
from tests.factories import AddressFactory
from tests.helpers import assert_problem

pytestmark = pytest.mark.django_db

URL = "/api/v1/users/me/addresses/"
TOTAL = 130


@pytest.fixture
def client_with_many_addresses(make_user: Callable[..., Any], login: Callable[..., APIClient]) -> APIClient:
    user = make_user()
    AddressFactory.create_batch(TOTAL, user=user)
    AddressFactory.create_batch(3)  # someone else's: never counted
    return login(user)


@pytest.mark.parametrize(("query", "expected"), [("", 20), ("?page_size=5", 5), ("?page_size=100", 100)])
def test_page_size_is_honoured_up_to_the_cap(client_with_many_addresses: APIClient, query: str, expected: int) -> None:
    response = client_with_many_addresses.get(URL + query)
    assert response.status_code == 200
    body = response.json()
    assert len(body["results"]) == expected
    assert body["count"] == TOTAL
    assert body["next"] is not None


@pytest.mark.parametrize(
    "query",
    ["page_size=1000", "page_size=0", "page_size=-1", "page_size=abc", "page_size=", "page_size=null&page_size=null"],
)
@pytest.mark.parametrize("url", [URL, "/test/cursor-addresses/"])
@pytest.mark.urls("tests.web.urls")
def test_a_page_size_outside_1_to_100_is_refused_not_silently_replaced(
    client_with_many_addresses: APIClient, url: str, query: str
) -> None:
    """The schema says 1..100; a server that answers 20 rows for ``page_size=abc`` disagrees with it."""
    body = assert_problem(client_with_many_addresses.get(f"{url}?{query}"), 400, "validation_error")
    assert "page_size" in body["errors"]


@pytest.mark.parametrize("page", ["abc", "0", "last", "99999999999999999999"])
def test_a_page_that_is_not_a_page_number_is_a_problem_404(client_with_many_addresses: APIClient, page: str) -> None:
    assert_problem(client_with_many_addresses.get(f"{URL}?page={page}"), 404, "not_found")


def test_the_last_page_holds_the_rest_and_a_page_past_it_is_a_problem_404(
    client_with_many_addresses: APIClient,
) -> None:
    last = client_with_many_addresses.get(URL + "?page_size=100&page=2").json()
    assert len(last["results"]) == TOTAL - MAX_PAGE_SIZE
    assert last["next"] is None

    past = client_with_many_addresses.get(URL + "?page_size=100&page=3")
    assert_problem(past, 404, "not_found")


@pytest.mark.urls("tests.web.urls")
def test_cursor_pages_are_capped_and_walk_every_row_once(client_with_many_addresses: APIClient) -> None:
    response = client_with_many_addresses.get(f"/test/cursor-addresses/?page_size={MAX_PAGE_SIZE}")
    first = response.json()
    assert len(first["results"]) == MAX_PAGE_SIZE
    assert first["previous"] is None
    rest = client_with_many_addresses.get(first["next"]).json()
    assert rest["next"] is None
    ids = [row["id"] for row in first["results"] + rest["results"]]
    assert len(ids) == len(set(ids)) == TOTAL
    back = client_with_many_addresses.get(rest["previous"]).json()
    assert [row["id"] for row in back["results"]] == [row["id"] for row in first["results"]]


def test_every_pagination_class_of_the_edge_is_bounded(settings: Any) -> None:
    """A new pagination class must keep the cap, or a client could page the whole table in one go."""
    assert settings.REST_FRAMEWORK["DEFAULT_PAGINATION_CLASS"] == "shop.web.pagination.PagePagination"
    assert PagePagination.max_page_size == MAX_PAGE_SIZE <= 100
    assert PagePagination.page_size <= MAX_PAGE_SIZE
