"""Secrets out of what people read: admin pages and log lines show ``[redacted]`` in their place.

A live password-reset link or an order-status link is a bearer credential for as long as it lives,
and staff with view rights (or anyone reading the logs) are not its owner. The stored data keep the
secrets (an email must still be sent with its link); whatever *displays* or *logs* them passes
through ``redact`` first. Secrets are recognised by shape, so a changed link template or a new place
that shows them is covered without a list of fields:

* Django password-reset tokens (``<base36 timestamp>-<32 hex>``) and any ``token=`` / ``secret=``
  query parameter;
* ``django.core.signing`` tokens (``payload:timestamp:signature``), e.g. order-status links;
* JSON Web Tokens and ``Bearer`` credentials;
* Stripe client secrets (``pi_…_secret_…``).
"""

from __future__ import annotations

import re
from typing import Any

REDACTED = "[redacted]"

_B64 = r"[A-Za-z0-9_-]"
_PATTERNS: tuple[re.Pattern[str], ...] = (
    # django.contrib.auth.tokens.PasswordResetTokenGenerator: base36 timestamp (seconds since 2001,
    # 6 digits until 2069), "-", 32 hex digits.
    re.compile(r"(?<![A-Za-z0-9_-])[0-9a-z]{4,8}-[0-9a-f]{32}(?![A-Za-z0-9_-])"),
    # django.core.signing (TimestampSigner, SHA-256): payload:timestamp:43-character signature.
    re.compile(rf"(?<!{_B64}){_B64}+:{_B64}+:{_B64}{{43}}(?!{_B64})"),
    # A JWT: header.payload.signature, both first parts base64url JSON objects.
    re.compile(rf"eyJ{_B64}*\.eyJ{_B64}*\.{_B64}*"),
    # Stripe PaymentIntent client secrets (and any other "<id>_secret_<value>").
    re.compile(r"(?<=_secret_)[A-Za-z0-9]+"),
    # Credentials in query strings and headers, whatever their shape.
    re.compile(r"(?i)(?<=[?&;]token=)[^&#\s\"'<>]+"),
    re.compile(r"(?i)(?<=secret=)[^&#\s\"'<>]+"),
    re.compile(r"(?i)(?<=bearer )[A-Za-z0-9._~+/=-]+"),
)


def redact(text: str) -> str:
    """``text`` with every secret it contains replaced by ``[redacted]``."""
    for pattern in _PATTERNS:
        text = pattern.sub(REDACTED, text)
    return text


def redact_data(value: Any) -> Any:
    """A JSON-like value (dicts, lists, strings …) with every string passed through ``redact``."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: redact_data(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact_data(item) for item in value]
    return value
