"""The test command itself: a missing service is announced loudly, and is fatal when required."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
DEAD = "127.0.0.1:9"  # discard port: nothing listens there


def run_harness(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SHOP_", "DATABASE_URL", "REDIS_URL"))}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-m", "tests.harness", "-q", "tests/test_harness.py::test_argon2_hashes_passwords_first"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_missing_service_prints_a_banner_and_its_tests_are_skipped() -> None:
    result = run_harness(REDIS_URL=f"redis://{DEAD}/0")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SERVICES MISSING" in result.stderr
    assert f"redis: redis://{DEAD}/0" in result.stderr


def test_a_missing_service_fails_the_run_when_services_are_required() -> None:
    result = run_harness(REDIS_URL=f"redis://{DEAD}/0", SHOP_REQUIRE_SERVICES="1")
    assert result.returncode != 0
    assert "SHOP_REQUIRE_SERVICES=1: this is a FAILURE" in result.stderr
    assert "passed" not in result.stdout  # no test ran


def test_a_sqlite_database_url_runs_on_sqlite_and_misses_no_postgresql() -> None:
    result = run_harness(DATABASE_URL="sqlite://", SHOP_REQUIRE_SERVICES="1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "database: SQLite (sqlite://)" in result.stdout
    assert "SERVICES MISSING" not in result.stderr and "postgres=" not in result.stdout
    assert "1 passed" in result.stdout


def test_a_missing_browser_skips_loudly_and_fails_when_services_are_required() -> None:
    """The browser tests need Debian's Chromium: announced like any missing service, never silently skipped."""
    skipped = run_harness(SHOP_CHROMIUM="/nonexistent/chromium")
    assert skipped.returncode == 0, skipped.stdout + skipped.stderr
    assert "chromium: /nonexistent/chromium (not installed" in skipped.stderr

    required = run_harness(SHOP_CHROMIUM="/nonexistent/chromium", SHOP_REQUIRE_SERVICES="1")
    assert required.returncode != 0
    assert "SHOP_REQUIRE_SERVICES=1: this is a FAILURE" in required.stderr


def test_argon2_hashes_passwords_first() -> None:
    """The configured hashing is Argon2 (the autouse fixture swaps in MD5 per test, for speed only)."""
    from shop import settings as configured

    assert configured.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert settings.PASSWORD_HASHERS[0].endswith("MD5PasswordHasher")
