"""A real Celery worker in its own process (``celery -A shop worker``, prefork), on the test's database,
broker and SMTP server, so that a test can SIGKILL it as a crash or an OOM kill would.

The worker is configured the way a deployment is, from the environment: the test database's URL
(``DATABASE_URL``, ``SHOP_DB_<CTX>``), ``CELERY_BROKER_URL``, ``EMAIL_URL`` and ``SHOP_EMAIL_*``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.db import connections
from kombu import Connection, Exchange, Queue

BASE_DIR = Path(__file__).resolve().parents[2]


def database_url(settings_dict: dict[str, Any]) -> str:
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{settings_dict['NAME']}"


def worker_env(*, broker_url: str, smtp_port: int, queue_prefix: str, **extra: str) -> dict[str, str]:
    """This process's environment, pointed at the test database (the name pytest-django made) and
    the given broker and SMTP server."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "SHOP_TEST_", "SHOP_DB_"))}
    for alias in settings.DATABASES:
        url = database_url(connections[alias].settings_dict)
        env["DATABASE_URL" if alias == "default" else f"SHOP_DB_{alias.upper()}"] = url
    env.update(
        DJANGO_SETTINGS_MODULE="shop.settings",
        SHOP_ENV="test",
        CELERY_BROKER_URL=broker_url,
        EMAIL_URL=f"smtp://127.0.0.1:{smtp_port}",
        SHOP_EVENT_QUEUE_PREFIX=queue_prefix,
        DB_CONN_MAX_AGE="0",  # no connection outlives a task: the test database can be flushed and dropped
        LOG_LEVEL="INFO",
        **extra,
    )
    return env


def declare(broker_url: str, *names: str) -> None:
    """Declare queues as Celery does for a queue it was not configured with (direct exchange, durable)."""
    with Connection(broker_url, connect_timeout=3) as conn:
        channel = conn.default_channel
        for name in names:
            Queue(name, Exchange(name), routing_key=name, channel=channel).declare()


def queue_counts(broker_url: str, name: str) -> tuple[int, int]:
    """(ready messages, consumers) of a queue, as the broker sees them now."""
    with Connection(broker_url, connect_timeout=3) as conn:
        queue = Queue(name, Exchange(name), routing_key=name, channel=conn.default_channel)
        ok: Any = queue.queue_declare(passive=True)  # amqp's queue_declare_ok_t (kombu types it as a str)
        return int(ok.message_count), int(ok.consumer_count)


def delete(broker_url: str, *names: str) -> None:
    with Connection(broker_url, connect_timeout=3) as conn:
        channel = conn.default_channel
        for name in names:
            Queue(name, Exchange(name), routing_key=name, channel=channel).delete()
            Exchange(name, channel=channel).delete()


class WorkerProcess:
    """``celery -A shop worker -P prefork -c 1`` on ``queues``, in its own process group."""

    def __init__(
        self, *, queues: list[str], env: dict[str, str], log_dir: Path, name: str = "worker", args: tuple[str, ...] = ()
    ) -> None:
        self.queues = queues
        self.env = env
        self.args = args  # more command-line options, e.g. "-B" (beat in the worker)
        self.name = f"{name}-{uuid.uuid4().hex[:6]}"
        self.log_path = log_dir / f"{self.name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> WorkerProcess:
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "shop",
            "worker",
            "-Q",
            ",".join(self.queues),
            "-P",
            "prefork",
            "-c",
            "1",
            "-n",
            f"{self.name}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel",
            "INFO",
            *self.args,
        ]
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                command, cwd=BASE_DIR, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        return self

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log(self, tail: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-tail:]
        except OSError:
            return ""

    def kill(self) -> None:
        """SIGKILL the whole worker (main process and pool child), as the kernel's OOM killer or a lost
        node would: no shutdown handler runs, no message is acked or rejected by the worker."""
        assert self.proc is not None
        self._signal_group(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def pool_children(self) -> list[int]:
        """Pids of the prefork pool's processes (the main process's children)."""
        assert self.proc is not None
        children = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])  # the command may hold spaces and parentheses
            if ppid == self.proc.pid:
                children.append(int(entry.name))
        return children

    def kill_pool_child(self) -> None:
        """SIGKILL only the pool process running the task (what the OOM killer usually picks)."""
        (child,) = self.pool_children()
        os.kill(child, signal.SIGKILL)

    def stop(self, timeout: float = 10.0) -> None:
        """Cold shutdown (SIGQUIT to the main process: the tests stop it idle, and a warm shutdown
        takes seconds), then SIGKILL whatever of it is left."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            deadline = time.monotonic() + timeout
            while self.proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
        self._signal_group(signal.SIGKILL)  # the pool child, if the main process left it behind
        if self.proc.poll() is None:
            self.proc.wait(timeout=5)

    def _signal_group(self, signum: int) -> None:
        assert self.proc is not None
        try:
            os.killpg(self.proc.pid, signum)  # its own session: the group is this worker and its children
        except ProcessLookupError:
            pass
