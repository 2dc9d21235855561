"""Login throttles: per client IP and per submitted identity, so neither a botnet nor one IP
can grind passwords (hashing costs ~100 ms a try: throttling is also an availability control)."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView


class LoginRateThrottle(SimpleRateThrottle):
    scope = "login"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class LoginIdentityRateThrottle(SimpleRateThrottle):
    scope = "login_identity"
    identity_field = "email"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        data: Any = request.data
        identity = data.get(self.identity_field) if hasattr(data, "get") else None
        if not isinstance(identity, str) or not identity:
            return None
        return self.cache_format % {"scope": self.scope, "ident": identity.strip().lower()}


class WebhookRateThrottle(SimpleRateThrottle):
    """Payment providers post in bursts from few IPs: their own, higher limit per IP, so a burst
    is not refused (they would retry anyway) while a flood from one address still is."""

    scope = "webhook"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
