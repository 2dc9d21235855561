"""The test command behind ``make test``: find the real services, say loudly what is missing,
then run pytest with them.

PostgreSQL, Redis and RabbitMQ are used at their standard loopback ports when reachable (or at
``DATABASE_URL``/``REDIS_URL``/``CELERY_BROKER_URL`` when given), and Debian's Chromium for the
browser tests (``SHOP_CHROMIUM``, default ``/usr/bin/chromium``; ``make test`` installs it). A missing
one is skipped with a banner; with ``SHOP_REQUIRE_SERVICES=1`` a missing one fails the run before any
test starts.

A ``sqlite://`` ``DATABASE_URL`` chooses SQLite (the embedded default's database) instead of
PostgreSQL: nothing is missing then, and tests marked ``postgres`` are skipped as PostgreSQL-only.
``make test`` runs the search tests that way too.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
from urllib.parse import urlparse

DEFAULTS = {
    # Per-process name: parallel runs on one machine never drop each other's test database.
    "postgres": ("DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/shop_{os.getpid()}"),
    "redis": ("REDIS_URL", "redis://127.0.0.1:6379/15"),
    "rabbitmq": ("CELERY_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//"),
}


def _reachable(url: str) -> str | None:
    """None when a real protocol handshake succeeded, else why not."""
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port
    try:
        if parsed.scheme.startswith("postgres"):
            import psycopg

            dsn = url.rsplit("/", 1)[0] + "/postgres"
            with psycopg.connect(dsn, connect_timeout=3) as conn:
                conn.execute("SELECT 1")
        elif parsed.scheme.startswith("redis"):
            with socket.create_connection((host, port or 6379), timeout=3) as sock:
                sock.sendall(b"PING\r\n")
                if not sock.recv(16).startswith(b"+PONG"):
                    return "no PONG"
        else:
            from kombu import Connection

            with Connection(url, connect_timeout=3) as conn:
                conn.ensure_connection(max_retries=1)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}".splitlines()[0][:160]
    return None


def chose_sqlite() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith("sqlite:")


def chromium() -> str:
    """The browser the browser tests drive: the machine's own package, never a download."""
    return os.environ.get("SHOP_CHROMIUM") or "/usr/bin/chromium"


def detect() -> tuple[dict[str, str], dict[str, str]]:
    found: dict[str, str] = {}
    missing: dict[str, str] = {}
    for service, (var, default) in DEFAULTS.items():
        if service == "postgres" and chose_sqlite():
            continue
        url = os.environ.get(var) or default
        reason = _reachable(url)
        if reason is None:
            found[service] = url
        else:
            missing[service] = f"{url} ({reason})"
    browser = chromium()
    if shutil.which(browser):
        found["chromium"] = browser
    else:
        missing["chromium"] = f"{browser} (not installed: apt-get install chromium, as make test does)"
    return found, missing


def banner(lines: list[str], char: str = "!") -> str:
    width = max(len(line) for line in lines) + 4
    edge = char * width
    body = "\n".join(f"{char} {line.ljust(width - 4)} {char}" for line in lines)
    return f"\n{edge}\n{body}\n{edge}\n"


def main(argv: list[str]) -> int:
    found, missing = detect()
    required = os.environ.get("SHOP_REQUIRE_SERVICES") == "1"
    if "postgres" in found:
        os.environ["DATABASE_URL"] = found["postgres"]
    if "redis" in found:
        os.environ["REDIS_URL"] = found["redis"]
        # Parallel runs share the Redis database: each keeps (and clears) only its own keys.
        os.environ.setdefault("CACHE_KEY_PREFIX", f"shop-test-{os.getpid()}")
    if "rabbitmq" in found:
        # Unit tests stay eager; tests marked `broker` switch to this broker and run a real worker.
        os.environ["SHOP_TEST_BROKER_URL"] = found["rabbitmq"]
    if "chromium" in found:
        os.environ["SHOP_CHROMIUM"] = found["chromium"]
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ["SHOP_TEST_SERVICES"] = ",".join(sorted(found))
    os.environ.setdefault("SHOP_ENV", "test")
    print(f"services: using {', '.join(f'{k}={v}' for k, v in found.items()) or 'none'}", flush=True)
    if chose_sqlite():
        print(f"database: SQLite ({os.environ['DATABASE_URL']}); PostgreSQL-only tests are skipped", flush=True)
    if missing:
        lines = ["SERVICES MISSING — tests that need them are SKIPPED:"]
        lines += [f"  {name}: {why}" for name, why in missing.items()]
        if required:
            lines.append("SHOP_REQUIRE_SERVICES=1: this is a FAILURE.")
        print(banner(lines), file=sys.stderr, flush=True)
        if required:
            return 3
    import pytest

    return int(pytest.main(argv))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
