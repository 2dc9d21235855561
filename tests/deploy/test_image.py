"""The Dockerfile is hadolint clean and builds the image the design asks for; the entrypoint runs each role.

Building the image needs a Docker engine (``make image``, ``make image-smoke``); what can be checked without
one is checked here: the file itself, what the build context holds, and what each role of the entrypoint runs
(with stand-ins for gunicorn, celery and python on PATH).
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
from pathlib import Path

import pytest

from tests.deploy.conftest import ROOT, tool

DOCKERFILE = ROOT / "Dockerfile"
ENTRYPOINT = ROOT / "deploy" / "docker" / "entrypoint.sh"


def hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([tool("hadolint"), str(path)], capture_output=True, text=True, timeout=60, check=False)


def test_the_dockerfile_is_hadolint_clean() -> None:
    result = hadolint(DOCKERFILE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_catches_a_sloppy_dockerfile(tmp_path: Path) -> None:
    """Proves the check above can fail."""
    (tmp_path / "Dockerfile").write_text("FROM python:latest\nRUN apt-get update && apt-get install -y gcc\n")
    result = hadolint(tmp_path / "Dockerfile")
    assert result.returncode != 0 and "DL3007" in result.stdout and "DL3009" in result.stdout


def stages() -> list[list[str]]:
    """The instructions of each stage, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    found: list[list[str]] = []
    for line in text.splitlines():
        if line.startswith("FROM "):
            found.append([line])
        elif line.strip() and not line.startswith("#") and found:
            found[-1].append(line)
    return found


def test_the_final_stage_is_slim_non_root_and_has_its_static_files() -> None:
    builder, final = stages()
    assert builder[0] == "FROM ${PYTHON_IMAGE} AS builder" and final[0] == "FROM ${PYTHON_IMAGE}"
    assert any("pip wheel" in line for line in builder)
    final_text = "\n".join(final)
    assert "COPY --from=builder /opt/venv /opt/venv" in final_text
    assert not re.search(r"apt-get|pip (install|wheel)|gcc|build-essential", final_text)  # no compiler, no build
    assert re.search(r"^USER 10001:10001$", final_text, re.M)  # numeric: Kubernetes can check runAsNonRoot
    assert "manage.py collectstatic" in final_text
    assert final[-2:] == ['ENTRYPOINT ["shop"]', 'CMD ["web"]']
    assert re.match(r"ARG PYTHON_IMAGE=python:3\.11-slim-\w+$", DOCKERFILE.read_text().splitlines()[2])


def test_the_build_context_leaves_secrets_and_local_state_out() -> None:
    rules = [line for line in (ROOT / ".dockerignore").read_text().splitlines() if line and not line.startswith("#")]
    assert rules[0] == "*"  # everything is left out but what is listed
    allowed = {rule.removeprefix("!") for rule in rules if rule.startswith("!")}
    assert allowed == {"requirements.txt", "constraints.txt", "manage.py", "shop/", "deploy/docker/entrypoint.sh"}


@pytest.fixture
def stand_ins(tmp_path: Path) -> dict[str, str]:
    """PATH with gunicorn, celery and python3 that print what they were asked to do."""
    for name in ("gunicorn", "celery", "python3"):
        script = tmp_path / name
        script.write_text(f'#!/bin/sh\necho "{name} SHOP_LISTENER=${{SHOP_LISTENER:-}} $*"\n')
        script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return {"PATH": f"{tmp_path}:/usr/bin:/bin"}


def run_role(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", str(ENTRYPOINT), *args], env=env, capture_output=True, text=True, timeout=30, check=False
    )


@pytest.mark.parametrize(
    ("args", "runs"),
    [
        ((), "gunicorn SHOP_LISTENER=public shop.wsgi:application --bind 0.0.0.0:8000"),
        (("web",), "gunicorn SHOP_LISTENER=public shop.wsgi:application --bind 0.0.0.0:8000"),
        (("internal",), "gunicorn SHOP_LISTENER=internal shop.wsgi:application --bind 0.0.0.0:8000"),
        (("worker", "--queues=payments"), "celery SHOP_LISTENER= -A shop worker --without-gossip"),
        (("beat",), "celery SHOP_LISTENER= -A shop beat --schedule /tmp/celerybeat-schedule"),
        (("migrate", "payments"), "python3 SHOP_LISTENER= manage.py migrate --database payments --noinput"),
        (("migrate",), "python3 SHOP_LISTENER= manage.py migrate --database default --noinput"),
    ],
)
def test_each_role_runs_its_process(stand_ins: dict[str, str], args: tuple[str, ...], runs: str) -> None:
    result = run_role(stand_ins, *args)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(runs), result.stdout
    if args[:1] == ("worker",):
        assert "--queues=payments" in result.stdout


def test_the_relay_slot_is_reserved_and_says_so(stand_ins: dict[str, str]) -> None:
    result = run_role(stand_ins, "relay")
    assert result.returncode == 64 and "no relay role" in result.stderr


def test_long_running_roles_wait_for_the_migrations_when_asked(tmp_path: Path, stand_ins: dict[str, str]) -> None:
    """SHOP_WAIT_FOR_MIGRATIONS: `migrate --check` until the Job has run (here the second check succeeds)."""
    counter = tmp_path / "checks"
    (Path(stand_ins["PATH"].split(":")[0]) / "python3").write_text(
        f'#!/bin/sh\nif [ "$3" = "--check" ]; then echo x >> {counter}; [ "$(wc -l < {counter})" -ge 2 ]; exit $?; fi\n'
        'echo "python3 $*"\n'
    )
    env = {**stand_ins, "SHOP_WAIT_FOR_MIGRATIONS": "payments", "SHOP_MIGRATIONS_POLL_S": "0.1"}
    result = subprocess.run(
        ["sh", str(ENTRYPOINT), "web"], env=env, capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0, result.stderr
    assert counter.read_text().count("x") == 2 and "waiting for the migrations of database 'payments'" in result.stderr
    assert result.stdout.startswith("gunicorn SHOP_LISTENER=public")
    assert os.access(ENTRYPOINT, os.X_OK)
