"""JWT authentication that also records the acting user for calls to other contexts and logs."""

from __future__ import annotations

from typing import Any

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication as BaseJWTAuthentication

from shop.kernel import context as call_context


class JWTAuthentication(BaseJWTAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        result = super().authenticate(request)
        if result is not None:
            call_context.acting_user_id.set(str(result[0].pk))
        return result


class JWTAuthenticationScheme(SimpleJWTScheme):
    """Documents our JWT authentication in the OpenAPI schema as a bearer scheme."""

    target_class = "shop.web.authentication.JWTAuthentication"
    name = "jwtAuth"
