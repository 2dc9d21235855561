"""Per-request values that must follow a call across contexts (request id, acting user)."""

from __future__ import annotations

from contextvars import ContextVar

request_id: ContextVar[str | None] = ContextVar("shop_request_id", default=None)
acting_user_id: ContextVar[str | None] = ContextVar("shop_acting_user_id", default=None)
