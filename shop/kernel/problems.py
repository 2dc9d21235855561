"""RFC 9457 problem details, built in one place for the public API and the internal transport."""

from __future__ import annotations

from typing import Any

from shop.kernel.errors import ContextUnavailable, DomainError

PROBLEM_CONTENT_TYPE = "application/problem+json"
RESERVED_MEMBERS = frozenset({"type", "title", "status", "detail", "code", "resource"})


def problem(
    *, status: int, code: str, title: str, detail: str | None = None, resource: str = "", **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"https://shop.example/problems/{code.replace('_', '-')}",
        "title": title,
        "status": status,
        "code": code,
    }
    if detail:
        body["detail"] = detail
    if resource:
        body["resource"] = resource
    body.update({k: v for k, v in extra.items() if k not in RESERVED_MEMBERS})
    return body


def problem_for_domain_error(exc: DomainError) -> dict[str, Any]:
    return problem(
        status=exc.status, code=exc.code, title=exc.title, detail=exc.detail, resource=exc.resource, **exc.extra
    )


def problem_for_unavailable(exc: ContextUnavailable) -> dict[str, Any]:
    return problem(
        status=503,
        code=exc.code,
        title="A part of the shop is temporarily unavailable",
        detail=f"Please retry in {exc.retry_after} seconds.",
        context=exc.context,
    )
