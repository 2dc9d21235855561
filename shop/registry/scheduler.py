"""The embedded default's celery beat: without a broker nobody runs ``celery beat``, so a thread of
the serving process runs ``CELERY_BEAT_SCHEDULE`` itself (outbox sweep, expiries, settlements).

``shop.wsgi`` starts it, and only runserver's serving child (never its autoreloader parent) and
gunicorn load ``shop.wsgi``: management commands, Celery workers and tests never start it. Serving
processes of one deployment (gunicorn workers) elect one runner by an exclusive lock on a file
named after the database; the others keep trying, so one takes over when the runner dies. Jobs run
one after the other, in this thread, as Celery runs an eager task (``Task.apply``); a failing job is
logged and runs again at its next time. Every job is due once at start (a restart catches up), and
nothing's correctness depends on a job being on time: the scheduler only tidies up sooner.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any, cast

from celery import current_app
from celery.schedules import BaseSchedule, maybe_schedule, schedule
from django.conf import settings
from django.db import connections

logger = logging.getLogger(__name__)

TICK_S = 1.0  # how often the runner looks for due jobs
LEADER_RETRY_S = 5.0  # how often a process that is not the runner tries to become it
THREAD_NAME = "shop-embedded-scheduler"


class _QuietSuccesses(logging.Filter):
    """Celery logs every task it ran; a job every few seconds would drown the console. Failures stay,
    and the scheduler itself logs each run that did something."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.threadName != THREAD_NAME or record.levelno >= logging.WARNING


@dataclass
class Job:
    """One entry of ``CELERY_BEAT_SCHEDULE``, with when it last ran here."""

    name: str
    task: str
    when: BaseSchedule
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    last_run_at: datetime | None = None  # None: due now

    @property
    def every(self) -> str:
        if isinstance(self.when, schedule):
            return f"every {_duration(self.when.seconds)}"
        return str(self.when)  # a crontab and the like describe themselves

    def is_due(self) -> bool:
        return self.last_run_at is None or bool(self.when.is_due(self.last_run_at).is_due)


def _duration(seconds: float) -> str:
    for unit, size in (("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g} {unit}"
    return f"{seconds:g} s"


def jobs_from(beat_schedule: Mapping[str, Mapping[str, Any]]) -> list[Job]:
    """The jobs of a beat schedule (queues and other sending options mean nothing in-process)."""
    return [
        Job(
            name=name,
            task=entry["task"],
            when=cast(BaseSchedule, maybe_schedule(entry["schedule"], app=current_app)),
            args=tuple(entry.get("args", ())),
            kwargs=dict(entry.get("kwargs", {})),
        )
        for name, entry in beat_schedule.items()
    ]


def describe(jobs: list[Job]) -> str:
    return ", ".join(f"{job.name} {job.every}" for job in jobs) or "no jobs"


def lock_path() -> Path:
    """One runner per deployment on this machine: the lock file is named after the default database."""
    database = settings.DATABASES["default"]
    identity = "|".join(str(database.get(key, "")) for key in ("ENGINE", "HOST", "PORT", "NAME"))
    return Path(tempfile.gettempdir()) / f"shop-scheduler-{hashlib.sha256(identity.encode()).hexdigest()[:16]}.lock"


class EmbeddedScheduler:
    def __init__(self, jobs: list[Job], *, lock: Path) -> None:
        self.jobs = jobs
        self.lock = lock
        self._lock_file: IO[bytes] | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def is_runner(self) -> bool:
        return self._lock_file is not None

    def try_to_become_runner(self) -> bool:
        """Take the deployment's lock if no other process holds it (the OS frees it when a holder dies)."""
        if self._lock_file is None:
            handle = self.lock.open("ab")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()
                return False
            self._lock_file = handle
            logger.info(
                "embedded scheduler (no CELERY_BROKER_URL) runs the periodic jobs in process %s: %s. "
                "SHOP_EMBEDDED_SCHEDULER=off turns it off.",
                os.getpid(),
                describe(self.jobs),
            )
        return True

    def run_due(self) -> list[str]:
        """Run every job that is due, one after the other; returns their names."""
        ran: list[str] = []
        for job in self.jobs:
            if not job.is_due():
                continue
            job.last_run_at = current_app.now()
            self._run(job)
            ran.append(job.name)
        return ran

    def _run(self, job: Job) -> None:
        if job.task not in current_app.tasks:
            current_app.loader.import_default_modules()  # Celery's task discovery, as a worker does at start
        task = current_app.tasks.get(job.task)
        if task is None:
            logger.error("periodic job %s names no known task %r", job.name, job.task)
            return
        result = task.apply(args=job.args, kwargs=job.kwargs, throw=False)
        if result.failed():
            logger.warning("periodic job %s failed (it runs again %s): %r", job.name, job.every, result.result)
        elif result.result:  # e.g. how many orders it cancelled
            logger.info("periodic job %s: %s", job.name, result.result)

    def start(self) -> None:
        logging.getLogger("celery.app.trace").addFilter(_QUIET)
        self._thread = threading.Thread(target=self._loop, name=THREAD_NAME, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._lock_file is not None:
            self._lock_file.close()  # releases the lock
            self._lock_file = None

    def _loop(self) -> None:
        while not self._stopping.is_set():
            if not self.try_to_become_runner():
                self._stopping.wait(LEADER_RETRY_S)
                continue
            try:
                self.run_due()
            except Exception:  # never let one bad tick end the thread: the next one tries again
                logger.exception("embedded scheduler tick failed")
            finally:
                connections.close_all()  # this thread's own: nothing stays open between ticks
            self._stopping.wait(TICK_S)


_QUIET = _QuietSuccesses()
_started: list[EmbeddedScheduler] = []  # at most one per process


def start_embedded() -> EmbeddedScheduler | None:
    """Start the scheduler thread in a serving process without a broker (``shop.wsgi`` calls this once)."""
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        return None  # a broker: `celery -A shop beat` runs the schedule
    jobs = jobs_from(settings.CELERY_BEAT_SCHEDULE)
    if not settings.SHOP_EMBEDDED_SCHEDULER:
        logger.warning(
            "no CELERY_BROKER_URL and SHOP_EMBEDDED_SCHEDULER is off: no periodic job runs (%s); unpaid orders and "
            "stock holds do not expire, delayed payments do not settle, the outbox is not swept",
            describe(jobs),
        )
        return None
    if not _started:
        runner = EmbeddedScheduler(jobs, lock=lock_path())
        runner.start()
        _started.append(runner)
    return _started[0]
