"""The one ``Idempotency-Key`` rule of the orders API, for checkout and pay alike.

* The key is required: printable, at most 255 characters (``IdempotencyKeyRequired``, 400).
* It belongs to the customer; "the same request" means the same body (its fingerprint).
* A key that already has an answer gets that answer again (the order as it stands, 200), however
  often it is sent; the same key with a different body is refused (``IdempotencyKeyReused``, 422),
  and nothing changes; while the first request with a key is still being answered, a twin is told
  to retry (``IdempotencyKeyInUse``, 409).
* A request refused with a 4xx changed nothing, so it does not use its key up: correct the request
  and send it again with the same key.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from shop.orders import api

MAX_KEY_CHARS = 255


def check_key(key: str | None) -> str:
    key = (key or "").strip()
    if not key:
        raise api.IdempotencyKeyRequired("Send an Idempotency-Key header (e.g. a UUID) with every request.")
    if len(key) > MAX_KEY_CHARS or not key.isprintable():
        raise api.IdempotencyKeyRequired(f"The Idempotency-Key must be printable and at most {MAX_KEY_CHARS} chars.")
    return key


def fingerprint(body: Any) -> str:
    """What "the same request" means for a replay: the body's canonical JSON, hashed."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()
