"""Fixtures for the HTTP edge tests."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from rest_framework.throttling import SimpleRateThrottle

from shop.web.logging import json_formatter


@pytest.fixture
def throttle_rates(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Set throttle rates for one test. DRF copies ``DEFAULT_THROTTLE_RATES`` onto the class at
    import, so overriding the setting alone changes nothing: patch the class attribute."""

    def set_rates(**rates: str) -> None:
        merged = {**SimpleRateThrottle.THROTTLE_RATES, **rates}
        monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", merged)

    return set_rates


@pytest.fixture
def json_log_lines() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """Log lines exactly as the production handler writes them: formatted at emit time (while the
    request's context is live) by the project's structlog JSON formatter, then parsed back."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(json_formatter())
    root = logging.getLogger()
    root.addHandler(handler)

    def lines() -> list[dict[str, Any]]:
        return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]

    try:
        yield lines
    finally:
        root.removeHandler(handler)
