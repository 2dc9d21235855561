"""HMAC signatures for internal calls: method, path, timestamp, nonce, acting user and body, with a window.

The acting user is signed too: it decides what the remote lets the call do, so a replayed request
must not be able to swap it. Every request carries a fresh random nonce, also signed; the server
remembers the nonces it has seen for the window (``shop.registry.transport.replay``), so a captured request
cannot be replayed at all, and a client's own retry (a new nonce) is never mistaken for one.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time

TIMESTAMP_HEADER = "X-Shop-Timestamp"
NONCE_HEADER = "X-Shop-Nonce"
SIGNATURE_HEADER = "X-Shop-Signature"
ACTING_USER_HEADER = "X-Shop-Acting-User"
REQUEST_ID_HEADER = "X-Request-ID"
#: Set by the server on a business answer. A 4xx without it (a proxy's 404, a host the remote does
#: not allow, a bad signature) is a transport failure on the client, never a ``DomainError``.
DOMAIN_ERROR_HEADER = "X-Shop-Domain-Error"
WINDOW_SECONDS = 300
NONCE = re.compile(r"^[0-9a-f]{32}$")


def signature(
    *, secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes, acting_user: str = ""
) -> str:
    message = b"\n".join(
        [method.upper().encode(), path.encode(), timestamp.encode(), nonce.encode(), acting_user.encode(), body]
    )
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(
    *,
    secret: str,
    method: str,
    path: str,
    body: bytes,
    acting_user: str = "",
    now: float | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """Headers for one request: a new nonce each time unless a test pins one to replay it."""
    timestamp = str(int(now if now is not None else time.time()))
    nonce = nonce or secrets.token_hex(16)
    return {
        TIMESTAMP_HEADER: timestamp,
        NONCE_HEADER: nonce,
        SIGNATURE_HEADER: signature(
            secret=secret,
            method=method,
            path=path,
            timestamp=timestamp,
            nonce=nonce,
            body=body,
            acting_user=acting_user,
        ),
    }


def verify(
    *,
    secrets: list[str],
    method: str,
    path: str,
    timestamp: str | None,
    nonce: str | None,
    provided: str | None,
    body: bytes,
    acting_user: str = "",
    now: float | None = None,
) -> bool:
    """True when any current secret (rotation keeps two) signed this request within the window.
    (Whether its nonce was seen before is the caller's second question: ``replay.first_use``.)"""
    if not timestamp or not provided or not timestamp.isdigit() or not nonce or not NONCE.match(nonce):
        return False
    current = now if now is not None else time.time()
    if abs(current - int(timestamp)) > WINDOW_SECONDS:
        return False
    return any(
        hmac.compare_digest(
            signature(
                secret=secret,
                method=method,
                path=path,
                timestamp=timestamp,
                nonce=nonce,
                body=body,
                acting_user=acting_user,
            ),
            provided,
        )
        for secret in secrets
        if secret
    )
