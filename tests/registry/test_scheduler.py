"""The embedded scheduler: the beat schedule from settings, run in-process when no broker is
configured, by one process per deployment, never by tests or management commands.
(tests/test_embedded_default.py shows it at work under `make run`.)"""

from __future__ import annotations

import io
import logging
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from celery import shared_task
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

from shop.registry import scheduler

ROOT = Path(__file__).resolve().parents[2]
RAN: list[str] = []


@shared_task(name="tests.scheduler.record")
def record(label: str) -> int:
    RAN.append(label)
    return 0


@shared_task(name="tests.scheduler.explode")
def explode() -> None:
    raise RuntimeError("boom")


def entry(label: str, every: float, task: str = "tests.scheduler.record") -> dict[str, Any]:
    return {"task": task, "schedule": every, "kwargs": {"label": label} if task.endswith("record") else {}}


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    RAN.clear()
    yield
    RAN.clear()


def test_the_jobs_are_the_beat_schedule_of_settings() -> None:
    jobs = scheduler.jobs_from(settings.CELERY_BEAT_SCHEDULE)

    assert [job.name for job in jobs] == list(settings.CELERY_BEAT_SCHEDULE)
    assert [job.task for job in jobs] == [e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()]
    # What the embedded default was missing: expiries, the delayed settlement and the outbox sweep.
    names = {job.name for job in jobs}
    assert {"cancel-unpaid-orders", "release-expired-reservations", "settle-simulated-payments"} <= names
    assert any(name.startswith("sweep-outbox-") for name in names)


def test_each_job_runs_when_due_and_a_failing_one_does_not_stop_the_others(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    jobs = scheduler.jobs_from(
        {
            "hourly": entry("hourly", 3600),
            "broken": entry("", 3600, task="tests.scheduler.explode"),
            "often": entry("often", 0.05),
        }
    )
    runner = scheduler.EmbeddedScheduler(jobs, lock=tmp_path / "lock")

    with caplog.at_level(logging.WARNING, logger="shop.registry.scheduler"):
        assert runner.run_due() == ["hourly", "broken", "often"]  # everything is due at start
    assert RAN == ["hourly", "often"]
    assert "periodic job broken failed" in caplog.text and "boom" in caplog.text

    assert runner.run_due() == []  # nothing is due again at once
    time.sleep(0.1)
    assert runner.run_due() == ["often"]
    assert RAN == ["hourly", "often", "often"]


def test_one_process_of_a_deployment_runs_the_jobs_and_another_takes_over(tmp_path: Path) -> None:
    lock = tmp_path / "shop-scheduler.lock"
    first = scheduler.EmbeddedScheduler([], lock=lock)
    second = scheduler.EmbeddedScheduler([], lock=lock)
    try:
        assert first.try_to_become_runner()
        assert not second.try_to_become_runner()
        assert first.try_to_become_runner()  # keeps it
        first.stop()  # the runner is gone (a dead process's lock is freed by the OS the same way)
        assert second.try_to_become_runner()
    finally:
        first.stop()
        second.stop()


def test_the_thread_runs_the_jobs_without_a_broker(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(scheduler, "_started", [])
    monkeypatch.setattr(scheduler, "lock_path", lambda: tmp_path / "lock")
    with override_settings(
        SHOP_EMBEDDED_SCHEDULER=True, CELERY_TASK_ALWAYS_EAGER=True, CELERY_BEAT_SCHEDULE={"tick": entry("tick", 0.1)}
    ):
        running = scheduler.start_embedded()
        assert running is not None
        try:
            assert scheduler.start_embedded() is running  # once per process
            deadline = time.monotonic() + 10
            while RAN.count("tick") < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert running.is_runner and RAN.count("tick") >= 2
        finally:
            running.stop()
    assert not running.is_runner


def test_it_does_not_start_with_a_broker_nor_when_turned_off(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(scheduler, "_started", [])
    with override_settings(SHOP_EMBEDDED_SCHEDULER=True, CELERY_TASK_ALWAYS_EAGER=False):
        assert scheduler.start_embedded() is None  # celery beat's job
    with (
        override_settings(SHOP_EMBEDDED_SCHEDULER=False, CELERY_TASK_ALWAYS_EAGER=True),
        caplog.at_level(logging.WARNING, logger="shop.registry.scheduler"),
    ):
        assert scheduler.start_embedded() is None
    assert "SHOP_EMBEDDED_SCHEDULER is off: no periodic job runs" in caplog.text  # and the log says so
    assert settings.SHOP_EMBEDDED_SCHEDULER is False  # tests never start it


def schedule_command(**options: Any) -> str:
    out = io.StringIO()
    with override_settings(**options):
        call_command("schedule", stdout=out)
    return out.getvalue()


def test_the_schedule_command_says_what_runs_the_jobs_and_how_often() -> None:
    embedded = schedule_command(CELERY_TASK_ALWAYS_EAGER=True, SHOP_EMBEDDED_SCHEDULER=True)
    assert "the web server's own scheduler thread" in embedded
    assert re.search(r"^\s*cancel-unpaid-orders\s+every 1 min\s+shop\.orders\.cancel_unpaid_orders$", embedded, re.M)
    assert "celery beat" in schedule_command(CELERY_TASK_ALWAYS_EAGER=False)
    assert "NOTHING" in schedule_command(CELERY_TASK_ALWAYS_EAGER=True, SHOP_EMBEDDED_SCHEDULER=False)


def manage_schedule(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SHOP_") and k != "CELERY_BROKER_URL"}
    return subprocess.run(
        [sys.executable, "manage.py", "schedule"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_periods_come_from_the_environment_and_a_typo_refuses_to_start() -> None:
    shortened = manage_schedule(SHOP_PERIODIC_SECONDS="cancel-unpaid-orders=2,settle-simulated-payments=0.5")
    assert shortened.returncode == 0, shortened.stderr
    assert re.search(r"^\s*cancel-unpaid-orders\s+every 2 s\s", shortened.stdout, re.M)
    assert re.search(r"^\s*settle-simulated-payments\s+every 0.5 s\s", shortened.stdout, re.M)
    assert "runs the periodic jobs" not in shortened.stdout + shortened.stderr  # a command never runs them

    for bad in ("cancel-unpaid-order=2", "cancel-unpaid-orders=0", "cancel-unpaid-orders=soon"):
        refused = manage_schedule(SHOP_PERIODIC_SECONDS=bad)
        assert refused.returncode != 0 and "SHOP_PERIODIC_SECONDS" in refused.stderr, bad


def test_only_the_simulated_gateway_gets_a_settlement_job() -> None:
    stripe = manage_schedule(
        SHOP_PAYMENT_GATEWAY="stripe", SHOP_STRIPE_SECRET_KEY="sk_test_x", SHOP_STRIPE_WEBHOOK_SECRET="whsec_x"
    )
    assert stripe.returncode == 0, stripe.stderr
    assert "reconcile-stuck-payments" in stripe.stdout
    assert "settle-simulated-payments" not in stripe.stdout
