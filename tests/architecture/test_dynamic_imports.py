"""Rule 5 (ARCHITECTURE §2.5): dynamic imports and the app registry only in shop.registry and settings.

``import_string``, ``importlib.import_module`` and ``apps.get_model`` reach any module by a string, past
every import-linter contract; ``GenericForeignKey`` points at any table. ruff's banned-api (TID251)
forbids them, with per-file-ignores for the registry and settings. These tests lint planted files
with a copy of the real pyproject.toml, so a config edit that drops a ban or widens an exemption fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.architecture.tree import ROOT, plant, run, tool

SNEAKY = {
    "import_string": (
        "from django.utils.module_loading import import_string\n\nSERVICE = import_string('shop.users.services')"
    ),
    "import_module": "import importlib\n\nMODELS = importlib.import_module('shop.users.models')",
    "apps.get_model": "from django.apps import apps\n\nUser = apps.get_model('users', 'User')",
    "GenericForeignKey": (
        "from django.contrib.contenttypes.fields import GenericForeignKey\n\nFIELD = GenericForeignKey()"
    ),
}


def _ruff(root: Path, *paths: str) -> tuple[int, str]:
    """Only TID251, so the planted files need not satisfy the other rules."""
    args = ("check", "--config", str(root / "pyproject.toml"), "--no-cache", "--select", "TID251")
    return run(root, tool("ruff"), *args, "--output-format", "concise", *paths)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    return tmp_path


@pytest.mark.parametrize("code", SNEAKY.values(), ids=SNEAKY.keys())
def test_banned_in_a_context(project: Path, code: str) -> None:
    plant(project, "shop/users/sneaky.py", code)

    rc, out = _ruff(project, "shop/users/sneaky.py")

    assert rc != 0, out
    assert "shop/users/sneaky.py" in out, out
    assert "TID251" in out, out


@pytest.mark.parametrize("where", ["shop/registry/sneaky.py", "shop/settings.py"])
@pytest.mark.parametrize("code", SNEAKY.values(), ids=SNEAKY.keys())
def test_allowed_in_registry_and_settings(project: Path, code: str, where: str) -> None:
    plant(project, where, code)

    rc, out = _ruff(project, where)

    assert rc == 0, out


def test_real_tree_is_clean() -> None:
    rc, out = run(ROOT, tool("ruff"), "check", "--no-cache", "--select", "TID251", "--output-format", "concise", "shop")
    assert rc == 0, out
