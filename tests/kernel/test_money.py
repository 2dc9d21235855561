"""Money: exact Decimals at the currency's exponent, one rounding rule (half to even), no floats, no
arithmetic across currencies."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shop.kernel import Money
from shop.kernel.money import CURRENCY_EXPONENTS, CurrencyMismatch

currencies = st.sampled_from(sorted(CURRENCY_EXPONENTS))


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("0.125", "EUR", Decimal("0.12")),  # half to even: down to the even cent
        ("0.135", "EUR", Decimal("0.14")),  # ... and up to it
        ("2.5", "JPY", Decimal("2")),
        ("1.0005", "BHD", Decimal("1.000")),
        ("10", "EUR", Decimal("10.00")),
    ],
)
def test_amounts_are_rounded_half_to_even_at_the_currency_exponent(
    amount: str, currency: str, expected: Decimal
) -> None:
    money = Money(Decimal(amount), currency)
    assert money.amount == expected
    assert money.amount.as_tuple().exponent == -CURRENCY_EXPONENTS[currency]


def test_floats_and_booleans_are_refused() -> None:
    with pytest.raises(TypeError):
        Money(0.1, "EUR")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money(True, "EUR")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money(Decimal(1), "EUR") * 1.5  # type: ignore[operator]


@pytest.mark.parametrize("amount", ["abc", "NaN", "Infinity"])
def test_amounts_that_are_not_finite_numbers_are_refused(amount: str) -> None:
    with pytest.raises(ValueError):
        Money(amount, "EUR")  # type: ignore[arg-type]


def test_an_unknown_currency_is_refused_and_a_lower_case_one_normalised() -> None:
    with pytest.raises(ValueError, match="unsupported currency"):
        Money(Decimal(1), "XXX")
    assert Money(Decimal(1), "eur").currency == "EUR"


def test_arithmetic_between_currencies_is_a_bug_not_a_conversion() -> None:
    with pytest.raises(CurrencyMismatch):
        Money(Decimal(1), "EUR") + Money(Decimal(1), "USD")
    with pytest.raises(CurrencyMismatch):
        Money(Decimal(1), "EUR") < Money(Decimal(1), "USD")  # noqa: B015
    with pytest.raises(TypeError):
        Money(Decimal(1), "EUR") + Decimal(1)  # type: ignore[operator]


def test_arithmetic_and_order() -> None:
    a, b = Money(Decimal("17.88"), "EUR"), Money(Decimal("2.12"), "EUR")
    assert a + b == Money(Decimal("20.00"), "EUR")
    assert a - b == Money(Decimal("15.76"), "EUR")
    assert 3 * b == b * 3 == Money(Decimal("6.36"), "EUR")
    assert -b == Money(Decimal("-2.12"), "EUR")
    assert b < a and b <= a and a > b and a >= b
    assert str(a) == "17.88 EUR"
    assert Money.zero("JPY") == Money(Decimal(0), "JPY")


@given(minor=st.integers(min_value=-(10**15), max_value=10**15), currency=currencies)
def test_minor_units_round_trip_exactly(minor: int, currency: str) -> None:
    money = Money.from_minor(minor, currency)
    assert money.minor == minor
    assert money.amount.as_tuple().exponent == -CURRENCY_EXPONENTS[currency]


@given(
    parts=st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=20),
    currency=currencies,
)
def test_a_sum_of_amounts_is_the_sum_of_their_minor_units(parts: list[int], currency: str) -> None:
    total = Money.zero(currency)
    for minor in parts:
        total += Money.from_minor(minor, currency)
    assert total.minor == sum(parts)
