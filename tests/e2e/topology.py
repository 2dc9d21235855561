"""The shop as real processes on loopback, in one deployable or split into services.

    python -m tests.e2e.topology split     # `make run-split`: start, print URLs and logins; Ctrl-C stops all
    python -m tests.e2e.topology single    # everything in one gunicorn + one worker

``split``:

* **main** (gunicorn, default :8100): users, catalog, cart, orders (``SHOP_SERVE``); payments and notifications
  bound remote (``SHOP_CONTEXTS``). Database: ``DATABASE_URL`` (framework tables too: staff accounts,
  sessions, admin log, dead letters). Worker on ``default`` + the users, catalog, cart, orders queues, with beat.
* **payments** (gunicorn, default :8101, ``SHOP_SERVE=payments``): its tables and its outbox/inbox on its own
  database (``SHOP_DB_PAYMENTS``); ``DATABASE_URL`` is main's (framework tables only: the staff accounts its
  admin logs in with, the customers its JWT-authenticated API reads, dead letters). The other contexts are
  bound remote. Its ``SHOP_PUBLIC_URL`` is its own address: the simulator's 3-D Secure page and the gateway
  webhooks are payments' public endpoints. Worker on the payments queue, with its own beat (its outbox
  sweep, payment reconciliation).
* **notifications** (gunicorn, default :8102, ``SHOP_SERVE=notifications``): own database
  (``SHOP_DB_NOTIFICATIONS``), users/orders (and the rest) bound remote to main, payments to payments;
  ``EMAIL_URL`` is the SMTP sink. Worker on the notifications queue, with its own beat.
* an SMTP sink (aiosmtpd) writing every message as a JSON line into ``<workdir>/mail.jsonl``.

Every run gets its own databases (``shop_e2e_<run>_*``), queue prefix, Redis key prefix and internal secret,
so parallel runs never share state; ``stop()`` kills the process groups and drops all of it. Only the
standard library and what the venv already has (psycopg, kombu, redis, httpx) are used, no Django import.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.tcp_proxy import free_port

REPO = Path(__file__).resolve().parents[2]
BIN = REPO / ".venv" / "bin" if (REPO / ".venv" / "bin" / "python").exists() else Path(sys.executable).parent
PYTHON = str(BIN / "python")

POSTGRES = os.environ.get("SHOP_E2E_POSTGRES", "postgres://postgres@127.0.0.1:5432")
REDIS = os.environ.get("SHOP_E2E_REDIS", "redis://127.0.0.1:6379/14")
BROKER = os.environ.get("SHOP_E2E_BROKER", "amqp://guest:guest@127.0.0.1:5672//")

CONTEXTS = ("users", "catalog", "cart", "payments", "orders", "notifications")  # shop.registry.contexts.CONTEXTS
MAIN = ("users", "catalog", "cart", "orders")
SPLIT_OUT = ("payments", "notifications")
MODES = ("single", "split")

# The remote binding main uses for payments: a customer waits at most TIMEOUT for a hung payments service
# (one attempt: a retry would start after RETRY_DEADLINE), and after BREAKER_FAIL_MAX such failures the
# breaker answers at once for BREAKER_RESET_TIMEOUT seconds.
PAYMENTS_BINDING = {
    "TIMEOUT": 2.0,
    "CONNECT_TIMEOUT": 0.5,
    "RETRY_DEADLINE": 1.0,
    "BREAKER_FAIL_MAX": 2,
    "BREAKER_RESET_TIMEOUT": 5.0,
}
REMOTE_BINDING = {"TIMEOUT": 5.0, "CONNECT_TIMEOUT": 0.5}

STAFF = ("staff@e2e.example", "e2e-staff-pass-2026!")
START_TIMEOUT_S = 90.0


class TopologyError(RuntimeError):
    pass


@dataclass
class Process:
    """One OS process in its own session (so its whole group can be stopped, continued and killed)."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    health_url: str | None = None  # web processes: /healthz and /readyz answer 200 when it is up
    ready_pattern: str | None = None  # workers: a log line that says it consumes
    popen: subprocess.Popen[bytes] | None = None
    _log_offset: int = 0

    def start(self) -> None:
        self._log_offset = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as out:
            out.write(f"\n===== {time.strftime('%H:%M:%S')} start {self.name}: {' '.join(self.argv)}\n".encode())
            out.flush()
            self.popen = subprocess.Popen(
                self.argv, env=self.env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def signal(self, sig: int) -> None:
        if self.popen is not None:
            try:
                os.killpg(self.popen.pid, sig)
            except ProcessLookupError:
                pass

    def stop(self, timeout: float = 10.0) -> None:
        if self.popen is None:
            return
        if self.alive:
            self.signal(signal.SIGCONT)  # a stopped group cannot act on SIGTERM
            self.signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        self.signal(signal.SIGKILL)  # whatever is left of the group (pool children, beat)
        try:
            self.popen.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
        if self.popen is not None:
            self.popen.wait(timeout=10)

    def output(self) -> str:
        """What this process wrote since its last start."""
        if not self.log.exists():
            return ""
        with self.log.open("rb") as fh:
            fh.seek(self._log_offset)
            return fh.read().decode(errors="replace")

    def tail(self, lines: int = 60) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class Service:
    """A deployable: its env, the contexts it serves, its database aliases, its worker's queues."""

    name: str
    port: int
    env: dict[str, str]
    aliases: list[str]  # database aliases this service migrates (the ones it owns)
    queues: list[str]
    beat: bool = False
    web_threads: int = 4
    worker_concurrency: int = 2

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Topology:
    mode: str
    run_id: str = field(default_factory=lambda: secrets.token_hex(4))
    base_port: int | None = None  # None: free ports (tests); 8100: main 8100, payments 8101, notifications 8102
    workdir: Path | None = None
    main_broker_url: str | None = None  # main (web, worker, beat) reaches the broker here (a cuttable proxy)
    sweep_seconds: float = 1.0
    say: Callable[[str], None] = print
    services: dict[str, Service] = field(default_factory=dict)
    processes: dict[str, Process] = field(default_factory=dict)
    databases: dict[str, str] = field(default_factory=dict)  # service name -> database name
    smtp_port: int = 0
    default_queue: str = "default"
    _started: bool = False

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        self.prefix = f"shop-e2e-{self.run_id}."
        self.cache_prefix = f"shop-e2e-{self.run_id}"
        self.internal_secret = secrets.token_urlsafe(36)
        self.owns_workdir = self.workdir is None
        self.workdir = self.workdir or Path(tempfile.mkdtemp(prefix=f"shop-e2e-{self.mode}-{self.run_id}-"))
        self.mail_file = self.workdir / "mail.jsonl"
        self._plan()

    # --- the plan -------------------------------------------------------------------------------------
    def _port(self, offset: int) -> int:
        return self.base_port + offset if self.base_port else free_port()

    def db_url(self, service: str) -> str:
        return f"{POSTGRES}/{self.databases[service]}"

    def _common_env(self) -> dict[str, str]:
        return {
            "DJANGO_SETTINGS_MODULE": "shop.settings",
            "SHOP_ENV": "development",
            "DEBUG": "false",
            "SECRET_KEY": f"e2e-secret-key-{self.run_id}-" + "x" * 40,
            "JWT_SIGNING_KEY": f"e2e-jwt-signing-key-{self.run_id}-" + "y" * 30,
            "SHOP_INTERNAL_SECRET": self.internal_secret,
            "REDIS_URL": REDIS,
            "CACHE_KEY_PREFIX": self.cache_prefix,
            "CELERY_BROKER_URL": BROKER,
            "SHOP_EVENT_QUEUE_PREFIX": self.prefix,
            "SHOP_OUTBOX_SWEEP_SECONDS": str(self.sweep_seconds),
            "SHOP_EVENT_RETRY_BACKOFF_BASE": "0.2",
            "SHOP_EVENT_RETRY_BACKOFF_MAX": "5",
            "SHOP_PAYMENT_GATEWAY": "simulated",
            "SHOP_SIMULATED_WEBHOOK_SECRET": f"whsec_e2e_{self.run_id}",
            "SHOP_EMAIL_RETRY_BACKOFF_S": "1",
            "SHOP_LOG_FORMAT": "json",
            "LOG_LEVEL": "INFO",
        }

    def _plan(self) -> None:
        self.smtp_port = self._port(25)
        email_url = f"smtp://127.0.0.1:{self.smtp_port}"
        main_port = self._port(0)
        main_url = f"http://127.0.0.1:{main_port}"
        common = self._common_env()
        main_broker = self.main_broker_url or BROKER
        if self.mode == "single":
            self.databases = {"main": f"shop_e2e_{self.run_id}"}
            env = {
                **common,
                "DATABASE_URL": self.db_url("main"),
                "CELERY_BROKER_URL": main_broker,
                "SHOP_PUBLIC_URL": main_url,
                "EMAIL_URL": email_url,
            }
            self.services["main"] = Service(
                "main", main_port, env, ["default"], [self.prefix + c for c in CONTEXTS], beat=True, web_threads=8
            )
            return
        self.databases = {name: f"shop_e2e_{self.run_id}_{name}" for name in ("main", *SPLIT_OUT)}
        ports = {"main": main_port, "payments": self._port(1), "notifications": self._port(2)}
        urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}

        def bindings(service: str) -> str:
            """Every context a service does not serve, bound remote to the service that does."""
            served_by = {**dict.fromkeys(MAIN, "main"), "payments": "payments", "notifications": "notifications"}
            config: dict[str, Any] = {}
            for context in CONTEXTS:
                owner = served_by[context]
                if owner != service:
                    extra = PAYMENTS_BINDING if context == "payments" else REMOTE_BINDING
                    config[context] = {"BACKEND": "remote", "URLS": [urls[owner]], **extra}
            return json.dumps(config, separators=(",", ":"))

        self.services["main"] = Service(
            "main",
            ports["main"],
            {
                **common,
                "DATABASE_URL": self.db_url("main"),
                "CELERY_BROKER_URL": main_broker,
                "SHOP_SERVE": ",".join(MAIN),
                "SHOP_CONTEXTS": bindings("main"),
                "SHOP_PUBLIC_URL": urls["main"],
            },
            ["default"],
            [self.prefix + c for c in MAIN],
            beat=True,
            web_threads=8,
        )
        self.services["payments"] = Service(
            "payments",
            ports["payments"],
            {
                **common,
                "DATABASE_URL": self.db_url("main"),
                "SHOP_DB_PAYMENTS": self.db_url("payments"),
                "SHOP_SERVE": "payments",
                "SHOP_CONTEXTS": bindings("payments"),
                "SHOP_PUBLIC_URL": urls["payments"],
            },
            ["payments"],
            [self.prefix + "payments"],
            beat=True,  # its own periodic work: its outbox sweep, payment reconciliation
            worker_concurrency=1,
        )
        self.services["notifications"] = Service(
            "notifications",
            ports["notifications"],
            {
                **common,
                "DATABASE_URL": self.db_url("main"),
                "SHOP_DB_NOTIFICATIONS": self.db_url("notifications"),
                "SHOP_SERVE": "notifications",
                "SHOP_CONTEXTS": bindings("notifications"),
                "SHOP_PUBLIC_URL": urls["main"],  # the links in emails point at the shop customers use
                "EMAIL_URL": email_url,
            },
            ["notifications"],
            [self.prefix + "notifications"],
            beat=True,  # its own periodic work: its outbox sweep, re-queueing lost sends
            web_threads=2,
        )

    def url(self, service: str = "main") -> str:
        return self.services[service].url

    @property
    def main_url(self) -> str:
        return self.url("main")

    def process_env(self, service: str) -> dict[str, str]:
        """The full environment of a service's processes (the service's settings on a clean base)."""
        base = {key: os.environ[key] for key in ("HOME", "LANG", "TMPDIR", "TZ") if key in os.environ}
        base["PATH"] = f"{BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}"
        base["PYTHONUNBUFFERED"] = "1"
        return {**base, **self.services[service].env}

    def worker_queues(self, service: Service) -> list[str]:
        """The service's own queues; main also takes the registry's default queue."""
        return ([self.default_queue] if service.name == "main" else []) + service.queues

    def _processes(self) -> None:
        log_dir = self.workdir
        assert log_dir is not None
        self.processes["smtp"] = Process(
            "smtp",
            [PYTHON, "-m", "tests.e2e.smtp_sink", "--port", str(self.smtp_port), "--out", str(self.mail_file)],
            self.process_env("main"),
            log_dir / "smtp.log",
        )
        for name, service in self.services.items():
            env = self.process_env(name)
            self.processes[f"{name}-web"] = Process(
                f"{name}-web",
                [
                    str(BIN / "gunicorn"),
                    "shop.wsgi:application",
                    f"--bind=127.0.0.1:{service.port}",
                    "--worker-class=gthread",
                    "--workers=1",
                    f"--threads={service.web_threads}",
                    "--timeout=30",
                    "--graceful-timeout=5",
                    "--log-level=warning",
                    "--error-logfile=-",
                ],
                env,
                log_dir / f"{name}-web.log",
                health_url=service.url,
            )
            queues = self.worker_queues(service)
            argv = [
                str(BIN / "celery"),
                "-A",
                "shop",
                "worker",
                f"--hostname={name}-{self.run_id}@%h",
                f"--queues={','.join(queues)}",
                f"--concurrency={service.worker_concurrency}",
                "--without-gossip",
                "--without-mingle",
                "--loglevel=INFO",
            ]
            if service.beat:
                argv += ["--beat", f"--schedule={log_dir / f'{name}-beat-schedule'}"]
            self.processes[f"{name}-worker"] = Process(
                f"{name}-worker", argv, env, log_dir / f"{name}-worker.log", ready_pattern=r"@\S+ ready\."
            )

    # --- lifecycle ------------------------------------------------------------------------------------
    def start(self) -> Topology:
        started = time.monotonic()
        self._started = True
        try:
            self._create_databases()
            self._prepare()
            self._processes()
            for process in self.processes.values():
                process.start()
            self._wait_until_up(self.processes.values())
        except BaseException:
            self.say(self.logs_tail())
            self.stop()
            raise
        self.say(f"{self.mode} topology up in {time.monotonic() - started:.1f}s (logs: {self.workdir})")
        return self

    def stop(self, *, keep_logs: bool = False) -> None:
        if not self._started:
            return
        self._started = False
        with ThreadPoolExecutor(max_workers=max(1, len(self.processes))) as pool:
            list(pool.map(lambda p: p.stop(), self.processes.values()))
        for cleanup in (self._drop_databases, self._clear_cache, self._delete_queues):
            try:
                cleanup()
            except Exception as exc:
                self.say(f"cleanup {cleanup.__name__} failed: {exc!r}")
        if self.owns_workdir and not keep_logs:
            shutil.rmtree(self.workdir or "", ignore_errors=True)

    def __enter__(self) -> Topology:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop(keep_logs=exc[0] is not None)

    def _create_databases(self) -> None:
        import psycopg

        with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True, connect_timeout=5) as conn:
            for name in self.databases.values():
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{name}"')

    def _drop_databases(self) -> None:
        import psycopg

        with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True, connect_timeout=5) as conn:
            for name in self.databases.values():
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _clear_cache(self) -> None:
        import redis

        client = redis.Redis.from_url(REDIS, socket_timeout=2, socket_connect_timeout=2)
        try:
            keys = list(client.scan_iter(match=f"{self.cache_prefix}:*", count=1000))
            for start in range(0, len(keys), 500):
                client.delete(*keys[start : start + 500])
        finally:
            client.close()

    def _delete_queues(self) -> None:
        from kombu import Connection, Exchange, Queue

        with Connection(BROKER, connect_timeout=3) as conn:
            channel = conn.default_channel
            for context in CONTEXTS:
                name = self.prefix + context
                Queue(name, Exchange(name), routing_key=name, channel=channel).delete()
                Exchange(name, channel=channel).delete()

    def _prepare(self) -> None:
        """Migrate every service's own databases (in parallel: they are different databases), read the
        default queue's name from the settings, then seed main: demo data and a staff superuser."""
        jobs: list[tuple[str, list[str]]] = []
        for name, service in self.services.items():
            for alias in service.aliases:
                jobs.append((name, ["migrate", f"--database={alias}", "--noinput", "-v", "0"]))
        probe = "from django.conf import settings; print('QUEUE=' + settings.CELERY_TASK_DEFAULT_QUEUE)"
        jobs.append(("main", ["shell", "-c", probe]))
        with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
            results = list(pool.map(lambda job: self.manage(job[0], *job[1]), jobs))
        found = re.search(r"^QUEUE=(\S+)$", results[-1].stdout, re.M)
        self.default_queue = found.group(1) if found else "default"
        env = {"DJANGO_SUPERUSER_PASSWORD": STAFF[1]}
        seed = [("main", ["seed_demo"], None), ("main", ["createsuperuser", "--noinput", f"--email={STAFF[0]}"], env)]
        with ThreadPoolExecutor(max_workers=len(seed)) as pool:
            list(pool.map(lambda job: self.manage(job[0], *job[1], extra_env=job[2]), seed))

    def manage(
        self,
        service: str,
        *args: str,
        extra_env: Mapping[str, str] | None = None,
        check: bool = True,
        timeout: float = 120,
    ) -> subprocess.CompletedProcess[str]:
        """``manage.py <args>`` with ``service``'s environment; output appended to ``manage.log``."""
        env = {**self.process_env(service), **(extra_env or {})}
        result = subprocess.run(
            [PYTHON, "manage.py", *args],
            check=False,
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert self.workdir is not None
        with (self.workdir / "manage.log").open("a") as log:
            log.write(f"\n===== [{service}] manage.py {' '.join(args)} -> {result.returncode}\n")
            log.write(result.stdout + result.stderr)
        if check and result.returncode != 0:
            raise TopologyError(f"[{service}] manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def _wait_until_up(self, processes: Iterable[Process], timeout: float = START_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        pending = list(processes)
        with httpx.Client(timeout=2.0) as http:
            while pending:
                for process in list(pending):
                    if not process.alive:
                        raise TopologyError(f"{process.name} exited with {process.popen and process.popen.returncode}")
                    if self._is_up(process, http):
                        pending.remove(process)
                if pending and time.monotonic() > deadline:
                    raise TopologyError(f"not up after {timeout:.0f}s: {', '.join(p.name for p in pending)}")
                if pending:
                    time.sleep(0.2)

    def _is_up(self, process: Process, http: httpx.Client) -> bool:
        if process.health_url:
            try:
                return all(http.get(process.health_url + path).status_code == 200 for path in ("/healthz", "/readyz"))
            except httpx.HTTPError:
                return False
        if process.ready_pattern:
            return re.search(process.ready_pattern, process.output()) is not None
        if process.name == "smtp":
            return "listening" in process.output()
        return True

    # --- faults ---------------------------------------------------------------------------------------
    def pause(self, name: str) -> None:
        """SIGSTOP the process group: the port still accepts connections, nothing answers (a hung service)."""
        self.processes[name].signal(signal.SIGSTOP)

    def resume(self, name: str) -> None:
        self.processes[name].signal(signal.SIGCONT)

    def restart(self, name: str) -> None:
        """Kill the group (stopped or not; requests waiting in its listen queue die with it) and start it again."""
        process = self.processes[name]
        process.kill()
        process.start()
        self._wait_until_up([process], timeout=60)

    # --- what happened --------------------------------------------------------------------------------
    def emails(self) -> list[dict[str, Any]]:
        if not self.mail_file.exists():
            return []
        lines = self.mail_file.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def query(self, service: str, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of ``sql`` on the database a service owns (its context's tables live there)."""
        import psycopg

        with psycopg.connect(self.db_url(service), connect_timeout=5) as conn:
            return list(conn.execute(sql, tuple(params)).fetchall())

    def logs_tail(self, lines: int = 60) -> str:
        parts = []
        for process in self.processes.values():
            parts.append(f"----- {process.name} ({process.log}) -----\n{process.tail(lines)}")
        manage_log = (self.workdir or Path()) / "manage.log"
        if manage_log.exists():
            parts.append("----- manage.py -----\n" + "\n".join(manage_log.read_text().splitlines()[-lines:]))
        return "\n".join(parts)

    def describe(self) -> str:
        """Each service's processes and settings (what a deployment has to set)."""
        out = []
        for name, service in self.services.items():
            beat = "  + beat" if service.beat else ""
            out.append(f"[{name}] {service.url}  worker queues: {','.join(self.worker_queues(service))}{beat}")
            for key, value in sorted(service.env.items()):
                out.append(f"    {key}={value}")
        return "\n".join(out)


def _serve(args: argparse.Namespace) -> int:
    topology = Topology(args.mode, base_port=args.base_port, sweep_seconds=args.sweep_seconds)
    stopping = False

    def on_signal(signum: int, frame: Any) -> None:
        nonlocal stopping
        if not stopping:
            stopping = True
            raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    try:
        topology.start()
        print(f"\n{topology.describe()}\n")
        print(f"  shop (API, admin):   {topology.main_url}/api/docs/   {topology.main_url}/admin/")
        if args.mode == "split":
            print(f"  payments service:    {topology.url('payments')}/admin/   (3-D Secure page, webhooks)")
            print(f"  notifications:       {topology.url('notifications')}/admin/   (email log)")
        print(f"  staff login:         {STAFF[0]} / {STAFF[1]}   (demo: admin@shop.example / admin-demo-pass-2026)")
        print(f"  emails (SMTP sink):  {topology.mail_file}")
        print(f"  logs:                {topology.workdir}")
        print("\n  Ctrl-C stops every process and drops the databases.\n", flush=True)
        while True:
            dead = [p.name for p in topology.processes.values() if not p.alive]
            if dead:
                print(f"exited: {', '.join(dead)}\n{topology.logs_tail(30)}", file=sys.stderr)
                return 1
            time.sleep(1)
    except KeyboardInterrupt:
        print("\nstopping …", flush=True)
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not interrupt the cleanup
        topology.stop(keep_logs=args.keep_logs)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="Run the shop as real processes on loopback.")
    parser.add_argument("mode", choices=MODES)
    parser.add_argument("--base-port", type=int, default=8100, help="main; payments +1, notifications +2, SMTP +25")
    parser.add_argument("--sweep-seconds", type=float, default=2.0, help="SHOP_OUTBOX_SWEEP_SECONDS")
    parser.add_argument("--keep-logs", action="store_true", help="keep the log directory after Ctrl-C")
    return _serve(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
