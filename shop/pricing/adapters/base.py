"""The ``TaxProvider`` port: where a quote's tax rates come from.

A provider answers *rates* (a percentage per tax class and place), never tax amounts: pricing does
all the arithmetic itself, with its one rounding rule, so the sums of a quote hold whichever
provider answered (an external service rounding per invoice would break "lines add up to the total").
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from shop.catalog.api import TAX_CLASSES

STANDARD, REDUCED, SUPER_REDUCED, ZERO, EXEMPT = TAX_CLASSES
# A class a country has no rate for is taxed at the next broader one: a country without a
# super-reduced rate taxes those goods at its reduced rate, one without a reduced rate at its standard.
FALLBACK: Mapping[str, str] = {SUPER_REDUCED: REDUCED, REDUCED: STANDARD}
NO_TAX = Decimal(0)


@dataclass(frozen=True, slots=True)
class TaxPlace:
    """Where tax is owed: a country (ISO 3166-1 alpha-2), or ``None`` for "no country known", which
    gets the rates of every country without rates of its own; the postal code for providers that
    tax by region (US sales tax)."""

    country: str | None
    postal_code: str = ""


RatesByClass = dict[str, Decimal]


class TaxServiceError(Exception):
    """The provider could not answer (timeout, connection, 5xx, open breaker, an answer that is not
    the protocol's). Nothing is known about the rates: the caller fails closed or falls back."""


class TaxProvider(Protocol):
    """What pricing asks of a tax source: one call per quote, for every place it needs."""

    name: str

    def rates(self, *, places: Sequence[TaxPlace], tax_classes: Collection[str]) -> dict[TaxPlace, RatesByClass]:
        """For each place, the percentage of each of ``tax_classes`` (every one answered; ``exempt``
        and ``zero`` are 0). Raises ``TaxServiceError`` when it cannot answer."""
        ...
