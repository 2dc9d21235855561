"""Everything under ``/api/`` answers problem+json, whatever Django would have said by itself.

``POST /api/v1/auth/token`` (no slash) was a 500 HTML page in DEBUG (``APPEND_SLASH`` cannot redirect
a POST), an unknown ``/api/v1/…`` path or ``/api/v1/orders/abc/`` Django's HTML 404. Pages outside
``/api/`` keep Django's behaviour (the slash redirect, DEBUG's technical pages).
"""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from tests.helpers import assert_problem

pytestmark = pytest.mark.django_db

API_404S = [
    "/api/v1/no-such-endpoint/",
    "/api/v1/orders/abc/",
    "/api/v1/orders/abc/cancel/",
    "/api/v1/users/me/addresses/1.5/",
    "/api/v2/users/me/",
    "/api/",
]


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("method", ["get", "post", "put", "delete"])
@pytest.mark.parametrize("url", ["/api/v1/auth/token", "/api/v1/cart/lines", "/api/v1/users/me"])
def test_a_missing_trailing_slash_is_a_404_problem_naming_the_right_url(debug: bool, method: str, url: str) -> None:
    with override_settings(DEBUG=debug):
        response = getattr(Client(raise_request_exception=False), method)(url, content_type="application/json")
    body = assert_problem(response, 404, "not_found")
    assert body["detail"].endswith(f"{url}/")


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("url", API_404S)
def test_an_unrouted_api_path_is_a_404_problem_in_debug_too(debug: bool, url: str) -> None:
    with override_settings(DEBUG=debug):
        response = Client(raise_request_exception=False).get(url, HTTP_ACCEPT="text/html")
    assert_problem(response, 404, "not_found")


@pytest.mark.urls("tests.web.urls")
@override_settings(DEBUG=True)
def test_a_crash_under_api_is_a_problem_500_in_debug_too() -> None:
    response = Client(raise_request_exception=False).get("/api/test/bug/")
    assert_problem(response, 500, "server_error")
    assert "hunter2" not in response.content.decode()


@override_settings(DEBUG=True)
def test_pages_outside_api_keep_djangos_behaviour() -> None:
    client = Client(raise_request_exception=False)
    redirect = client.get("/admin")
    assert redirect.status_code == 301 and redirect["Location"] == "/admin/"
    technical = client.get("/no-such-page/")
    assert technical.status_code == 404 and technical["Content-Type"].startswith("text/html")
