"""Every import-linter contract in importlinter.ini fails on a planted violation and passes on the real tree.

A contract that never fails proves nothing, so each one is broken on purpose in a scratch copy of
``shop/`` (never the real tree) and ``lint-imports --contract <id>`` must report it by name, with the
offending import. A contract with a typo'd module name or layer would otherwise pass silently.
"""

from __future__ import annotations

import configparser
from dataclasses import dataclass
from pathlib import Path

import pytest

from shop.registry.contexts import CONTEXTS
from tests.architecture.tree import ROOT, copy_tree, lint_imports, plant

CONFIG = ROOT / "importlinter.ini"
C1, C2, C3, C4, C5, C6 = (
    "C1-context-layout",
    "C2-no-foreign-internals",
    "C3-context-direction",
    "C4-no-cycles",
    "C5-framework-free-api",
    "C6-registry-layout",
)

FAKE_ORDERS_API = '"""A fake upper context, planted by the test."""\n'
FAKE_CATALOG_API = '"""A fake sibling context, planted by the test."""\n'


@dataclass(frozen=True)
class Violation:
    """Files to plant (path -> code, appended when the file exists) and what the report must say."""

    id: str
    contract: str
    files: dict[str, str]
    expected: tuple[str, ...]


VIOLATIONS = [
    Violation(
        "C1-unlisted-module",
        C1,
        {"shop/users/helpers.py": '"""A module that is not one of the standard layers."""'},
        ("The following modules are not listed as layers", "shop.users.helpers"),
    ),
    Violation(
        "C1-api-imports-own-models",
        C1,
        {"shop/users/api.py": "from shop.users import models  # noqa: E402"},
        ("shop.users.api is not allowed to import shop.users.models", "shop.users.api -> shop.users.models"),
    ),
    Violation(
        "C1-models-import-services",
        C1,
        {"shop/users/models.py": "from shop.users import services  # noqa: E402"},
        ("shop.users.models is not allowed to import shop.users.services",),
    ),
    Violation(
        "C1-adapters-import-services",
        C1,
        {"shop/pricing/adapters/__init__.py": "from shop.pricing import services  # noqa: E402"},
        ("shop.pricing.adapters is not allowed to import shop.pricing.services",),
    ),
    Violation(
        "C1-adapters-import-views",
        C1,
        {"shop/payments/adapters/calls.py": "from shop.payments import views as _views  # noqa: E402"},
        ("shop.payments.adapters is not allowed to import shop.payments.views",),
    ),
    Violation(
        "C1-checks-import-views",
        C1,
        {"shop/payments/checks.py": "from shop.payments import views as _views  # noqa: E402"},
        ("shop.payments.checks is not allowed to import shop.payments.views",),
    ),
    Violation(
        "C1-selectors-import-adapters",
        C1,
        {"shop/catalog/selectors/products.py": "from shop.catalog.adapters import cache as _cache  # noqa: E402"},
        ("shop.catalog.selectors is not allowed to import shop.catalog.adapters",),
    ),
    Violation(
        "C2-service-imports-foreign-gateway",
        C2,
        {"shop/orders/services/pay.py": "from shop.payments.adapters import gateways as _gw  # noqa: E402"},
        (
            "shop.orders is not allowed to import shop.payments.adapters",
            "shop.orders.services.pay -> shop.payments.adapters",
        ),
    ),
    Violation(
        "C2-foreign-checks",
        C2,
        {"shop/orders/services/pay.py": "from shop.payments import checks as _checks  # noqa: E402"},
        ("shop.orders is not allowed to import shop.payments.checks",),
    ),
    Violation(
        "C2-foreign-adapters",
        C2,
        {"shop/cart/services.py": "from shop.pricing.adapters import base  # noqa: E402"},
        ("shop.cart is not allowed to import shop.pricing.adapters", "shop.cart.services -> shop.pricing.adapters"),
    ),
    Violation(
        "C2-foreign-models",
        C2,
        {
            "shop/catalog/api.py": FAKE_CATALOG_API,
            "shop/catalog/services.py": "from shop.users.models import User",
        },
        ("shop.catalog is not allowed to import shop.users.models", "shop.catalog.services -> shop.users.models"),
    ),
    Violation(
        "C2-foreign-services-lazily",
        C2,
        {
            "shop/catalog/api.py": FAKE_CATALOG_API,
            "shop/catalog/views.py": "def view():\n    from shop.users import services\n    return services",
        },
        ("shop.catalog is not allowed to import shop.users.services",),
    ),
    Violation(
        "C2-foreign-models-type-checking",
        C2,
        {
            "shop/catalog/api.py": FAKE_CATALOG_API,
            "shop/catalog/selectors.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
            "    from shop.users.models import Address",
        },
        ("shop.catalog.selectors -> shop.users.models",),
    ),
    Violation(
        "C2-registry-internals",
        C2,
        {"shop/users/services.py": "from shop.registry.models import OutboxEvent  # noqa: E402"},
        ("shop.users is not allowed to import shop.registry.models",),
    ),
    Violation(
        "C3-lower-context-imports-upper",
        C3,
        {
            "shop/orders/api.py": FAKE_ORDERS_API,
            "shop/users/services.py": "from shop.orders import api as orders_api  # noqa: E402",
        },
        ("shop.users is not allowed to import shop.orders", "shop.users.services -> shop.orders.api"),
    ),
    Violation(
        "C3-siblings",
        C3,
        {
            "shop/catalog/api.py": FAKE_CATALOG_API,
            "shop/catalog/services.py": "from shop.users import api as users_api",
        },
        ("shop.catalog is not allowed to import shop.users", "shop.catalog.services -> shop.users.api"),
    ),
    Violation(
        "C3-registry-imports-context",
        C3,
        {"shop/registry/transport/lookup.py": "from shop.users import services as _users_services  # noqa: E402"},
        ("shop.registry is not allowed to import shop.users", "shop.registry.transport.lookup -> shop.users.services"),
    ),
    Violation(
        "C4-cycle",
        C4,
        {
            "shop/search/__init__.py": "import shop.users.api",
            "shop/users/selectors.py": "import shop.search  # noqa: E402",
        },
        ("No cycles are allowed in shop", ".users -> .search"),
    ),
    Violation(
        "C4-cycle-inside-the-registry",
        C4,
        {"shop/registry/transport/codec.py": "from shop.registry.transport import client as _client  # noqa: E402"},
        ("No cycles are allowed in shop.registry.transport", ".codec -> .client"),
    ),
    Violation(
        "C4-cycle-inside-a-context-package",
        C4,
        {"shop/catalog/selectors/search.py": "from shop.catalog.selectors import products as _products  # noqa: E402"},
        ("No cycles are allowed in shop.catalog.selectors", ".search -> .products"),
    ),
    Violation(
        "C4-service-imports-its-tasks",
        C4,
        {"shop/notifications/services.py": "from shop.notifications import tasks as _tasks  # noqa: E402"},
        ("No cycles are allowed in shop.notifications",),
    ),
    Violation(
        "C5-api-imports-django",
        C5,
        {"shop/users/api.py": "from django.db import models as _models  # noqa: E402"},
        ("shop.users.api is not allowed to import django", "shop.users.api -> django"),
    ),
    Violation(
        "C5-api-imports-django-indirectly",
        C5,
        {"shop/users/api.py": "from shop import registry as _registry  # noqa: E402"},
        ("shop.users.api is not allowed to import django", "shop.users.api -> shop.registry"),
    ),
    Violation(
        "C5-kernel-imports-msgspec",
        C5,
        {"shop/kernel/money.py": "import msgspec  # noqa: E402"},
        ("shop.kernel is not allowed to import msgspec", "shop.kernel.money -> msgspec"),
    ),
    Violation(
        "C6-bus-imports-transport",
        C6,
        {"shop/registry/bus/retries.py": "from shop.registry.transport import signing as _signing  # noqa: E402"},
        ("shop.registry.bus is not allowed to import shop.registry.transport", "shop.registry.bus.retries ->"),
    ),
    Violation(
        "C6-transport-imports-bus",
        C6,
        {"shop/registry/transport/server.py": "from shop.registry import bus as _bus  # noqa: E402"},
        ("shop.registry.transport is not allowed to import shop.registry.bus", "shop.registry.transport.server ->"),
    ),
    Violation(
        "C6-plumbing-imports-an-entry-point",
        C6,
        {"shop/registry/router.py": "from shop.registry import admin as _admin  # noqa: E402"},
        ("shop.registry.router is not allowed to import shop.registry.admin",),
    ),
    Violation(
        "C6-unlisted-module",
        C6,
        {"shop/registry/helpers.py": '"""A registry module outside every layer."""'},
        ("The following modules are not listed as layers", "shop.registry.helpers"),
    ),
]


def _config() -> configparser.ConfigParser:
    parser = configparser.ConfigParser()
    parser.read(CONFIG, encoding="utf-8")
    return parser


def _section(contract: str) -> configparser.SectionProxy:
    return _config()[f"importlinter:contract:{contract}"]


def _guidance_start(contract: str) -> str:
    """The first words of a contract's guidance: proof the guidance is configured and printed."""
    return " ".join(_section(contract)["broken_contract_guidance"].split()[:6])


def test_real_tree_keeps_every_contract(tmp_path: Path) -> None:
    code, out = lint_imports(copy_tree(tmp_path, "importlinter.ini"))
    assert code == 0, out
    assert "Contracts: 6 kept, 0 broken." in out, out


@pytest.mark.parametrize("violation", VIOLATIONS, ids=[v.id for v in VIOLATIONS])
def test_contract_reports_planted_violation(tmp_path: Path, violation: Violation) -> None:
    root = copy_tree(tmp_path, "importlinter.ini")
    for relpath, text in violation.files.items():
        plant(root, relpath, text, append=(root / relpath).exists())

    code, out = lint_imports(root, violation.contract)

    assert code != 0, out
    assert f"{_section(violation.contract)['name']} BROKEN" in out, out
    for fragment in violation.expected:
        assert fragment in out, f"{fragment!r} not in: {out}"
    assert _guidance_start(violation.contract) in out, out


def test_every_contract_has_guidance_and_strict_ignores() -> None:
    """Guidance tells the developer what to do; `error` makes a stale ignore_imports entry fail the build."""
    contracts = [s for s in _config().sections() if s.startswith("importlinter:contract:")]
    assert sorted(c.removeprefix("importlinter:contract:") for c in contracts) == [C1, C2, C3, C4, C5, C6]
    for section in contracts:
        assert _config()[section]["broken_contract_guidance"].strip(), section
        assert _config()[section]["unmatched_ignore_imports_alerting"] == "error", section


def test_contracts_name_every_registered_context() -> None:
    """CONTEXTS and the per-context contract entries must not drift (see the comment atop importlinter.ini)."""
    containers = set(_section(C1)["containers"].split())
    assert containers == {f"shop.{ctx}" for ctx in CONTEXTS}
    layers = _section(C3)["layers"].replace("|", " ").replace(":", " ").split()
    for ctx in CONTEXTS:
        assert f"shop.{ctx}" in layers, f"shop.{ctx} is missing, or still optional, in {C3}"


def test_new_context_is_covered_once_registered(tmp_path: Path) -> None:
    """Following the how-to in importlinter.ini, a second context gets the layout check too."""
    root = copy_tree(tmp_path, "importlinter.ini")
    config = root / "importlinter.ini"
    config.write_text(
        config.read_text().replace("containers =\n    shop.users\n", "containers =\n    shop.users\n    shop.catalog\n")
    )
    plant(root, "shop/catalog/api.py", FAKE_CATALOG_API)
    plant(root, "shop/catalog/utils.py", '"""Not a layer."""')

    code, out = lint_imports(root, C1)

    assert code != 0, out
    assert "shop.catalog.utils" in out, out
