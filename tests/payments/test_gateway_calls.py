"""Gateway calls go through one breaker per gateway that does not serialise them: with threaded
servers, two customers paying at once are two gateway calls at once (pybreaker's own breaker held
its lock for the whole call, so payments ran one at a time per process)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from shop.payments.adapters import calls
from shop.payments.models import Payment


def test_two_slow_gateway_calls_overlap_in_time() -> None:
    payment = Payment(gateway="simulated")  # never saved: a successful call writes no ledger row
    both_inside = threading.Barrier(2, timeout=5)  # each call waits, inside the gateway, for the other
    spans: list[tuple[float, float]] = []

    def slow_gateway_call() -> str:
        started = time.monotonic()
        both_inside.wait()  # BrokenBarrierError when the calls are serialised
        time.sleep(0.05)
        spans.append((started, time.monotonic()))
        return "charged"

    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(calls.call, payment, kind="charge", key=f"k{n}", fn=slow_gateway_call) for n in (1, 2)]
        results = [future.result(timeout=10) for future in futures]

    assert results == ["charged", "charged"]
    (_, first_end), (second_start, _) = sorted(spans)
    assert second_start < first_end  # the second call began while the first was still in the gateway
