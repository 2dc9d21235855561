"""Which shipping methods serve a destination and what they cost (pure rules over method records)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from shop.pricing.selectors import Band, Method
from shop.pricing.services.shipping import price_of, serving


def method(code: str, **fields: Any) -> Method:
    defaults: dict[str, Any] = {
        "name": code,
        "delivery_estimate": "",
        "pricing": "flat",
        "flat_price": Decimal("4.90"),
        "free_over": None,
        "position": 0,
        "zone_countries": frozenset(),
        "zone_postal_prefixes": (),
        "bands": (),
    }
    return Method(code=code, **{**defaults, **fields})


WORLD = method("world")
GERMANY = method("de", zone_countries=frozenset({"DE"}))
BERLIN = method("berlin", zone_countries=frozenset({"DE"}), zone_postal_prefixes=("10",))
ALL = [WORLD, GERMANY, BERLIN]


def codes(methods: list[Method]) -> list[str]:
    return [m.code for m in methods]


def test_the_most_specific_zone_decides() -> None:
    assert codes(serving(ALL, country="DE", postal_code="10 115")) == ["berlin"]
    assert codes(serving(ALL, country="DE", postal_code="80331")) == ["de"]
    assert codes(serving(ALL, country="FR", postal_code="75001")) == ["world"]
    assert codes(serving(ALL, country=None, postal_code="")) == ["world"]  # no address yet
    assert serving([GERMANY], country="FR", postal_code="") == []


def test_bands_free_over_and_baskets_too_big() -> None:
    by_weight = method(
        "parcel",
        pricing="weight",
        bands=(Band(up_to=Decimal(1000), price=Decimal("4.00")), Band(up_to=Decimal(5000), price=Decimal("7.00"))),
    )
    assert price_of(by_weight, goods=Decimal(10), weight_grams=1000) == Decimal("4.00")
    assert price_of(by_weight, goods=Decimal(10), weight_grams=1001) == Decimal("7.00")
    assert price_of(by_weight, goods=Decimal(10), weight_grams=5001) is None  # cannot carry it
    free = method("std", free_over=Decimal(50))
    assert price_of(free, goods=Decimal("49.99"), weight_grams=0) == Decimal("4.90")
    assert price_of(free, goods=Decimal("50.00"), weight_grams=0) == Decimal(0)
