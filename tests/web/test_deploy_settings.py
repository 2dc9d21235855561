"""``SHOP_ENV=production`` is ``check --deploy`` clean, and refuses to start without its secrets.

Runs ``manage.py`` in a subprocess with a clean environment, exactly as a deployment would, because
settings are read once per process and the test process runs with test settings.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.web.production import ROOT, manage, production_env

REQUIRED_SECRETS = ("SECRET_KEY", "SHOP_INTERNAL_SECRET")


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
        pytest.param({"SHOP_PAYMENT_GATEWAY": None}, "shop.payments.E002", id="no-gateway-chosen"),
        pytest.param({"SHOP_PAYMENT_GATEWAY": "simulated"}, "shop.payments.E002", id="simulated"),
        pytest.param({"SHOP_STRIPE_SECRET_KEY": None}, "shop.payments.E001", id="stripe-without-key"),
        pytest.param({"SHOP_STRIPE_WEBHOOK_SECRET": ""}, "shop.payments.E001", id="stripe-without-webhook-secret"),
    ],
)
def test_a_deployment_without_a_real_gateway_fails_check_deploy(overrides: dict[str, str | None], flagged: str) -> None:
    """Errors, not warnings: the plain ``check --deploy`` exits non-zero (it exited 0 on the simulator)."""
    result = manage("check", "--deploy", env=production_env(**overrides))
    assert result.returncode != 0, result.stdout + result.stderr
    assert flagged in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("public_url", "check_id"),
    [(None, "web.W001"), ("http://127.0.0.1:8000", "web.W001"), ("http://shop.example", "web.W002")],
)
def test_check_deploy_flags_a_public_url_customers_cannot_use(public_url: str | None, check_id: str) -> None:
    """Left at the development default, every emailed link would point at the server itself."""
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(SHOP_PUBLIC_URL=public_url))
    assert result.returncode != 0
    assert check_id in result.stdout + result.stderr


def test_a_malformed_public_url_fails_every_start() -> None:
    result = manage("check", env=production_env(SHOP_ENV=None, SHOP_PUBLIC_URL="shop.example:8000"))
    assert result.returncode != 0
    assert "web.E001" in result.stdout + result.stderr


def test_a_staging_shop_may_opt_in_to_the_simulator() -> None:
    env = production_env(SHOP_PAYMENT_GATEWAY="simulated", SHOP_ALLOW_SIMULATED_GATEWAY="1")
    result = manage("check", "--deploy", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "shop.payments.W001" in result.stderr + result.stdout  # still said out loud


@pytest.mark.parametrize("name", ["SHOP_INTERNAL_SECRET", "SHOP_INTERNAL_SECRET_PREVIOUS"])
def test_production_refuses_a_short_hmac_secret(name: str) -> None:
    """The internal signatures (HMAC-SHA256) want keys of at least 256 bits: 31 bytes are refused, 32 pass."""
    refused = manage("check", "--deploy", env=production_env(**{name: "x" * 31}))
    assert refused.returncode != 0
    assert "ImproperlyConfigured" in refused.stderr
    assert f"{name} must be at least 32 bytes" in refused.stderr
    assert "x" * 31 not in refused.stderr + refused.stdout  # the value itself is never printed

    accepted = manage("check", "--deploy", env=production_env(**{name: "é" * 16}))  # 16 characters, 32 bytes
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
