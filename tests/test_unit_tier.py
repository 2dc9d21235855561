"""The unit tier (``make test-unit``) needs no service: it passes with every service URL pointing at a
closed port, and a unit test that reaches for a service fails instead of quietly using one."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.tcp_proxy import free_port

ROOT = Path(__file__).resolve().parent.parent


def run_unit_tier(*paths: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", *paths],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def closed_port_env() -> dict[str, str]:
    closed = free_port()  # nothing listens there
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{closed}/nothing",
        REDIS_URL=f"redis://127.0.0.1:{closed}/0",
        CELERY_BROKER_URL=f"amqp://guest:guest@127.0.0.1:{closed}//",
        SHOP_ENV="test",
    )
    return env


def test_the_unit_tier_passes_with_every_service_unreachable() -> None:
    done = run_unit_tier("tests/kernel", "tests/unit", env=closed_port_env())
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert " passed" in done.stdout and "skipped" not in done.stdout


def test_a_unit_test_that_reaches_for_a_service_fails(tmp_path: Path) -> None:
    planted = ROOT / "tests" / "unit" / f"test_planted_{os.getpid()}.py"
    planted.write_text(
        textwrap.dedent(
            """
            import socket

            def test_talks_to_postgres():
                socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
            """
        )
    )
    try:
        done = run_unit_tier(str(planted.relative_to(ROOT)), env=closed_port_env())
    finally:
        planted.unlink()
    assert done.returncode == 1, done.stdout[-3000:]
    assert "NetworkRefused" in done.stdout and "it needs no service" in done.stdout
