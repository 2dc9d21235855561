"""Run the shop the way a production deployment does: ``SHOP_ENV=production`` in a fresh process with a
clean environment (settings are read once per process, and the test process runs with test settings)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.db import connections

from shop.web.jwt_keys import generate_private_key_pem
from tests.notifications.workers import database_url

ROOT = Path(__file__).resolve().parents[2]
JWT_PRIVATE_KEY = generate_private_key_pem()  # production signs with an asymmetric key (shop.web.jwt_keys)


def production_env(**overrides: str | None) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", ""),
        "SHOP_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "JWT_PRIVATE_KEY": JWT_PRIVATE_KEY,
        "SHOP_INTERNAL_SECRET": secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": "shop.example",
        "SHOP_PUBLIC_URL": "https://shop.example",
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


def on_the_test_databases() -> dict[str, str]:
    """``DATABASE_URL`` and ``SHOP_DB_<CTX>`` of the databases this test run created (PostgreSQL)."""
    return {
        "DATABASE_URL" if alias == "default" else f"SHOP_DB_{alias.upper()}": database_url(
            connections[alias].settings_dict
        )
        for alias in settings.DATABASES
    }


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args], check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def python(script: str, *, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", script],
        check=False,
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "shop.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
