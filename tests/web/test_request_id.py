"""Every response carries ``X-Request-ID`` and every log line is JSON carrying the same id."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

MINTED = re.compile(r"^[0-9a-f]{32}$")
LogLines = Callable[[], list[dict[str, Any]]]


@pytest.mark.parametrize("incoming", ["abc-123", "0f1e2d3c4b5a69788796a5b4c3d2e1f0", "gw.req_42-A", "x" * 128])
def test_a_sane_incoming_request_id_is_echoed(incoming: str) -> None:
    response = Client().get("/healthz", HTTP_X_REQUEST_ID=incoming)
    assert response["X-Request-ID"] == incoming


def test_a_request_id_is_minted_when_absent_and_differs_per_request() -> None:
    first, second = Client().get("/healthz")["X-Request-ID"], Client().get("/healthz")["X-Request-ID"]
    assert MINTED.match(first) and MINTED.match(second)
    assert first != second


@pytest.mark.parametrize(
    "incoming",
    ["x" * 500, "x" * 129, "has spaces in it", "semi;colon", "<script>", 'quote"d', "ünïcode", ""],
)
def test_an_insane_request_id_is_replaced_not_echoed(incoming: str) -> None:
    """Log injection and header bloat: an id we cannot trust is never written to logs or headers."""
    response = Client().get("/healthz", HTTP_X_REQUEST_ID=incoming)
    assert MINTED.match(response["X-Request-ID"])


@pytest.mark.parametrize("url", ["/api/v1/users/me/", "/no/such/page/", "/api/v1/auth/token/"])
def test_error_responses_carry_the_request_id_too(url: str) -> None:
    response = Client().get(url, HTTP_X_REQUEST_ID="trace-me-1")
    assert response.status_code >= 400
    assert response["X-Request-ID"] == "trace-me-1"


def test_log_lines_are_json_with_the_request_id(json_log_lines: LogLines) -> None:
    response = Client().get("/api/v1/users/me/", HTTP_X_REQUEST_ID="trace-me-2")
    assert response.status_code == 401

    lines = json_log_lines()
    access = [line for line in lines if line.get("logger") == "shop.access"]
    assert len(access) == 1
    expected = {"request_id": "trace-me-2", "method": "GET", "path": "/api/v1/users/me/", "status": 401}
    assert {key: access[0].get(key) for key in expected} == expected
    assert {"timestamp", "level", "event", "duration_ms"} <= set(access[0])


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [("get", "/api/v1/users/me/", 401), ("get", "/api/v1/nope/", 404), ("post", "/api/v1/auth/token/", 400)],
)
def test_a_4xx_is_logged_once_by_the_access_log(json_log_lines: LogLines, method: str, url: str, status: int) -> None:
    """Not also as Django's "Bad Request: …" warning, nor again by Django's own console handler."""
    response = getattr(Client(), method)(url, HTTP_X_REQUEST_ID="trace-me-once", content_type="application/json")
    assert response.status_code == status
    mine = [line for line in json_log_lines() if line.get("request_id") == "trace-me-once"]
    assert [(line["logger"], line["status"]) for line in mine] == [("shop.access", status)]
    for name in ("django", "django.request"):
        assert logging.getLogger(name).handlers == [], name  # nothing of Django's prints a second copy
    assert not logging.getLogger("django.server").isEnabledFor(logging.ERROR)  # runserver's own request lines


def test_the_request_id_does_not_leak_into_later_log_lines(json_log_lines: LogLines) -> None:
    Client().get("/healthz", HTTP_X_REQUEST_ID="trace-me-3")
    logging.getLogger("shop.test").warning("outside any request")
    outside = [line for line in json_log_lines() if line.get("event") == "outside any request"]
    assert len(outside) == 1
    assert "request_id" not in outside[0]


@pytest.mark.urls("tests.web.urls")
def test_a_crash_is_logged_as_one_json_line_with_the_request_id_and_traceback(json_log_lines: LogLines) -> None:
    response = Client(raise_request_exception=False).get("/test/bug/", HTTP_X_REQUEST_ID="trace-me-4")
    assert response.status_code == 500

    errors = [line for line in json_log_lines() if line.get("level") == "error"]
    assert errors, json_log_lines()
    crash = errors[0]
    assert crash["request_id"] == "trace-me-4"
    assert "RuntimeError" in crash["exception"]
    assert response["X-Request-ID"] == "trace-me-4"
