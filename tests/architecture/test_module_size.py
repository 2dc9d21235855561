"""One module, one job: no module in ``shop/`` grows past 400 lines unless its first line says why
(``# long-module: <reason>``), so a long module is a decision someone wrote down, not an accident."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

SHOP = Path(__file__).resolve().parents[2] / "shop"
MAX_LINES = 400
MARKER = "# long-module:"


def unexplained_long_modules(files: Iterable[Path], *, max_lines: int = MAX_LINES) -> list[str]:
    """``path (n lines)`` for every file over ``max_lines`` whose first line gives no reason."""
    found = []
    for path in files:
        lines = path.read_text().splitlines()
        if len(lines) <= max_lines:
            continue
        first = lines[0] if lines else ""
        if not (first.startswith(MARKER) and first[len(MARKER) :].strip()):
            found.append(f"{path} ({len(lines)} lines)")
    return found


def modules() -> list[Path]:
    return [p for p in SHOP.rglob("*.py") if "migrations" not in p.parts]  # migrations are generated


def test_no_module_in_shop_is_long_without_a_reason() -> None:
    assert unexplained_long_modules(modules()) == []


def test_a_planted_long_module_is_caught_and_a_reason_lets_it_pass(tmp_path: Path) -> None:
    body = "\n".join(f"x{i} = {i}" for i in range(MAX_LINES + 1))
    silent = tmp_path / "silent.py"
    silent.write_text(f'"""Does many things."""\n{body}\n')
    empty_reason = tmp_path / "empty_reason.py"
    empty_reason.write_text(f"{MARKER}\n{body}\n")
    explained = tmp_path / "explained.py"
    explained.write_text(f"{MARKER} one table of data, read as a whole\n{body}\n")
    short = tmp_path / "short.py"
    short.write_text("x = 1\n")

    found = unexplained_long_modules([silent, empty_reason, explained, short])

    assert [line.split(" (")[0] for line in found] == [str(silent), str(empty_reason)]
