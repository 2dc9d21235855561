"""One style of public service (issue 14 item 4): each context's ``<Ctx>Service`` is a thin facade.

The rule (docs/architecture.md, "Public services"): the class implements exactly its Protocol, and each
method only translates — a write calls one use-case function of ``services``, a read maps a selector's
rows to the api's DTOs (raising the api's not-found error) after checking the call's bounds. Logic,
transactions and queries live in the use cases and selectors, where views, tasks and handlers reach
them too; so the facade never needs to be kept in sync by hand beyond its signatures, which the
contract suites compare with the Protocol.
"""

from __future__ import annotations

import ast
import inspect
import textwrap

import pytest
from django.utils.module_loading import import_string

from shop.registry.contexts import CONTEXTS, api_module, local_implementation
from shop.registry.transport import codec, lookup

MAX_STATEMENTS = 6
FORBIDDEN_NAMES = {"objects", "atomic", "transaction", "select_for_update", "save", "delete", "update", "create"}


def facade_problems(source: str) -> list[str]:
    """What makes a facade class (its source) more than a translation layer."""
    tree = ast.parse(textwrap.dedent(source))
    cls = next(node for node in tree.body if isinstance(node, ast.ClassDef))
    problems = []
    for method in (n for n in cls.body if isinstance(n, ast.FunctionDef)):
        body = [s for s in method.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
        statements = sum(1 for stmt in body for node in ast.walk(stmt) if isinstance(node, ast.stmt))
        if statements > MAX_STATEMENTS:
            problems.append(
                f"{method.name}: {statements} statements (at most {MAX_STATEMENTS}: move the logic to a use case)"
            )
        for node in ast.walk(method):
            name = node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else None
            if name in FORBIDDEN_NAMES:
                problems.append(f"{method.name}: uses {name!r} (queries and writes belong in selectors and use cases)")
            if isinstance(node, ast.With | ast.For | ast.While | ast.Try):
                problems.append(f"{method.name}: a {type(node).__name__} block (logic belongs in a use case)")
    return problems


def _facade(context: str) -> type:
    return import_string(local_implementation(context))


@pytest.mark.parametrize("context", CONTEXTS)
def test_each_service_is_exactly_its_protocol(context: str) -> None:
    facade = _facade(context)
    protocol = lookup.protocol_for(context)
    public = {name for name, value in vars(facade).items() if callable(value) and not name.startswith("_")}
    assert public == set(codec.public_methods(protocol)), f"{facade.__name__} must implement {api_module(context)}"


@pytest.mark.parametrize("context", CONTEXTS)
def test_each_service_only_translates(context: str) -> None:
    assert facade_problems(inspect.getsource(_facade(context))) == []


def test_the_rule_catches_logic_in_a_facade() -> None:
    planted = """
class CartService:
    def add_line(self, *, owner, sku, quantity):
        with transaction.atomic():
            cart = Cart.objects.select_for_update().get(owner=owner)
            for line in cart.lines.all():
                if line.sku == sku:
                    line.quantity += quantity
                    line.save()
        return to_dto(cart)
"""
    problems = facade_problems(planted)
    assert any("statements" in p for p in problems), problems
    assert any("'objects'" in p for p in problems), problems
    assert any("With block" in p for p in problems), problems


def test_the_rule_accepts_a_translation() -> None:
    planted = '''
class UsersService:
    def get_user(self, *, user_id):
        """A read."""
        user = selectors.user_by_id(user_id=user_id)
        if user is None:
            raise api.UserNotFound(user_id=user_id)
        return selectors.to_user_dto(user)
'''
    assert facade_problems(planted) == []
