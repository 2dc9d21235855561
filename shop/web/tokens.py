"""simplejwt on the JWT keyring (shop.web.jwt_keys): every token (login, refresh, authentication, blacklist) is
signed with the private key and its ``kid``, and verified by ``kid`` with public keys and the ring's algorithm only.
simplejwt's backend with two methods changed: ``encode`` (the kid header) and ``get_verifying_key`` (by kid).
"""

from __future__ import annotations

from typing import Any

import jwt
from django.dispatch import receiver
from django.http import HttpRequest, JsonResponse
from django.test.signals import setting_changed
from django.views.decorators.http import require_GET
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.exceptions import TokenBackendError

from shop.web.jwt_keys import Keyring, build_keyring

JWKS_MAX_AGE_S = 300  # verifiers may cache the document this long; publish a new key at least this long before use


class KeyringTokenBackend(TokenBackend):
    """simplejwt's backend on a :class:`Keyring`: signs with the kid in the header, verifies by kid, with the
    ring's algorithm only (an HS256 token, or one naming another algorithm, is refused)."""

    def __init__(self, keyring: Keyring, **options: Any) -> None:
        super().__init__(keyring.algorithm, **options)
        self.keyring = keyring

    def encode(self, payload: dict[str, Any]) -> str:
        if self.keyring.signing_key is None:
            raise TokenBackendError("this process holds public keys only: it verifies tokens and cannot mint them")
        claims = {**payload}
        if self.audience is not None:
            claims["aud"] = self.audience
        if self.issuer is not None:
            claims["iss"] = self.issuer
        return jwt.encode(
            claims,
            self.keyring.signing_key,
            algorithm=self.algorithm,
            headers={"kid": self.keyring.signing_kid},
            json_encoder=self.json_encoder,
        )

    def get_verifying_key(self, token: Any) -> Any:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError as exc:
            raise TokenBackendError("Token is invalid") from exc
        key = self.keyring.accepted(kid) if isinstance(kid, str) else None
        if key is None:
            raise TokenBackendError("Token is invalid")
        return key


def keyring_from_settings() -> Keyring:
    from django.conf import settings

    return build_keyring(private_pem=settings.SHOP_JWT_PRIVATE_KEY, jwks=settings.SHOP_JWT_PUBLIC_KEYS)


def install() -> None:
    """Make every simplejwt token (login, refresh, authentication, blacklist) use the keyring."""
    from rest_framework_simplejwt import state
    from rest_framework_simplejwt.settings import api_settings

    state.token_backend = KeyringTokenBackend(
        keyring_from_settings(),
        audience=api_settings.AUDIENCE,
        issuer=api_settings.ISSUER,
        leeway=api_settings.LEEWAY,
        json_encoder=api_settings.JSON_ENCODER,
    )


@receiver(setting_changed)
def _reinstall(*, setting: str, **kwargs: Any) -> None:
    if setting in {"SHOP_JWT_PRIVATE_KEY", "SHOP_JWT_PUBLIC_KEYS"}:
        install()


@require_GET
def jwks(request: HttpRequest) -> JsonResponse:
    """``/.well-known/jwks.json``: the public keys this process accepts (never a private one)."""
    from rest_framework_simplejwt import state

    backend = state.token_backend
    keyring = backend.keyring if isinstance(backend, KeyringTokenBackend) else keyring_from_settings()
    response = JsonResponse(keyring.jwks(), content_type="application/jwk-set+json")
    response["Cache-Control"] = f"public, max-age={JWKS_MAX_AGE_S}"
    return response
