"""Request id in and out, in-cluster requests behind a TLS proxy, one structured access-log line per
request, and the edge's guarantees that hold whatever a view does: ``/api/`` always answers
problem+json, and a database that cannot be reached is a 503 with ``Retry-After``, never a 500."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.middleware.common import CommonMiddleware

from shop.kernel import context as call_context
from shop.kernel.problems import PROBLEM_CONTENT_TYPE, problem

logger = logging.getLogger("shop.access")
edge_logger = logging.getLogger("shop.web")
# Paths whose clients are programs: every answer there is JSON, every error problem+json.
MACHINE_PATH_PREFIXES = ("/api/", "/internal/")
DATABASE_RETRY_AFTER_S = 5
# The stable code of an error response the edge had to rewrite (Django's own 404/405/500 pages).
_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    500: "server_error",
    503: "service_unavailable",
}
_KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
HEADER = "X-Request-ID"


class RequestIDMiddleware:
    """Accept a sane incoming ``X-Request-ID`` (from a proxy or a calling context) or mint one."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get(HEADER, "")
        request_id = incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        # Both values are per request: a worker thread must never carry them into the next one.
        token = call_context.request_id.set(request_id)
        user_token = call_context.acting_user_id.set(None)
        try:
            response = self.get_response(request)
        finally:
            call_context.acting_user_id.reset(user_token)
            call_context.request_id.reset(token)
        response[HEADER] = request_id
        return response


class InClusterMiddleware:
    """Probes and internal calls come from inside the cluster, not through the public proxy: a
    kubelet's probe has the pod's IP as ``Host``, a calling context the Service's name, and neither
    has ``X-Forwarded-Proto``. On those paths only (``SHOP_IN_CLUSTER_PATHS``, also
    ``SECURE_REDIRECT_EXEMPT`` in production) the ``Host`` is taken as sent instead of checked
    against ``ALLOWED_HOSTS``: nothing there builds a URL from it, and internal calls are signed.
    Every public path keeps the host check and the HTTPS redirect. Sits before both."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.paths = [re.compile(pattern) for pattern in settings.SHOP_IN_CLUSTER_PATHS]

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info.lstrip("/")
        if any(pattern.search(path) for pattern in self.paths):
            # Django's own host reading, minus the ALLOWED_HOSTS validation.
            request.get_host = request._get_raw_host  # type: ignore[method-assign,attr-defined]
        return self.get_response(request)


class AccessLogMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        logger.info(
            "request",
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "request_id": getattr(request, "request_id", None),
            },
        )
        return response


def is_machine_path(path: str) -> bool:
    return path.startswith(MACHINE_PATH_PREFIXES)


def problem_response(
    status: int, code: str, *, title: str | None = None, detail: str | None = None, **extra: Any
) -> HttpResponse:
    body = problem(status=status, code=code, title=title or HTTPStatus(status).phrase, detail=detail, **extra)
    return JsonResponse(body, status=status, content_type=PROBLEM_CONTENT_TYPE)


def database_unavailable() -> HttpResponse:
    """503 ``service_unavailable`` with ``Retry-After``: nothing was decided, the client retries later."""
    response = problem_response(
        503,
        "service_unavailable",
        title="The shop is temporarily unavailable",
        detail=f"Please retry in {DATABASE_RETRY_AFTER_S} seconds.",
    )
    response["Retry-After"] = str(DATABASE_RETRY_AFTER_S)
    response._has_been_logged = True  # type: ignore[attr-defined]  # logged once, with its reason, by the caller
    return response


def is_database_unavailable(exc: BaseException | None) -> bool:
    """Connection refused, dropped or timed out (``OperationalError``), or a connection already closed
    (``InterfaceError``): the database cannot answer now. Bad SQL or data (other ``DatabaseError``s) is a bug."""
    return isinstance(exc, OperationalError | InterfaceError)


def log_database_unavailable(request: HttpRequest, exc: BaseException) -> None:
    edge_logger.warning(
        "database unavailable",
        extra={"path": request.path, "error": type(exc).__name__, "request_id": getattr(request, "request_id", None)},
    )


class DatabaseUnavailableMiddleware:
    """A view (DRF's authentication included) that cannot reach the database answers 503, on every path.

    The innermost middleware, so its ``process_exception`` is the first to see a view's exception;
    failures outside views (other middleware) reach ``handler500``, which answers the same."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_database_unavailable(exception):
            return None
        log_database_unavailable(request, exception)
        return database_unavailable()


class MachinePathProblemMiddleware:
    """Under ``/api/`` (and ``/internal/``) every error is problem+json, even where Django answers
    by itself: its HTML 404 and 500 pages in DEBUG, an unrouted path. Other paths keep Django's pages."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code < 400
            or not is_machine_path(request.path_info)
            or response.get("Content-Type", "").startswith(PROBLEM_CONTENT_TYPE)
        ):
            return response
        rewritten = problem_response(response.status_code, _CODES.get(response.status_code, "error"))
        for header in _KEPT_HEADERS:
            if header in response:
                rewritten[header] = response[header]
        return rewritten


class SlashlessApiMiddleware(CommonMiddleware):
    """Django's ``CommonMiddleware``, except that a machine path missing its trailing slash is a 404
    problem naming the right URL. ``APPEND_SLASH`` would redirect there (a POST turns into a GET, or
    in DEBUG raises a ``RuntimeError``: a 500); a client must fix its URL, not follow a redirect."""

    def should_redirect_with_slash(self, request: HttpRequest) -> bool:
        if is_machine_path(request.path_info):
            return False
        return bool(super().should_redirect_with_slash(request))

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if (
            response.status_code == 404
            and is_machine_path(request.path_info)
            and not request.path_info.endswith("/")
            and super().should_redirect_with_slash(request)
        ):
            return problem_response(
                404,
                "not_found",
                title="Not found",
                detail=f"No endpoint here; the URL ends with a slash: {request.path}/",
            )
        return super().process_response(request, response)


class UndocumentedQueryParameterMiddleware:
    """A query parameter that a shop view does not read is a 400 ``validation_error`` naming it,
    never silently ignored: a typo (``?stauts=paid``) must not answer the unfiltered list, and the
    schema, which lists each operation's parameters, is the whole contract. A view lists what it
    reads in ``query_parameters`` (none by default)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        view_class = getattr(view_func, "cls", None)  # DRF's as_view() marks its views so
        if (
            not request.GET
            or view_class is None
            or not view_class.__module__.startswith("shop.")
            or not is_machine_path(request.path_info)
        ):
            return None
        unknown = sorted(set(request.GET) - set(getattr(view_class, "query_parameters", ())))
        if not unknown:
            return None
        return problem_response(
            400,
            "validation_error",
            title="The request is invalid",
            detail="One or more fields are invalid.",
            errors={name: ["Unknown query parameter."] for name in unknown},
        )
