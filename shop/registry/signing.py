"""HMAC signatures for internal calls: method, path, timestamp and body, with a replay window."""

from __future__ import annotations

import hashlib
import hmac
import time

TIMESTAMP_HEADER = "X-Shop-Timestamp"
SIGNATURE_HEADER = "X-Shop-Signature"
WINDOW_SECONDS = 300


def signature(*, secret: str, method: str, path: str, timestamp: str, body: bytes) -> str:
    message = b"\n".join([method.upper().encode(), path.encode(), timestamp.encode(), body])
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(*, secret: str, method: str, path: str, body: bytes, now: float | None = None) -> dict[str, str]:
    timestamp = str(int(now if now is not None else time.time()))
    return {
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: signature(secret=secret, method=method, path=path, timestamp=timestamp, body=body),
    }


def verify(
    *,
    secrets: list[str],
    method: str,
    path: str,
    timestamp: str | None,
    provided: str | None,
    body: bytes,
    now: float | None = None,
) -> bool:
    """True when any current secret (rotation keeps two) signed this request within the window."""
    if not timestamp or not provided or not timestamp.isdigit():
        return False
    current = now if now is not None else time.time()
    if abs(current - int(timestamp)) > WINDOW_SECONDS:
        return False
    return any(
        hmac.compare_digest(
            signature(secret=secret, method=method, path=path, timestamp=timestamp, body=body), provided
        )
        for secret in secrets
        if secret
    )
