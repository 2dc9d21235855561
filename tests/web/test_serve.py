"""A process started with ``SHOP_SERVE`` publishes only its contexts' public routes and admin pages
(a split-out payments service has no catalog pages; the main deployable no payments pages)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import django
django.setup()
from django.contrib import admin
from django.urls import Resolver404, resolve
def routed(path):
    try:
        resolve(path)
        return True
    except Resolver404:
        return False
print(routed("/api/v1/catalog/products/"), routed("/api/v1/payments/1/"), routed("/internal/payments/get_payment"))
print(sorted({m._meta.app_label for m in admin.site._registry} & {"catalog", "payments", "orders"}))
"""


def probe(serve: str) -> list[str]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "shop.settings", "SHOP_SERVE": serve}
    env.pop("SHOP_REMOTE_CONTEXTS", None)
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-2:]


def test_a_split_out_service_publishes_only_its_own_contexts() -> None:
    assert probe("payments") == ["False True True", "['payments']"]
    assert probe("users,catalog,cart,orders") == ["True False True", "['catalog', 'orders']"]
    assert probe("") == ["True True True", "['catalog', 'orders', 'payments']"]
