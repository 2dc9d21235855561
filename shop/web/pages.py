"""The shop's own HTML pages (landing, errors) and what every context's pages share: one base
template and stylesheet, no JavaScript, and headers that keep a page's secrets (a reset token, an
order-status link) in the page: a strict Content-Security-Policy, no Referer to other sites, no caching."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.template import loader
from django.templatetags.static import static
from django.utils.html import escape

# No scripts at all, styles only from our own static files, forms post only to us, never framed.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
_API_PREFIXES = ("/api/", "/internal/")
_ERROR_TITLES = {
    400: "Bad request",
    403: "Forbidden",
    404: "Page not found",
    405: "Method not allowed",
    409: "Already done",
    410: "Link expired",
    500: "Something went wrong on our side",
}


def secure(response: HttpResponse) -> HttpResponse:
    response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    # Not "no-referrer": Chromium then sends "Origin: null" with the page's own forms, which CSRF refuses.
    response["Referrer-Policy"] = "same-origin"
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


def render_page(
    request: HttpRequest, template: str, context: dict[str, Any] | None = None, *, status: int = 200
) -> HttpResponse:
    """A page extending ``web/base.html``, with the shop's name in its context and the headers above."""
    body = loader.render_to_string(template, {"shop_name": settings.SHOP_NAME, **(context or {})}, request=request)
    return secure(HttpResponse(body, status=status, content_type="text/html; charset=utf-8"))


def wants_html(request: HttpRequest) -> bool:
    """A browser on a page (not an API client): outside ``/api/`` and ``/internal/``, with an Accept
    header that prefers HTML (``*/*`` or none at all prefers problem+json)."""
    if request.path.startswith(_API_PREFIXES):
        return False
    preferred = request.get_preferred_type(["application/problem+json", "application/json", "text/html"])
    return preferred == "text/html"


def error_page(request: HttpRequest, status: int, detail: str = "", *, title: str = "") -> HttpResponse:
    """The HTML error page; plain HTML if even the template fails (this runs inside handler500)."""
    title = title or _ERROR_TITLES.get(status, "Error")
    context = {"status": status, "title": title, "detail": detail}
    try:
        return render_page(request, "web/error.html", context, status=status)
    except Exception:  # a broken template must not turn an error page into a second error
        html = f"<!doctype html><title>{escape(title)}</title><h1>{escape(title)}</h1><p>{escape(detail)}</p>"
        return secure(HttpResponse(html, status=status, content_type="text/html; charset=utf-8"))


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: a form sent without its token (another site's, or an expired page)."""
    return error_page(request, 403, "This form was sent without its security token. Reload the page and send it again.")


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask every site for /favicon.ico (the admin and Swagger UI name none): ours, not a 404."""
    return HttpResponsePermanentRedirect(static("web/favicon.svg"))


def landing(request: HttpRequest) -> HttpResponse:
    """``/`` (and the admin's "View site"): where to go from here."""
    return render_page(request, "web/landing.html")
