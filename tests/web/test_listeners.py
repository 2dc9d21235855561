"""``SHOP_LISTENER`` keeps ``/internal/`` off the public listener: ``public`` has no internal routes at
all (a signed call there is a plain 404), ``internal`` has only them and the probes. Read at import,
so each case runs in a fresh process, as a deployment starts one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PATHS = {
    "internal": "/internal/users/get_user",
    "api": "/api/v1/catalog/products/",
    "schema": "/api/schema/",
    "admin": "/admin/",
    "healthz": "/healthz",
    "readyz": "/readyz",
}
PROBE = f"""
import json
import django
django.setup()
from django.test import Client
from django.urls import Resolver404, resolve
from shop.registry.transport import signing
from django.conf import settings

def routed(path):
    try:
        resolve(path)
        return True
    except Resolver404:
        return False

answer = {{"routed": {{name: routed(path) for name, path in {PATHS!r}.items()}}}}
if settings.SHOP_LISTENER == "public":  # elsewhere the call would run, and this process has no database
    body = b'{{"user_id": 1}}'
    path = "/internal/users/get_user"
    headers = signing.signed_headers(secret=settings.SHOP_INTERNAL_SECRET, method="POST", path=path, body=body)
    signed = Client().post(path, data=body, content_type="application/json", headers=headers)
    answer["signed_call"] = [signed.status_code, signed.get("Content-Type"), signed.json().get("code")]
print(json.dumps(answer))
"""


def probe(listener: str) -> dict[str, object]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "shop.settings", "SHOP_LISTENER": listener}
    env.pop("SHOP_REMOTE_CONTEXTS", None)
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    answer: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer


def test_the_public_listener_has_no_internal_routes() -> None:
    answer = probe("public")
    assert answer["routed"] == {
        "internal": False,
        "api": True,
        "schema": True,
        "admin": True,
        "healthz": True,
        "readyz": True,
    }
    # A correctly signed call is not even looked at: the URL does not exist there.
    assert answer["signed_call"] == [404, "application/problem+json", "not_found"]


def test_the_internal_listener_has_only_internal_routes_and_probes() -> None:
    answer = probe("internal")
    assert answer["routed"] == {
        "internal": True,
        "api": False,
        "schema": False,
        "admin": False,
        "healthz": True,
        "readyz": True,
    }


def test_by_default_one_listener_serves_everything() -> None:
    assert probe("all")["routed"] == dict.fromkeys(PATHS, True)


@pytest.mark.parametrize("value", ["publik", ""])
def test_an_unknown_listener_fails_the_system_check(value: str) -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "shop.settings", "SHOP_LISTENER": value}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        check=False,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "shop.E012" in result.stdout + result.stderr
