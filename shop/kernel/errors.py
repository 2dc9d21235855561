"""Errors every context raises. Each has a stable ``code`` (the contract clients rely on)
and an HTTP status hint, so the web edge and the internal transport render them alike."""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    """A business rule said no. Carries a stable code, a human detail and JSON-able extras."""

    code: ClassVar[str] = "domain_error"
    status: ClassVar[int] = 400
    title: ClassVar[str] = "The request could not be completed"
    # What kind of thing the error is about, named in the problem as ``resource`` ("order", "payment"):
    # one ``not_found`` code for every missing thing, and the resource says which (docs/api.md).
    resource: ClassVar[str] = ""

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        self.detail = detail or self.title
        self.extra = extra
        super().__init__(self.detail)

    def __eq__(self, other: object) -> bool:
        return (
            type(other) is type(self)
            and isinstance(other, DomainError)
            and (other.detail, other.extra) == (self.detail, self.extra)
        )

    def __hash__(self) -> int:
        return hash((type(self), self.detail))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.detail!r}, **{self.extra!r})"


class ValidationFailed(DomainError):
    code = "validation_error"
    status = 400
    title = "The request is invalid"


class NotFound(DomainError):
    """The thing the request names does not exist, or is not the caller's (the same answer for both, so
    nobody learns what exists). Subclasses name the thing in ``resource``; the code stays ``not_found``."""

    code = "not_found"
    status = 404
    title = "Not found"


class PermissionDenied(DomainError):
    code = "permission_denied"
    status = 403
    title = "You may not do this"


class Conflict(DomainError):
    code = "conflict"
    status = 409
    title = "The resource is in a state that does not allow this"


class ContextUnavailable(Exception):
    """A remote context could not answer (timeout, connection error, 5xx, open breaker).

    Not a DomainError: nothing was decided, so callers retry later or compensate.
    """

    code: ClassVar[str] = "context_unavailable"
    status: ClassVar[int] = 503

    def __init__(self, context: str, reason: str, *, retry_after: int = 5) -> None:
        self.context = context
        self.reason = reason
        self.retry_after = retry_after
        super().__init__(f"context {context!r} is unavailable: {reason}")
