"""The built-in ``TaxProvider``: the rates staff keep in the admin (seeded with the EU's VAT rates).

The rows are read by a function the services hand in (``read``): an adapter imports no tables of its
context, so this one is the lookup rules alone and can be tested without a database.

Lookup of a class in a country: the country's row for the class; else the next broader class
(super-reduced → reduced → standard, ``FALLBACK``) of that country; a country with no rows at all is
"elsewhere" (the blank-country rows), and with no such rows, no tax. ``exempt`` and ``zero`` are
always 0 %: exempt goods are outside VAT, zero-rated ones taxable at nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from decimal import Decimal

from shop.pricing.adapters.base import EXEMPT, FALLBACK, NO_TAX, ZERO, RatesByClass, TaxPlace

# (country or "" for elsewhere, tax class code, percentage): what ``read`` yields for the asked countries.
RateRow = tuple[str, str, Decimal]
ReadRates = Callable[[Collection[str]], Iterable[RateRow]]
ELSEWHERE = ""


class TableTaxProvider:
    name = "table"

    def __init__(self, *, read: ReadRates) -> None:
        self._read = read

    def rates(self, *, places: Sequence[TaxPlace], tax_classes: Collection[str]) -> dict[TaxPlace, RatesByClass]:
        """One read for every place (the asked countries and "elsewhere" together)."""
        countries = {place.country for place in places if place.country} | {ELSEWHERE}
        table: dict[str, dict[str, Decimal]] = {}
        for country, tax_class, rate in self._read(countries):
            table.setdefault(country, {})[tax_class] = rate
        elsewhere = table.get(ELSEWHERE, {})
        return {
            place: {
                tax_class: _rate(table.get(place.country or ELSEWHERE) or elsewhere, tax_class)
                for tax_class in tax_classes
            }
            for place in places
        }


def _rate(rows: dict[str, Decimal], tax_class: str) -> Decimal:
    if tax_class in (EXEMPT, ZERO):
        return NO_TAX
    while tax_class not in rows:
        if tax_class not in FALLBACK:
            return NO_TAX
        tax_class = FALLBACK[tax_class]
    return rows[tax_class]
