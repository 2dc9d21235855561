"""Money as Decimal plus ISO 4217 currency: no float ever touches an amount."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

# Minor-unit exponents for the currencies we accept; anything else is refused rather than guessed.
CURRENCY_EXPONENTS: dict[str, int] = {
    "EUR": 2,
    "USD": 2,
    "GBP": 2,
    "CHF": 2,
    "SEK": 2,
    "NOK": 2,
    "DKK": 2,
    "PLN": 2,
    "CZK": 2,
    "CAD": 2,
    "AUD": 2,
    "JPY": 0,
    "KRW": 0,
    "BHD": 3,
    "KWD": 3,
}


class CurrencyMismatch(ValueError):
    """Arithmetic between two currencies is a bug, never a conversion."""


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.amount, float | bool):
            raise TypeError("Money amounts must be Decimal, int or str, never float")
        try:
            amount = Decimal(self.amount)
        except (InvalidOperation, TypeError) as exc:
            raise ValueError(f"invalid money amount {self.amount!r}") from exc
        if not amount.is_finite():
            raise ValueError("money amount must be finite")
        currency = str(self.currency).upper()
        if currency not in CURRENCY_EXPONENTS:
            raise ValueError(f"unsupported currency {self.currency!r}")
        exponent = Decimal(1).scaleb(-CURRENCY_EXPONENTS[currency])
        object.__setattr__(self, "amount", amount.quantize(exponent, rounding=ROUND_HALF_EVEN))
        object.__setattr__(self, "currency", currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), currency)

    @classmethod
    def from_minor(cls, minor: int, currency: str) -> Money:
        exponent = CURRENCY_EXPONENTS[currency.upper()]
        return cls(Decimal(minor).scaleb(-exponent), currency)

    @property
    def minor(self) -> int:
        """Integer minor units (cents), the form payment gateways want."""
        return int(self.amount.scaleb(CURRENCY_EXPONENTS[self.currency]))

    def _check(self, other: object) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"{self.currency} vs {other.currency}")
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.amount + self._check(other).amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.amount - self._check(other).amount, self.currency)

    def __mul__(self, factor: int | Decimal) -> Money:
        if isinstance(factor, float | bool) or not isinstance(factor, int | Decimal):
            raise TypeError("Money can be multiplied by int or Decimal only")
        return Money(self.amount * factor, self.currency)

    __rmul__ = __mul__

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        return self.amount < self._check(other).amount

    def __le__(self, other: Money) -> bool:
        return self.amount <= self._check(other).amount

    def __gt__(self, other: Money) -> bool:
        return self.amount > self._check(other).amount

    def __ge__(self, other: Money) -> bool:
        return self.amount >= self._check(other).amount

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"
