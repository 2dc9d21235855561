"""The ``TaxProvider`` port: the built-in table's lookup rules, and the external tax service over HTTP
against a local fake of it (pytest-httpserver, a real socket): its protocol, its timeout, its circuit
breaker, and what a quote does when it fails (503 ``tax_unavailable``, or the table when fail-open)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from shop.pricing.adapters import http as http_adapter
from shop.pricing.adapters.base import TaxPlace, TaxServiceError
from shop.pricing.adapters.http import HttpTaxProvider
from shop.pricing.adapters.table import TableTaxProvider
from shop.pricing.api import Destination, Line, PricingAPI, TaxUnavailable
from tests.catalog.factories import ProductFactory, VariantFactory

TOKEN = "tax-service-token-for-tests"
ALL_CLASSES = ("standard", "reduced", "super_reduced", "zero", "exempt")


# --- the table's rules (no database: the rows come in) --------------------------------------------------
ROWS = [
    ("DE", "standard", Decimal("19")),
    ("DE", "reduced", Decimal("7")),
    ("FR", "standard", Decimal("20")),
    ("FR", "reduced", Decimal("5.5")),
    ("FR", "super_reduced", Decimal("2.1")),
    ("DK", "standard", Decimal("25")),
    ("DK", "zero", Decimal("9")),  # a stray row for a 0 % class is ignored: zero is zero
]


def table(rows: list[tuple[str, str, Decimal]]) -> tuple[TableTaxProvider, list[set[str]]]:
    asked: list[set[str]] = []

    def read(countries: Any) -> list[tuple[str, str, Decimal]]:
        asked.append(set(countries))
        return [row for row in rows if row[0] in countries]

    return TableTaxProvider(read=read), asked


def test_the_table_falls_back_to_broader_classes_and_knows_nothing_of_other_countries() -> None:
    provider, asked = table(ROWS)
    places = [TaxPlace("DE"), TaxPlace("FR"), TaxPlace("DK"), TaxPlace("US"), TaxPlace(None)]

    got = provider.rates(places=places, tax_classes=ALL_CLASSES)

    as_text = {place.country: {c: str(r) for c, r in rates.items()} for place, rates in got.items()}
    assert as_text == {
        "DE": {"standard": "19", "reduced": "7", "super_reduced": "7", "zero": "0", "exempt": "0"},
        "FR": {"standard": "20", "reduced": "5.5", "super_reduced": "2.1", "zero": "0", "exempt": "0"},
        "DK": {"standard": "25", "reduced": "25", "super_reduced": "25", "zero": "0", "exempt": "0"},
        "US": {"standard": "0", "reduced": "0", "super_reduced": "0", "zero": "0", "exempt": "0"},
        None: {"standard": "0", "reduced": "0", "super_reduced": "0", "zero": "0", "exempt": "0"},
    }
    assert asked == [{"DE", "FR", "DK", "US", ""}]  # one read for every place


def test_rows_for_every_other_country_apply_only_where_a_country_has_none() -> None:
    provider, _ = table([*ROWS, ("", "standard", Decimal("10"))])

    got = provider.rates(places=[TaxPlace("US"), TaxPlace(None), TaxPlace("DE")], tax_classes=["standard", "reduced"])

    assert got[TaxPlace("US")] == got[TaxPlace(None)] == {"standard": Decimal(10), "reduced": Decimal(10)}
    assert got[TaxPlace("DE")] == {"standard": Decimal(19), "reduced": Decimal(7)}


# --- the external service, through a local fake ----------------------------------------------------------
class FakeTaxService:
    """Answers the documented protocol from its own table; can fail, be slow or answer nonsense."""

    def __init__(self, rates: dict[str, dict[str, str]]) -> None:
        self.rates = rates
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.fault: Callable[[dict[str, Any]], Response | None] | None = None

    def handle(self, request: Request) -> Response:
        body = json.loads(request.data)
        self.requests.append(body)
        self.headers.append(dict(request.headers))
        if self.fault is not None and (answer := self.fault(body)) is not None:
            return answer
        entries = [
            {**place, "rates": {c: self.rates.get(place["country"] or "", {}).get(c, "0") for c in body["tax_classes"]}}
            for place in body["places"]
        ]
        return Response(json.dumps({"rates": entries}), status=200, content_type="application/json")


@pytest.fixture
def service(httpserver: HTTPServer, settings: Any) -> FakeTaxService:
    fake = FakeTaxService({"DE": {"standard": "16", "reduced": "5"}, "FR": {"standard": "20", "reduced": "5.5"}})
    httpserver.expect_request("/rates", method="POST").respond_with_handler(fake.handle)
    settings.SHOP_TAX_PROVIDER = "http"
    settings.SHOP_TAX_SERVICE_URL = httpserver.url_for("/")
    settings.SHOP_TAX_SERVICE_TOKEN = TOKEN
    settings.SHOP_TAX_SERVICE_TIMEOUT_S = 0.5
    return fake


@pytest.fixture
def basket(db: None) -> list[Line]:
    VariantFactory(sku="TEE", price_amount=Decimal("100.00"))
    VariantFactory(sku="BOOK", price_amount=Decimal("10.00"), product=ProductFactory(tax_class="reduced"))
    return [Line(sku="TEE", quantity=1), Line(sku="BOOK", quantity=2)]


def test_a_quote_uses_the_services_rates_and_speaks_its_protocol(
    service: FakeTaxService, basket: list[Line], net: None, pricing: PricingAPI
) -> None:
    quote = pricing.quote(lines=basket, destination=Destination(country="DE", postal_code="10115"))

    assert [(line.tax_rate, str(line.tax.amount)) for line in quote.lines] == [
        (Decimal("16.00"), "16.00"),
        (Decimal("5.00"), "1.00"),
    ]
    assert quote.tax_source == "http"
    assert service.requests == [
        {"places": [{"country": "DE", "postal_code": "10115"}], "tax_classes": ["reduced", "standard"]}
    ]
    assert service.headers[0]["Authorization"] == f"Bearer {TOKEN}"


def test_gross_prices_ask_for_the_origin_and_the_destination_in_one_call(
    service: FakeTaxService, basket: list[Line], gross: None, pricing: PricingAPI
) -> None:
    quote = pricing.quote(lines=basket[:1], destination=Destination(country="FR"))

    assert service.requests[0]["places"] == [{"country": "FR", "postal_code": ""}, {"country": "DE", "postal_code": ""}]
    # 100.00 includes the service's German 16 %: in France, 100 / 1.16 * 1.20 = 103.448... -> 103.45
    assert str(quote.lines[0].unit_price.amount) == "103.45" and quote.lines[0].tax_rate == Decimal("20.00")


def _status(code: int) -> Callable[[dict[str, Any]], Response]:
    return lambda body: Response("{}", status=code, content_type="application/json")


def _json(answer: Any) -> Callable[[dict[str, Any]], Response]:
    return lambda body: Response(json.dumps(answer), status=200, content_type="application/json")


def _slow(body: dict[str, Any]) -> Response | None:
    time.sleep(1.0)  # twice the client's timeout
    return None


FAULTS = {
    "server error": _status(500),
    "bad gateway": _status(502),
    "refused": _status(401),
    "not json": lambda body: Response("<html>oops</html>", status=200, content_type="text/html"),
    "a place missing": _json({"rates": []}),
    "a class missing": _json({"rates": [{"country": "DE", "postal_code": "", "rates": {"standard": "19"}}]}),
    "a rate of 150 %": _json({"rates": [{"country": "DE", "postal_code": "", "rates": {"standard": "150"}}]}),
    "a float rate": _json({"rates": [{"country": "DE", "postal_code": "", "rates": {"standard": 19.0}}]}),
    "another country": _json({"rates": [{"country": "FR", "postal_code": "", "rates": {"standard": "20"}}]}),
    "too slow": _slow,
}


@pytest.mark.parametrize("fault", FAULTS)
def test_a_failing_service_refuses_the_quote_rather_than_guess_the_tax(
    fault: str, service: FakeTaxService, basket: list[Line], net: None, pricing: PricingAPI
) -> None:
    service.fault = FAULTS[fault]

    with pytest.raises(TaxUnavailable) as caught:
        pricing.quote(lines=basket, destination=Destination(country="DE"))

    assert (caught.value.code, caught.value.status) == ("tax_unavailable", 503)
    assert len(service.requests) == 1  # asked once, no retries


def test_fail_open_uses_the_tables_rates_and_says_so(
    service: FakeTaxService, basket: list[Line], net: None, settings: Any, pricing: PricingAPI
) -> None:
    settings.SHOP_TAX_FAIL_CLOSED = False
    service.fault = _status(503)

    quote = pricing.quote(lines=basket[:1], destination=Destination(country="DE"))

    assert (quote.tax_source, quote.lines[0].tax_rate) == ("table (service unavailable)", Decimal("19.00"))


def test_the_breaker_opens_after_five_failures_and_then_spares_the_service(
    service: FakeTaxService, basket: list[Line], net: None, pricing: PricingAPI
) -> None:
    service.fault = _status(500)
    for _ in range(http_adapter.BREAKER_FAIL_MAX):
        with pytest.raises(TaxUnavailable):
            pricing.quote(lines=basket[:1], destination=Destination(country="DE"))
    assert len(service.requests) == http_adapter.BREAKER_FAIL_MAX
    service.fault = None  # the service is back, but the breaker is open for its reset timeout

    with pytest.raises(TaxUnavailable):
        pricing.quote(lines=basket[:1], destination=Destination(country="DE"))

    assert len(service.requests) == http_adapter.BREAKER_FAIL_MAX  # nothing more was sent


def test_the_adapter_reports_an_unreachable_service_as_a_service_error(unused_port: int) -> None:
    provider = HttpTaxProvider(url=f"http://127.0.0.1:{unused_port}", timeout_s=0.5)

    with pytest.raises(TaxServiceError):
        provider.rates(places=[TaxPlace("DE")], tax_classes=["standard"])


@pytest.fixture
def unused_port() -> int:
    from tests.contracts.kit import closed_port

    return closed_port()
