"""The ``CatalogAPI`` contract, run against the local service and over HTTP (fixture ``binding``).

What a caller (cart, checkout) sees must not depend on the binding: same DTOs (Money included),
same order, same error classes with the same codes and extras (``shortages``, ``skus``).
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest
from django.utils import timezone

from shop.catalog.api import (
    MAX_SKUS_PER_CALL,
    CatalogAPI,
    InactiveProduct,
    InvalidLines,
    Line,
    OutOfStock,
    Reservation,
    ReservationExpired,
    ReservationNotFound,
    ReservedLine,
    UnknownSku,
    Variant,
)
from shop.catalog.models import Reservation as ReservationRow
from shop.catalog.models import Stock
from shop.catalog.models import Variant as VariantRow
from shop.catalog.services import CatalogService
from shop.kernel import Conflict, Money
from shop.registry.transport import codec
from tests.catalog.factories import CategoryFactory, ProductFactory, VariantFactory
from tests.contracts.kit import method_queries, remote_in_process
from tests.helpers import connection_of

TTL = 600


def _implementations_satisfy_the_protocol() -> None:
    """Never called: mypy checks this assignment, so a signature drifting from ``CatalogAPI`` fails CI."""
    impl: CatalogAPI = CatalogService()
    del impl


def test_implementations_have_the_protocols_signatures() -> None:
    client = remote_in_process(CatalogAPI)
    for name, declared in codec.public_methods(CatalogAPI).items():
        assert _shape(getattr(CatalogService, name)) == _shape(declared), name
        assert callable(getattr(client, name))


def _shape(func: Callable[..., Any]) -> tuple[Any, ...]:
    hints = typing.get_type_hints(func)
    params = [(p.name, p.kind, p.default, hints.get(p.name)) for p in inspect.signature(func).parameters.values()]
    return (*params, hints.get("return"))


def _stock(variant: VariantRow) -> tuple[int, int]:
    stock = Stock.objects.get(pk=variant.pk)
    return stock.on_hand, stock.reserved


# --- get_variants -----------------------------------------------------------------------------------
def test_get_variants_round_trips_the_dto_with_money(catalog_api: CatalogAPI) -> None:
    outdoor = CategoryFactory.create(name="Outdoor")
    shoes = CategoryFactory.create(parent=outdoor, name="Shoes")
    product = ProductFactory.create(name="Trail Shoe", slug="trail-shoe", tax_class="reduced", category=shoes)
    on_sale = VariantFactory.create(
        product=product,
        sku="SHOE-42",
        name="42 / Red",
        attributes={"size": 42, "colour": "red"},
        price_amount=Decimal("79.90"),
        compare_at_amount=Decimal("99.00"),
        weight_grams=450,
        stock=7,
        reserved=2,
    )
    plain = VariantFactory.create(product=product, sku="SHOE-43", price_amount=Decimal("1000"), currency="JPY")

    got = catalog_api.get_variants(skus=["SHOE-42", "SHOE-43"])

    assert got == [
        Variant(
            sku="SHOE-42",
            product_id=product.pk,
            product_name="Trail Shoe",
            product_slug="trail-shoe",
            name="42 / Red",
            attributes={"size": "42", "colour": "red"},
            price=Money(Decimal("79.90"), "EUR"),
            compare_at_price=Money(Decimal("99.00"), "EUR"),
            available=5,
            is_active=True,
            tax_class="reduced",
            weight_grams=450,
            category_ids=[outdoor.pk, shoes.pk],  # the product's category after its ancestors
        ),
        Variant(
            sku="SHOE-43",
            product_id=product.pk,
            product_name="Trail Shoe",
            product_slug="trail-shoe",
            name=plain.name,
            attributes={},
            price=Money(Decimal("1000"), "JPY"),
            compare_at_price=None,
            available=10,
            is_active=True,
            tax_class="reduced",
            weight_grams=0,
            category_ids=[outdoor.pk, shoes.pk],
        ),
    ]
    assert all(type(v) is Variant for v in got)
    assert type(got[0].price) is Money and type(got[0].price.amount) is Decimal
    assert on_sale.pk != plain.pk


def test_get_variants_keeps_the_callers_order_skips_unknown_and_duplicates_in_one_query(
    catalog_api: CatalogAPI,
) -> None:
    a, b, c = (VariantFactory.create() for _ in range(3))

    with method_queries(connection_of("catalog"), exactly=1):
        got = catalog_api.get_variants(skus=[c.sku, "NO-SUCH-SKU", a.sku, c.sku, b.sku])

    assert [v.sku for v in got] == [c.sku, a.sku, b.sku]


def test_get_variants_is_one_query_for_500_skus(catalog_api: CatalogAPI) -> None:
    product = ProductFactory.create()
    variants = VariantRow.objects.bulk_create(
        VariantRow(product=product, sku=f"BULK-{i:03d}", price_amount=Decimal("1.00")) for i in range(MAX_SKUS_PER_CALL)
    )
    Stock.objects.bulk_create(Stock(variant=v, on_hand=i) for i, v in enumerate(variants))
    skus = [v.sku for v in reversed(variants)]

    with method_queries(connection_of("catalog"), exactly=1):
        got = catalog_api.get_variants(skus=skus)

    assert [v.sku for v in got] == skus
    assert [v.available for v in got] == list(reversed(range(MAX_SKUS_PER_CALL)))


def test_get_variants_refuses_more_than_the_bound(catalog_api: CatalogAPI) -> None:
    with pytest.raises(InvalidLines) as caught:
        catalog_api.get_variants(skus=[f"X-{i}" for i in range(MAX_SKUS_PER_CALL + 1)])

    assert type(caught.value) is InvalidLines
    assert caught.value.status == 400


def test_get_variants_of_nothing_is_empty(catalog_api: CatalogAPI) -> None:
    assert catalog_api.get_variants(skus=[]) == []
    assert catalog_api.get_variants(skus=("NO-SUCH-SKU",)) == []


def test_get_variants_reports_inactive_variants_and_products(catalog_api: CatalogAPI) -> None:
    off_variant = VariantFactory.create(is_active=False)
    off_product = VariantFactory.create(product=ProductFactory.create(is_active=False))
    on = VariantFactory.create()

    got = {v.sku: v.is_active for v in catalog_api.get_variants(skus=[off_variant.sku, off_product.sku, on.sku])}

    assert got == {off_variant.sku: False, off_product.sku: False, on.sku: True}


# --- reserve / commit / release -----------------------------------------------------------------------
def test_reserve_commit_happy_path(catalog_api: CatalogAPI) -> None:
    a = VariantFactory.create(sku="A-1", stock=10)
    b = VariantFactory.create(sku="B-1", stock=3)
    rid = uuid4()
    before = timezone.now()

    held = catalog_api.reserve(
        reservation_id=rid,
        lines=[Line(sku="B-1", quantity=1), Line(sku="A-1", quantity=2), Line(sku="B-1", quantity=1)],
        ttl_s=TTL,
    )

    assert type(held) is Reservation
    assert held.reservation_id == rid and isinstance(held.reservation_id, UUID)
    assert held.state == "active"
    assert held.lines == [ReservedLine(sku="A-1", quantity=2), ReservedLine(sku="B-1", quantity=2)]
    assert before + timedelta(seconds=TTL) <= held.expires_at <= timezone.now() + timedelta(seconds=TTL)
    assert (_stock(a), _stock(b)) == ((10, 2), (3, 2))
    assert [v.available for v in catalog_api.get_variants(skus=["A-1", "B-1"])] == [8, 1]

    sold = catalog_api.commit(reservation_id=rid)

    assert sold.state == "committed"
    assert sold.lines == held.lines
    assert (_stock(a), _stock(b)) == ((8, 0), (1, 0))
    assert catalog_api.commit(reservation_id=rid) == sold  # idempotent: nothing sold twice
    assert (_stock(a), _stock(b)) == ((8, 0), (1, 0))


def test_reserve_twice_with_the_same_id_reserves_once(catalog_api: CatalogAPI) -> None:
    variant = VariantFactory.create(stock=5)
    rid = uuid4()
    lines = [Line(sku=variant.sku, quantity=2)]

    first = catalog_api.reserve(reservation_id=rid, lines=lines, ttl_s=TTL)
    again = catalog_api.reserve(reservation_id=rid, lines=lines, ttl_s=TTL)

    assert again == first
    assert _stock(variant) == (5, 2)
    assert ReservationRow.objects.filter(reservation_id=rid).count() == 1


def test_reusing_a_reservation_id_for_other_lines_is_refused(catalog_api: CatalogAPI) -> None:
    variant = VariantFactory.create(stock=5)
    rid = uuid4()
    catalog_api.reserve(reservation_id=rid, lines=[Line(sku=variant.sku, quantity=2)], ttl_s=TTL)

    with pytest.raises(InvalidLines) as caught:
        catalog_api.reserve(reservation_id=rid, lines=[Line(sku=variant.sku, quantity=3)], ttl_s=TTL)

    assert caught.value.extra == {"reservation_id": str(rid)}
    assert _stock(variant) == (5, 2)


def test_release_gives_stock_back_and_is_idempotent(catalog_api: CatalogAPI) -> None:
    variant = VariantFactory.create(stock=4)
    rid = uuid4()
    catalog_api.reserve(reservation_id=rid, lines=[Line(sku=variant.sku, quantity=3)], ttl_s=TTL)

    released = catalog_api.release(reservation_id=rid)
    again = catalog_api.release(reservation_id=rid)

    assert released.state == "released" and again == released
    assert released.lines == [ReservedLine(sku=variant.sku, quantity=3)]
    assert _stock(variant) == (4, 0)
    with pytest.raises(ReservationExpired):  # a released hold cannot be sold any more
        catalog_api.commit(reservation_id=rid)
    assert _stock(variant) == (4, 0)


def test_committed_stock_is_not_released(catalog_api: CatalogAPI) -> None:
    variant = VariantFactory.create(stock=4)
    rid = uuid4()
    catalog_api.reserve(reservation_id=rid, lines=[Line(sku=variant.sku, quantity=1)], ttl_s=TTL)
    catalog_api.commit(reservation_id=rid)

    with pytest.raises(Conflict) as caught:
        catalog_api.release(reservation_id=rid)

    assert type(caught.value) is Conflict and caught.value.code == "conflict"
    assert caught.value.extra == {"reservation_id": str(rid)}
    assert _stock(variant) == (3, 0)


def test_out_of_stock_names_every_short_line_and_holds_nothing(catalog_api: CatalogAPI) -> None:
    plenty = VariantFactory.create(sku="PLENTY", stock=10)
    few = VariantFactory.create(sku="FEW", stock=2, reserved=1)
    none = VariantFactory.create(sku="NONE", stock=0)
    rid = uuid4()

    with pytest.raises(OutOfStock) as caught:
        catalog_api.reserve(
            reservation_id=rid,
            lines=[Line(sku="PLENTY", quantity=5), Line(sku="NONE", quantity=1), Line(sku="FEW", quantity=2)],
            ttl_s=TTL,
        )

    assert type(caught.value) is OutOfStock
    assert caught.value.code == "out_of_stock" and caught.value.status == 409
    assert caught.value.extra == {
        "shortages": [
            {"sku": "FEW", "requested": 2, "available": 1},
            {"sku": "NONE", "requested": 1, "available": 0},
        ]
    }
    assert (_stock(plenty), _stock(few), _stock(none)) == ((10, 0), (2, 1), (0, 0))
    assert not ReservationRow.objects.filter(reservation_id=rid).exists()
    # Nothing was claimed either: the same id can be used once stock is there.
    assert catalog_api.reserve(reservation_id=rid, lines=[Line(sku="PLENTY", quantity=5)], ttl_s=TTL).state == "active"


def test_unknown_skus_are_named(catalog_api: CatalogAPI) -> None:
    known = VariantFactory.create(stock=5)

    with pytest.raises(UnknownSku) as caught:
        catalog_api.reserve(
            reservation_id=uuid4(),
            lines=[Line(sku="GHOST-2", quantity=1), Line(sku=known.sku, quantity=1), Line(sku="GHOST-1", quantity=1)],
            ttl_s=TTL,
        )

    assert type(caught.value) is UnknownSku and caught.value.status == 404
    assert caught.value.extra == {"skus": ["GHOST-2", "GHOST-1"]}
    assert _stock(known) == (5, 0)


def test_inactive_products_and_variants_are_named(catalog_api: CatalogAPI) -> None:
    off_variant = VariantFactory.create(is_active=False)
    off_product = VariantFactory.create(product=ProductFactory.create(is_active=False))
    on = VariantFactory.create()

    with pytest.raises(InactiveProduct) as caught:
        catalog_api.reserve(
            reservation_id=uuid4(),
            lines=[Line(sku=s, quantity=1) for s in (on.sku, off_product.sku, off_variant.sku)],
            ttl_s=TTL,
        )

    assert type(caught.value) is InactiveProduct and caught.value.status == 409
    assert caught.value.extra == {"skus": [off_product.sku, off_variant.sku]}
    assert _stock(on) == (10, 0)


def test_an_expired_hold_is_released_on_commit(catalog_api: CatalogAPI) -> None:
    variant = VariantFactory.create(stock=5)
    rid = uuid4()
    catalog_api.reserve(reservation_id=rid, lines=[Line(sku=variant.sku, quantity=2)], ttl_s=TTL)
    ReservationRow.objects.filter(reservation_id=rid).update(expires_at=timezone.now() - timedelta(seconds=1))

    with pytest.raises(ReservationExpired) as caught:
        catalog_api.commit(reservation_id=rid)

    assert type(caught.value) is ReservationExpired and caught.value.status == 409
    assert caught.value.extra == {"reservation_id": str(rid)}
    assert _stock(variant) == (5, 0)  # given back, not sold
    with pytest.raises(ReservationExpired):
        catalog_api.commit(reservation_id=rid)
    with pytest.raises(ReservationExpired):  # a retried reserve does not silently re-hold
        catalog_api.reserve(reservation_id=rid, lines=[Line(sku=variant.sku, quantity=2)], ttl_s=TTL)
    assert _stock(variant) == (5, 0)
    assert catalog_api.release(reservation_id=rid).state == "released"


def test_unknown_reservations_are_not_found(catalog_api: CatalogAPI) -> None:
    rid = uuid4()
    for call in (catalog_api.commit, catalog_api.release):
        with pytest.raises(ReservationNotFound) as caught:
            call(reservation_id=rid)
        assert type(caught.value) is ReservationNotFound and caught.value.status == 404
        assert caught.value.extra == {"reservation_id": str(rid)}


@pytest.mark.parametrize(
    ("lines", "ttl_s"),
    [
        ([], TTL),
        ([Line(sku="ANY", quantity=0)], TTL),
        ([Line(sku="ANY", quantity=-1)], TTL),
        ([Line(sku="", quantity=1)], TTL),
        ([Line(sku="ANY", quantity=1)], 0),
        ([Line(sku="ANY", quantity=1)], 24 * 3600 + 1),
    ],
    ids=["no-lines", "zero", "negative", "empty-sku", "ttl-zero", "ttl-too-long"],
)
def test_invalid_lines_are_refused_before_anything_is_held(
    catalog_api: CatalogAPI, lines: list[Line], ttl_s: int
) -> None:
    variant = VariantFactory.create(sku="ANY", stock=5)

    with pytest.raises(InvalidLines) as caught:
        catalog_api.reserve(reservation_id=uuid4(), lines=lines, ttl_s=ttl_s)

    assert type(caught.value) is InvalidLines and caught.value.status == 400
    assert _stock(variant) == (5, 0)
    assert not ReservationRow.objects.exists()


def test_too_many_skus_in_one_reservation_are_refused(catalog_api: CatalogAPI) -> None:
    with pytest.raises(InvalidLines):
        catalog_api.reserve(
            reservation_id=uuid4(),
            lines=[Line(sku=f"X-{i}", quantity=1) for i in range(MAX_SKUS_PER_CALL + 1)],
            ttl_s=TTL,
        )
