"""Scratch copies of the source tree, so a test can plant a violation without touching the real one."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def copy_tree(dest: Path, *files: str) -> Path:
    """Copy ``shop/`` and the named top-level files (e.g. ``importlinter.ini``) into ``dest``."""
    shutil.copytree(ROOT / "shop", dest / "shop", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in files:
        shutil.copy2(ROOT / name, dest / name)
    return dest


def plant(root: Path, relpath: str, text: str, *, append: bool = False) -> Path:
    """Write (or append) ``text`` to ``root/relpath``, creating packages on the way."""
    path = root / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    for parent in path.relative_to(root).parents:
        if parent != Path(".") and parent.parts[0] == "shop" and not (root / parent / "__init__.py").exists():
            (root / parent / "__init__.py").write_text("")
    mode = "a" if append else "w"
    with path.open(mode) as fh:
        fh.write(("\n" if append else "") + text + "\n")
    return path


def tool(name: str) -> str:
    """An executable of this virtualenv (``lint-imports``, ``ruff``), else whatever is on PATH."""
    candidate = VENV_BIN / name
    return str(candidate) if candidate.exists() else (shutil.which(name) or name)


def run(root: Path, *argv: str) -> tuple[int, str]:
    """Run a tool with ``root`` as cwd and first on PYTHONPATH; return (exit code, whitespace-normalised output).

    Whitespace is collapsed because rich wraps and indents lines; COLUMNS keeps wrapping rare.
    """
    env = {**os.environ, "PYTHONPATH": str(root), "COLUMNS": "300", "NO_COLOR": "1"}
    proc = subprocess.run(argv, cwd=root, env=env, capture_output=True, text=True, timeout=120, check=False)
    return proc.returncode, " ".join((proc.stdout + proc.stderr).split())


def lint_imports(root: Path, *contracts: str) -> tuple[int, str]:
    selected = [arg for contract in contracts for arg in ("--contract", contract)]
    config = str(root / "importlinter.ini")
    return run(root, tool("lint-imports"), "--config", config, "--no-cache", "--no-logo", *selected)
