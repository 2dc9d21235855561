"""``SHOP_ENV=production`` is ``check --deploy`` clean, and refuses to start without its secrets.

Runs ``manage.py`` in a subprocess with a clean environment, exactly as a deployment would, because
settings are read once per process and the test process runs with test settings.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from shop.web.jwt_keys import generate_private_key_pem

ROOT = Path(__file__).resolve().parents[2]
REQUIRED_SECRETS = ("SECRET_KEY", "SHOP_INTERNAL_SECRET")
JWT_PRIVATE_KEY = generate_private_key_pem()


def production_env(**overrides: str | None) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", ""),
        "SHOP_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "JWT_PRIVATE_KEY": JWT_PRIVATE_KEY,
        "SHOP_INTERNAL_SECRET": secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": "shop.example",
        "SHOP_PAYMENT_GATEWAY": "stripe",
        "SHOP_STRIPE_SECRET_KEY": "sk_live_" + secrets.token_urlsafe(24),
        "SHOP_STRIPE_WEBHOOK_SECRET": "whsec_" + secrets.token_urlsafe(24),
        "DATABASE_URL": os.environ.get("DATABASE_URL") or f"sqlite:///{ROOT / 'unused-deploy-check.sqlite3'}",
    }
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args], check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_production_settings_pass_check_deploy_with_no_warnings() -> None:
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def test_a_short_secret_key_is_caught_by_check_deploy() -> None:
    """Proves the check above can fail: W009 wants 50+ characters."""
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(SECRET_KEY="short-key"))
    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr


@pytest.mark.parametrize("missing", REQUIRED_SECRETS)
@pytest.mark.parametrize("how", ["unset", "empty"])
def test_production_refuses_to_start_without_a_secret(missing: str, how: str) -> None:
    env = production_env(**{missing: None if how == "unset" else ""})
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert missing in result.stderr


def test_the_wsgi_app_cannot_even_be_imported_without_a_secret() -> None:
    """What gunicorn does first: the failure happens at boot, not at the first login."""
    env = production_env(JWT_PRIVATE_KEY=None)
    result = subprocess.run(
        [sys.executable, "-c", "import shop.wsgi"],
        check=False,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "JWT_PRIVATE_KEY (where tokens are minted) or JWT_PUBLIC_KEYS (verify only) must be set" in result.stderr


@pytest.mark.parametrize(
    ("overrides", "flagged"),
    [
        ({"SHOP_PAYMENT_GATEWAY": "simulated"}, "shop.payments.W001"),
        ({"SHOP_STRIPE_SECRET_KEY": None}, "shop.payments.E001"),
        ({"SHOP_STRIPE_WEBHOOK_SECRET": ""}, "shop.payments.E001"),
    ],
)
def test_a_deployment_without_a_real_gateway_is_flagged(overrides: dict[str, str | None], flagged: str) -> None:
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(**overrides))
    assert result.returncode != 0
    assert flagged in result.stderr + result.stdout
