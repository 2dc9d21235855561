"""Showing stored text and JSON in the admin with its secrets redacted (``shop.kernel.redaction``):
a live reset link or order-status link is for its customer, not for every staff member with view rights."""

from __future__ import annotations

import json
from typing import Any

from django.utils.html import format_html
from django.utils.safestring import SafeString

from shop.kernel.redaction import redact, redact_data

_PRE = '<pre style="white-space: pre-wrap; word-break: break-all; margin: 0">{}</pre>'


def redacted_text(value: str) -> SafeString:
    return format_html(_PRE, redact(value or ""))


def redacted_json(value: Any) -> SafeString:
    return format_html(_PRE, json.dumps(redact_data(value), indent=2, sort_keys=True, ensure_ascii=False, default=str))
