"""A small closed-loop HTTP/1.1 load generator (``wrk`` is not assumed to exist).

``run_load`` is meant to run in its own process, away from the orchestrator. It keeps ``connections`` requests in
flight on one asyncio loop; every request opens a fresh TCP connection and sends ``Connection: close``, because
gunicorn's sync workers close every connection anyway. Latency is measured from connect to the server's close, so it
includes the TCP handshake, as the client of a sync-worker server really sees it.

A scenario is a list of requests sent in turn: usually one, or one per customer (and SKU), so that a write spreads
over many cart rows instead of measuring 32 clients queueing on one row lock.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

REQUEST_TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """One fully resolved request, sent again and again (in turn with the others of its scenario)."""

    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def encode(self, host: str, port: int) -> bytes:
        lines = [f"{self.method} {self.path} HTTP/1.1", f"Host: {host}:{port}", "Connection: close"]
        lines += [f"{name}: {value}" for name, value in self.headers.items()]
        if self.body or self.method not in {"GET", "HEAD", "DELETE"}:
            lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body


@dataclass(frozen=True, slots=True)
class Sample:
    """What one measured window produced (requests are counted by when they started)."""

    seconds: float
    latencies_ms: list[float]  # of 2xx responses, sorted
    errors: dict[str, int]  # non-2xx by status ("429": 3), failures by name ("ConnectionResetError": 1)
    completed: float | None = None  # what the rate counts, when not one per latency (bench/checkout.py)

    @property
    def done(self) -> float:
        return len(self.latencies_ms) if self.completed is None else self.completed

    @property
    def rps(self) -> float:
        return self.done / self.seconds if self.seconds else 0.0


@dataclass(frozen=True, slots=True)
class Summary:
    """Several samples of one scenario (interleaved rounds) merged into one row."""

    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    error_kinds: dict[str, int]
    round_rps: list[float]

    @classmethod
    def of(cls, samples: list[Sample]) -> Summary:
        latencies = sorted(latency for sample in samples for latency in sample.latencies_ms)
        errors: Counter[str] = Counter()
        for sample in samples:
            errors.update(sample.errors)
        seconds = sum(sample.seconds for sample in samples)
        done = sum(sample.done for sample in samples)
        return cls(
            rps=done / seconds if seconds else 0.0,
            p50_ms=percentile(latencies, 0.50),
            p99_ms=percentile(latencies, 0.99),
            requests=round(done),
            errors=sum(errors.values()),
            error_kinds=dict(errors),
            round_rps=[sample.rps for sample in samples],
        )


class _Exchange(asyncio.Protocol):
    """Write the request on connect, collect bytes until the server closes."""

    def __init__(self, payload: bytes, done: asyncio.Future[bytes]) -> None:
        self.payload, self.done, self.chunks = payload, done, list[bytes]()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        transport.write(self.payload)

    def data_received(self, data: bytes) -> None:
        self.chunks.append(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.done.done():
            return
        if exc is None:
            self.done.set_result(b"".join(self.chunks))
        else:
            self.done.set_exception(exc)


async def exchange(host: str, port: int, payload: bytes) -> tuple[str, bytes]:
    """One request on a new connection; returns the status code ("200") or the error's name, and the raw
    response (headers and body; ``b""`` after an error)."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[bytes] = loop.create_future()
    transport: asyncio.BaseTransport | None = None
    try:
        async with asyncio.timeout(REQUEST_TIMEOUT_S):
            transport, _ = await loop.create_connection(lambda: _Exchange(payload, done), host, port)
            response = await done
    except TimeoutError:
        return "timeout", b""
    except OSError as exc:
        return type(exc).__name__, b""
    finally:
        if transport is not None:
            transport.close()
    status = response[9:12]
    if not (response.startswith(b"HTTP/1.") and status.isdigit()):
        return "bad-response", response
    return status.decode("latin-1"), response


async def _send(host: str, port: int, payload: bytes) -> str:
    """One request on a new connection; returns the status code ("200") or the error's name."""
    status, _ = await exchange(host, port, payload)
    return status


def response_body(response: bytes) -> bytes:
    """The body of a raw HTTP/1.1 response read to the server's close (chunked or not)."""
    head, _, body = response.partition(b"\r\n\r\n")
    if b"transfer-encoding: chunked" not in head.lower():
        return body
    chunks: list[bytes] = []
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        chunks.append(rest[:size])
        body = rest[size + 2 :]
    return b"".join(chunks)


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted list (0.0 if empty)."""
    if not sorted_values:
        return 0.0
    return sorted_values[max(0, math.ceil(fraction * len(sorted_values)) - 1)]


async def _load(host: str, port: int, payloads: list[bytes], connections: int, warmup: float, seconds: float) -> Sample:
    started = time.perf_counter()
    measure_from, end = started + warmup, started + warmup + seconds
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    sent = 0  # one event loop: the clients share this counter without a lock

    async def client() -> None:
        nonlocal sent
        while (t0 := time.perf_counter()) < end:
            payload, sent = payloads[sent % len(payloads)], sent + 1
            outcome = await _send(host, port, payload)
            if t0 < measure_from:
                continue
            if outcome.startswith("2") and len(outcome) == 3:
                latencies.append((time.perf_counter() - t0) * 1000)
            else:
                errors[outcome] += 1

    await asyncio.gather(*(client() for _ in range(connections)))
    return Sample(seconds=seconds, latencies_ms=sorted(latencies), errors=dict(errors))


def run_load(
    host: str, port: int, requests: Sequence[HttpRequest], *, connections: int, warmup: float, seconds: float
) -> Sample:
    """Hammer ``requests`` (in turn) with ``connections`` concurrent clients: ``warmup`` seconds unrecorded, then
    ``seconds``."""
    payloads = [request.encode(host, port) for request in requests]
    return asyncio.run(_load(host, port, payloads, connections, warmup, seconds))
