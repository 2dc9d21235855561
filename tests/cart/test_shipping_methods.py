"""``GET /api/v1/cart/shipping-methods/?country=``: what a cart can be shipped with to a destination,
priced by pricing for these lines (tax at the destination's standard rate), cheapest first."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.cart.conftest import add, guest
from tests.helpers import assert_problem
from tests.pricing import factories

pytestmark = pytest.mark.django_db

URL = "/api/v1/cart/shipping-methods/"


@pytest.fixture
def germany(db: None) -> None:
    """Germany has a zone of its own (standard and express); everywhere else the seeded worldwide one."""
    de = factories.zone("Germany", ["DE"])
    factories.method(de, "de-standard", flat="4.90", position=0, estimate="2-3 days")
    factories.method(de, "de-express", flat="9.90", position=1, estimate="next day")


def test_a_cart_lists_the_methods_of_its_destination_with_their_prices_cheapest_first(
    skus: Callable[[int], list[str]], germany: None
) -> None:
    (sku,) = skus(1)
    client = guest()
    token = add(client, sku, 2)["X-Cart-Token"]

    answer = guest(token).get(URL, {"country": "DE", "postal_code": "10115"})

    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["destination"] == {"country": "DE", "postal_code": "10115"}
    assert [(m["method"], m["price"]["amount"], m["delivery_estimate"]) for m in body["methods"]] == [
        ("de-standard", "4.90", "2-3 days"),
        ("de-express", "9.90", "next day"),
    ]
    standard = body["methods"][0]
    # Net prices (the default): Germany's standard rate on top, rounded once.
    assert (standard["tax_rate"], standard["tax"]["amount"], standard["total"]["amount"]) == ("19.00", "0.93", "5.83")
    # Elsewhere only the worldwide method (seeded) ships: Germany's zone is not offered in France.
    france = guest(token).get(URL, {"country": "FR"}).json()["methods"]
    assert [m["method"] for m in france] == ["standard"]


def test_an_empty_cart_has_no_methods_and_a_bad_country_is_400(skus: Callable[[int], list[str]]) -> None:
    assert guest().get(URL, {"country": "DE"}).json() == {
        "destination": {"country": "DE", "postal_code": ""},
        "methods": [],
    }
    for bad in ({"country": "AA"}, {}, {"country": "DE", "sort": "price"}):
        assert_problem(guest().get(URL, bad), 400, "validation_error")
