"""The shop's own pages and what a browser gets when something goes wrong: the landing page at ``/``,
HTML error pages with an HTML content type outside ``/api/``, problem+json (with a JSON body) for
API clients everywhere, and the headers every page carries."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from shop.web.pages import CONTENT_SECURITY_POLICY
from tests.helpers import assert_problem

pytestmark = pytest.mark.django_db

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"
HTML_TYPE = "text/html; charset=utf-8"


def test_the_landing_page_links_docs_admin_and_health() -> None:
    page = Client().get("/", HTTP_ACCEPT=BROWSER)

    assert page.status_code == 200
    assert page["Content-Type"] == HTML_TYPE
    html = page.content.decode()
    for href in ("/api/docs/", "/api/schema/", "/admin/", "/healthz", "/readyz"):
        assert f'href="{href}"' in html
    assert page["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "<script" not in html and "style=" not in html  # nothing the CSP would block


def test_the_admins_view_site_link_is_the_landing_page() -> None:
    from django.contrib import admin

    assert admin.site.site_url == "/"
    assert Client().get(admin.site.site_url).status_code == 200


def test_a_browser_gets_an_html_404_outside_the_api() -> None:
    page = Client().get("/no/such/page/", HTTP_ACCEPT=BROWSER)

    assert page.status_code == 404
    assert page["Content-Type"] == HTML_TYPE
    html = page.content.decode()
    assert "<h1>Page not found</h1>" in html
    assert 'href="/"' in html


@pytest.mark.parametrize("accept", [BROWSER, "application/json", "*/*"])
def test_the_api_answers_problem_json_whatever_the_client_accepts(accept: str) -> None:
    response = Client().get("/api/v1/no-such-endpoint/", HTTP_ACCEPT=accept)
    assert_problem(response, 404, "not_found")


@pytest.mark.parametrize("accept", ["application/json", "*/*", "application/problem+json"])
def test_api_clients_keep_problem_json_outside_the_api_too(accept: str) -> None:
    assert_problem(Client().get("/no/such/page/", HTTP_ACCEPT=accept), 404, "not_found")


@pytest.mark.urls("tests.web.urls")
def test_a_browser_gets_an_html_500_that_leaks_nothing() -> None:
    page = Client(raise_request_exception=False).get("/test/page-bug/", HTTP_ACCEPT=BROWSER)

    assert page.status_code == 500
    assert page["Content-Type"] == HTML_TYPE
    html = page.content.decode()
    assert "Something went wrong on our side" in html
    assert "hunter2" not in html and "RuntimeError" not in html


def test_an_api_error_is_a_json_body_even_with_the_browsable_api_on(settings: Any) -> None:
    """DEBUG turns DRF's browsable API on; a browser used to get its HTML under problem+json (shown as source)."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_RENDERER_CLASSES": [
            "rest_framework.renderers.JSONRenderer",
            "rest_framework.renderers.BrowsableAPIRenderer",
        ],
    }

    response = Client().get("/api/v1/users/me/", HTTP_ACCEPT=BROWSER)

    body = assert_problem(response, 401, "not_authenticated")
    assert json.loads(response.content) == body  # JSON, not an HTML page


def test_the_favicon_is_ours() -> None:
    response = Client().get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("/static/web/favicon.svg")
