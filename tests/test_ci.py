"""CI runs the whole ``make lint``: the contract tests rely on mypy failing CI for a type error
(``tests/contracts/kit.py`` types each implementation as its Protocol), so mypy must be in it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _commands(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_ci_runs_make_lint_before_the_suite() -> None:
    commands = _commands((ROOT / ".ci" / "run").read_text())
    assert "make lint" in commands
    assert commands.index("make lint") < commands.index("make test")


def test_make_lint_runs_every_checker() -> None:
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^lint:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert recipe is not None
    lines = recipe.group(1)
    for checker in ("ruff check", "ruff format --check", "lint-imports", "mypy shop tests/contracts"):
        assert checker in lines, checker
