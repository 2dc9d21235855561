"""Structured JSON log lines, each carrying the request id of the request that wrote it, with every
secret (reset links, order-status links, tokens) redacted from the finished line."""

from __future__ import annotations

import logging
from typing import Any

import structlog

from shop.kernel import context as call_context
from shop.kernel.redaction import redact


def add_request_context(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    request_id = call_context.request_id.get()
    if request_id is None:
        # Django logs 4xx/5xx responses ("Not Found: /x") after the middleware chain has returned,
        # when the context is gone; the record still carries the request, and the request its id.
        request_id = getattr(getattr(event_dict.get("_record"), "request", None), "request_id", None)
    if request_id is not None:
        event_dict.setdefault("request_id", request_id)
    if (user_id := call_context.acting_user_id.get()) is not None:
        event_dict.setdefault("user_id", user_id)
    return event_dict


def add_record_extras(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    record: logging.LogRecord | None = event_dict.get("_record")
    if record is not None:
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                event_dict.setdefault(key, value)
    return event_dict


_STANDARD_ATTRS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request", "server_time"}

PRE_CHAIN: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    add_request_context,
    add_record_extras,
]


class RedactingFormatter(structlog.stdlib.ProcessorFormatter):
    """Redacts the finished line, so the message, its extras (Celery's task lines carry the task's
    arguments) and any traceback are all covered, whoever logged them."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def json_formatter() -> structlog.stdlib.ProcessorFormatter:
    return RedactingFormatter(
        foreign_pre_chain=PRE_CHAIN,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(default=str),
        ],
    )


def console_formatter() -> structlog.stdlib.ProcessorFormatter:
    return RedactingFormatter(
        foreign_pre_chain=PRE_CHAIN,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.dev.ConsoleRenderer(colors=False),
        ],
    )
