"""Stable error codes and the one problem+json shape the public API and the internal transport share."""

from __future__ import annotations

import pytest

from shop.kernel.errors import Conflict, ContextUnavailable, DomainError, NotFound, PermissionDenied, ValidationFailed
from shop.kernel.problems import problem, problem_for_domain_error, problem_for_unavailable


@pytest.mark.parametrize(
    ("error", "code", "status"),
    [
        (DomainError, "domain_error", 400),
        (ValidationFailed, "validation_error", 400),
        (NotFound, "not_found", 404),
        (PermissionDenied, "permission_denied", 403),
        (Conflict, "conflict", 409),
    ],
)
def test_each_error_keeps_its_code_and_status(error: type[DomainError], code: str, status: int) -> None:
    raised = error()
    assert (raised.code, raised.status, raised.detail) == (code, status, error.title)


class OrderNotFound(NotFound):
    resource = "order"


def test_a_missing_thing_is_not_found_and_names_its_resource() -> None:
    body = problem_for_domain_error(OrderNotFound("No such order.", order_id=7))
    assert body == {
        "type": "https://shop.example/problems/not-found",
        "title": "Not found",
        "status": 404,
        "code": "not_found",
        "detail": "No such order.",
        "resource": "order",
        "order_id": 7,
    }


def test_extras_never_overwrite_the_reserved_members() -> None:
    body = problem(status=409, code="conflict", title="No", code_extra=1, status_extra=2, **{"type": "x"})
    assert body["type"] == "https://shop.example/problems/conflict" and body["status"] == 409


def test_errors_compare_by_kind_detail_and_extras() -> None:
    assert Conflict("a", x=1) == Conflict("a", x=1)
    assert Conflict("a", x=1) != Conflict("a", x=2)
    assert Conflict("a") != ValidationFailed("a")
    assert hash(Conflict("a")) == hash(Conflict("a"))


def test_an_unavailable_context_is_a_503_that_says_when_to_retry() -> None:
    error = ContextUnavailable("payments", "timeout", retry_after=7)
    body = problem_for_unavailable(error)
    assert (body["status"], body["code"], body["context"]) == (503, "context_unavailable", "payments")
    assert "7 seconds" in body["detail"]
    assert "timeout" not in body["detail"]  # the reason is for logs, not for clients
