"""One vocabulary of error codes (docs/api.md): a missing thing is ``not_found`` in every context, the
problem naming the resource; every code the shop can answer is documented with its status; and the
internal transport gives the caller back the very class the context raised."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from shop.cart.api import CartAPI, CartLineNotFound, CartNotFound
from shop.catalog.api import UnknownSku
from shop.kernel import errors
from shop.kernel.errors import ContextUnavailable, DomainError, NotFound
from shop.kernel.problems import problem_for_domain_error
from shop.orders.api import OrderNotFound
from shop.registry.contexts import CONTEXTS
from shop.registry.transport import codec
from shop.web import exceptions

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "api.md").read_text()


def domain_errors() -> list[type[DomainError]]:
    modules = [errors, *(importlib.import_module(f"shop.{context}.api") for context in CONTEXTS)]
    found = {
        obj
        for module in modules
        for obj in vars(module).values()
        if isinstance(obj, type) and issubclass(obj, DomainError)
    }
    return sorted(found, key=lambda cls: (cls.__module__, cls.__name__))


def documented() -> dict[str, set[int]]:
    """``code`` → the statuses docs/api.md gives it (table rows: | `code` | status | meaning |)."""
    rows: dict[str, set[int]] = {}
    for code, status in re.findall(r"^\| `([a-z_]+)` \| (\d{3}) \|", DOC, flags=re.MULTILINE):
        rows.setdefault(code, set()).add(int(status))
    return rows


def codes_in_the_source() -> set[tuple[str, int | None]]:
    """Every code literal the shop's code can answer with, outside the api modules' classes."""
    found: set[tuple[str, int | None]] = set()
    for path in (ROOT / "shop").rglob("*.py"):
        text = path.read_text()
        found |= {(code, int(status)) for status, code in re.findall(r'status=(\d{3}), code="([a-z_]+)"', text)}
        found |= {(code, int(status)) for status, code in re.findall(r'_problem\((\d{3}), "([a-z_]+)"', text)}
    found |= {(code, None) for code, _ in exceptions._DRF_CODES.values()}
    found.add((ContextUnavailable.code, ContextUnavailable.status))
    return found


def test_a_missing_thing_is_not_found_in_every_context_and_the_problem_names_it() -> None:
    missing = [cls for cls in domain_errors() if issubclass(cls, NotFound) and cls is not NotFound]
    assert len(missing) >= 10
    assert {cls.code for cls in missing} == {"not_found"}
    resources = [cls.resource for cls in missing]
    assert all(resources) and len(resources) == len(set(resources)), resources
    assert not [cls for cls in domain_errors() if cls.code.endswith("_not_found")]
    body = problem_for_domain_error(OrderNotFound(order_id=7))
    assert (body["code"], body["resource"], body["type"]) == (
        "not_found",
        "order",
        "https://shop.example/problems/not-found",
    )
    assert body["order_id"] == 7


def test_every_code_is_documented_with_its_status() -> None:
    rows = documented()
    for cls in domain_errors():
        assert cls.status in rows.get(cls.code, set()), f"{cls.__module__}.{cls.__name__}: `{cls.code}` {cls.status}"
        if cls.resource:
            assert re.search(rf"^\| `{cls.resource}` \|", DOC, flags=re.MULTILINE), cls.resource
    for code, status in codes_in_the_source():
        assert code in rows, code
        assert status is None or status in rows[code], (code, status)


def test_the_internal_transport_gives_back_the_class_that_was_raised() -> None:
    def round_trip(exc: DomainError) -> DomainError:
        return codec.error_from_problem(CartAPI, problem_for_domain_error(exc))

    for raised in (CartNotFound(), CartLineNotFound(), UnknownSku(skus=["NOPE"])):  # one code, three classes
        back = round_trip(raised)
        assert type(back) is type(raised) and back == raised
    newer = codec.error_from_problem(CartAPI, {"code": "not_found", "resource": "wishlist", "status": 404})
    assert type(newer) is NotFound and newer.extra == {}  # a resource newer than our contract: still a NotFound


@pytest.mark.parametrize("cls", [cls for cls in domain_errors() if cls.__module__ != errors.__name__])
def test_a_context_error_keeps_its_words(cls: type[DomainError]) -> None:
    assert re.fullmatch(r"[a-z]+(_[a-z]+)*", cls.code) and cls.title and 400 <= cls.status < 600
