"""The benchmark imports the shop lazily (inside functions, after Django is set up), so a module the shop
moves breaks ``make bench`` only when it runs. This reads every ``from shop… import …`` in ``bench/`` and
checks that each module and name exists, so a move fails here, in the suite."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


def shop_imports(source: str) -> list[tuple[str, str]]:
    """(module, name) of every ``from shop… import name`` in ``source``, at any depth."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "shop":
            found.extend((node.module, alias.name) for alias in node.names if alias.name != "*")
    return found


def missing(imports: list[tuple[str, str]]) -> list[str]:
    problems = []
    for module, name in imports:
        try:
            imported = importlib.import_module(module)
        except ModuleNotFoundError:
            problems.append(f"{module} (no such module)")
            continue
        if not hasattr(imported, name):
            try:
                importlib.import_module(f"{module}.{name}")
            except ModuleNotFoundError:
                problems.append(f"{module}.{name}")
    return problems


@pytest.mark.parametrize("path", sorted(BENCH.glob("*.py")), ids=lambda p: p.name)
def test_every_shop_import_of_the_bench_exists(path: Path) -> None:
    assert missing(shop_imports(path.read_text())) == []


def test_a_moved_module_is_reported() -> None:
    planted = "def seed():\n    from shop.catalog.selectors.cache import invalidate_catalog\n"
    assert missing(shop_imports(planted)) == ["shop.catalog.selectors.cache (no such module)"]
