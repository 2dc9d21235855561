"""``<NAME>_FILE``: a secret read from a mounted file (Docker and Kubernetes secrets) instead of the environment.

Settings are read once per process, so each case starts one (as a container would) and prints what it got.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from shop.web.jwt_keys import generate_private_key_pem

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import json
from django.conf import settings
print(json.dumps({
    "SECRET_KEY": settings.SECRET_KEY,
    "SHOP_INTERNAL_SECRET": settings.SHOP_INTERNAL_SECRET,
    "JWT_PRIVATE_KEY": settings.SHOP_JWT_PRIVATE_KEY,
    "DATABASE": settings.DATABASES["default"]["NAME"],
}))
"""


def settings_of(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", ""), "SHOP_ENV": "production"}
    base |= {"DJANGO_SETTINGS_MODULE": "shop.settings", "ALLOWED_HOSTS": "shop.example"}
    return subprocess.run(
        [sys.executable, "-c", PROBE],
        env={**base, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def secret_dir(tmp_path: Path) -> Path:
    secrets = tmp_path / "run-secrets"
    secrets.mkdir()
    return secrets


def write(path: Path, value: str) -> str:
    path.write_text(value)
    return str(path)


def test_secrets_come_from_files_and_lose_their_trailing_newline(secret_dir: Path) -> None:
    pem = generate_private_key_pem()
    env = {
        "SECRET_KEY_FILE": write(secret_dir / "secret-key", "k" * 60 + "\n"),  # as `echo … > file` writes it
        "SHOP_INTERNAL_SECRET_FILE": write(secret_dir / "internal", "i" * 40),
        "JWT_PRIVATE_KEY_FILE": write(secret_dir / "jwt.pem", pem),
        "DATABASE_URL_FILE": write(secret_dir / "database-url", "postgres://shop:pw@db.internal:5432/shopdb\r\n"),
    }
    result = settings_of(env)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen == {
        "SECRET_KEY": "k" * 60,
        "SHOP_INTERNAL_SECRET": "i" * 40,
        "JWT_PRIVATE_KEY": pem.removesuffix("\n"),
        "DATABASE": "shopdb",
    }


def test_a_variable_and_its_file_together_are_refused(secret_dir: Path) -> None:
    env = {
        "SECRET_KEY": "k" * 60,
        "SECRET_KEY_FILE": write(secret_dir / "secret-key", "other" * 12),
        "SHOP_INTERNAL_SECRET": "i" * 40,
        "JWT_PRIVATE_KEY": generate_private_key_pem(),
    }
    result = settings_of(env)
    assert result.returncode != 0
    assert "set SECRET_KEY or SECRET_KEY_FILE, not both" in result.stderr


def test_an_unreadable_secret_file_names_the_variable(secret_dir: Path) -> None:
    env = {
        "SECRET_KEY": "k" * 60,
        "SHOP_INTERNAL_SECRET_FILE": str(secret_dir / "missing"),
        "JWT_PRIVATE_KEY": generate_private_key_pem(),
    }
    result = settings_of(env)
    assert result.returncode != 0
    assert (
        f"SHOP_INTERNAL_SECRET_FILE: cannot read {secret_dir / 'missing'}: No such file or directory" in result.stderr
    )
