"""Every error the API returns is RFC 9457 problem+json with a stable ``code``; a browser on a page
(outside ``/api/``, asking for HTML) gets an HTML error page instead (``shop.web.pages``)."""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from rest_framework import exceptions as drf
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import set_rollback

from shop.kernel.errors import ContextUnavailable, DomainError
from shop.kernel.problems import PROBLEM_CONTENT_TYPE, problem, problem_for_domain_error, problem_for_unavailable
from shop.web.middleware import database_unavailable, is_database_unavailable, log_database_unavailable
from shop.web.pages import error_page, wants_html

logger = logging.getLogger(__name__)

# DRF's own codes mapped to ours: the public contract does not follow DRF's renames.
_DRF_CODES: dict[type[drf.APIException], tuple[str, str]] = {
    drf.ValidationError: ("validation_error", "The request is invalid"),
    drf.ParseError: ("malformed_request", "The request body could not be parsed"),
    drf.NotAuthenticated: ("not_authenticated", "Authentication is required"),
    drf.AuthenticationFailed: ("authentication_failed", "The credentials were not accepted"),
    drf.PermissionDenied: ("permission_denied", "You may not do this"),
    drf.NotFound: ("not_found", "Not found"),
    drf.MethodNotAllowed: ("method_not_allowed", "Method not allowed"),
    drf.NotAcceptable: ("not_acceptable", "Cannot produce the requested media type"),
    drf.UnsupportedMediaType: ("unsupported_media_type", "Unsupported media type"),
    drf.Throttled: ("throttled", "Too many requests"),
}


def _drf_code(exc: drf.APIException) -> tuple[str, str]:
    for cls in type(exc).__mro__:
        if cls in _DRF_CODES:
            return _DRF_CODES[cls]
    code = exc.get_codes() if isinstance(exc.get_codes(), str) else "error"
    return str(code), "The request could not be completed"


def _response(body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    response = Response(body, status=body["status"], headers=headers, content_type=PROBLEM_CONTENT_TYPE)
    return response


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF ``EXCEPTION_HANDLER``: domain errors, DRF errors and 404/403 as problem+json."""
    _render_as_json(context)
    if isinstance(exc, DomainError):
        set_rollback()
        return _response(problem_for_domain_error(exc))
    if isinstance(exc, ContextUnavailable):
        set_rollback()
        logger.warning("context unavailable", extra={"context": exc.context, "reason": exc.reason})
        return _response(problem_for_unavailable(exc), {"Retry-After": str(exc.retry_after)})
    if isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf.PermissionDenied()
    if not isinstance(exc, drf.APIException):
        return None  # a bug: Django's handler500 answers (problem+json too) and logs it
    set_rollback()
    code, title = _drf_code(exc)
    headers: dict[str, str] = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = str(exc.auth_header)  # type: ignore[attr-defined]
    if getattr(exc, "wait", None) is not None:
        headers["Retry-After"] = str(int(exc.wait))  # type: ignore[attr-defined]
    extra: dict[str, Any] = {}
    if isinstance(exc, drf.ValidationError):
        detail = "One or more fields are invalid."
        extra["errors"] = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
    else:
        detail = str(exc.detail)
    if isinstance(exc, drf.AuthenticationFailed | drf.NotAuthenticated) and isinstance(exc.detail, dict):
        detail = str(exc.detail.get("detail", title))
    body = problem(status=exc.status_code, code=code, title=title, detail=detail, **extra)
    return _response(body, headers)


def _render_as_json(context: dict[str, Any]) -> None:
    """A problem body is always JSON: with DRF's browsable API on (DEBUG), a browser would otherwise
    get the HTML page under the problem+json content type, and see its source."""
    request = context.get("request")
    if request is not None:
        request.accepted_renderer, request.accepted_media_type = JSONRenderer(), "application/json"


# --- Django's handler400/403/404/500 ----------------------------------------------------------------
_Handler = Callable[..., HttpResponse]


def html_for_browsers(status: int) -> Callable[[_Handler], _Handler]:
    """A browser on a page gets the HTML error page; everyone else gets the handler's problem+json."""

    def decorate(handler: _Handler) -> _Handler:
        @functools.wraps(handler)
        def handle(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if wants_html(request):
                return error_page(request, status)
            return handler(request, *args, **kwargs)

        return handle

    return decorate


def _django_problem(status: int, code: str, title: str) -> HttpResponse:
    return JsonResponse(
        problem(status=status, code=code, title=title), status=status, content_type=PROBLEM_CONTENT_TYPE
    )


@html_for_browsers(404)
def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _django_problem(404, "not_found", "Not found")


@html_for_browsers(500)
def server_error(request: HttpRequest) -> HttpResponse:
    failure = sys.exc_info()[1]  # Django calls this inside the ``except`` that caught the failure
    if is_database_unavailable(failure):  # raised outside a view (the middleware covers views)
        assert failure is not None
        log_database_unavailable(request, failure)
        return database_unavailable()
    return _django_problem(500, "server_error", "Something went wrong on our side")


@html_for_browsers(400)
def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _django_problem(400, "bad_request", "Bad request")


@html_for_browsers(403)
def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _django_problem(403, "permission_denied", "You may not do this")
