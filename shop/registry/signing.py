"""HMAC signatures for internal calls: method, path, timestamp, acting user and body, with a replay window.

The acting user is signed too: it decides what the remote lets the call do, so a replayed request
must not be able to swap it. (Within the window an identical request can still be replayed; the
methods that change state are keyed by idempotency ids for that reason.)
"""

from __future__ import annotations

import hashlib
import hmac
import time

TIMESTAMP_HEADER = "X-Shop-Timestamp"
SIGNATURE_HEADER = "X-Shop-Signature"
ACTING_USER_HEADER = "X-Shop-Acting-User"
REQUEST_ID_HEADER = "X-Request-ID"
#: Set by the server on a business answer. A 4xx without it (a proxy's 404, a host the remote does
#: not allow, a bad signature) is a transport failure on the client, never a ``DomainError``.
DOMAIN_ERROR_HEADER = "X-Shop-Domain-Error"
WINDOW_SECONDS = 300


def signature(*, secret: str, method: str, path: str, timestamp: str, body: bytes, acting_user: str = "") -> str:
    message = b"\n".join([method.upper().encode(), path.encode(), timestamp.encode(), acting_user.encode(), body])
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(
    *, secret: str, method: str, path: str, body: bytes, acting_user: str = "", now: float | None = None
) -> dict[str, str]:
    timestamp = str(int(now if now is not None else time.time()))
    return {
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: signature(
            secret=secret, method=method, path=path, timestamp=timestamp, body=body, acting_user=acting_user
        ),
    }


def verify(
    *,
    secrets: list[str],
    method: str,
    path: str,
    timestamp: str | None,
    provided: str | None,
    body: bytes,
    acting_user: str = "",
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
            signature(secret=secret, method=method, path=path, timestamp=timestamp, body=body, acting_user=acting_user),
            provided,
        )
        for secret in secrets
        if secret
    )
