"""Keys that split: tokens signed with a private key, verified with public keys (JWKS), rotated by ``kid``.

A split service that checks customers' tokens holds public keys only, so it cannot mint one; a retired key is
accepted until its last token expires; HS256 is refused, in production as everywhere.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.test import override_settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.exceptions import TokenBackendError
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from shop.web.jwt_keys import build_keyring, generate_private_key_pem, kid_of, load_private_key
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
ME = "/api/v1/users/me/"


def jwks_of(*pems: str, expires_at: dict[str, float] | None = None) -> str:
    """The JWKS document a signer with these keys publishes (the first one signing), as a verifier is given it."""
    document = build_keyring(private_pem=pems[0], jwks="").jwks()
    for pem in pems[1:]:
        document["keys"] += build_keyring(private_pem=pem, jwks="").jwks()["keys"]
    for entry in document["keys"]:
        if expires_at and entry["kid"] in expires_at:
            entry["exp"] = int(expires_at[entry["kid"]])
    return json.dumps(document)


def kid(pem: str) -> str:
    return kid_of(load_private_key(pem).public_key())


def me(token: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client.get(ME).status_code


def test_a_token_signed_by_the_private_key_verifies_with_the_served_jwks(api_client: APIClient) -> None:
    user = UserFactory(email="jwks@example.com")
    access = api_client.post("/api/v1/auth/token/", {"email": user.email, "password": UserFactory.PASSWORD})
    token = access.json()["access"]

    served = api_client.get("/.well-known/jwks.json")
    assert served.status_code == 200 and served["Content-Type"] == "application/jwk-set+json"
    document = served.json()
    assert all(set(key) >= {"kty", "kid", "alg", "use"} and "d" not in key for key in document["keys"])
    # Any JOSE library verifies it with the document alone: here PyJWT, choosing the key by the token's kid.
    keys = {key.key_id: key for key in jwt.PyJWKSet.from_dict(document).keys}
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "EdDSA" and header["kid"] in keys
    claims = jwt.decode(token, keys[header["kid"]], algorithms=["EdDSA"])
    assert claims["user_id"] == str(user.pk) and claims["token_type"] == "access"


def test_a_service_with_public_keys_only_verifies_but_cannot_mint() -> None:
    signer = generate_private_key_pem()
    user = UserFactory()
    with override_settings(SHOP_JWT_PRIVATE_KEY=signer, SHOP_JWT_PUBLIC_KEYS=""):
        token = str(AccessToken.for_user(user))

    with override_settings(SHOP_JWT_PRIVATE_KEY="", SHOP_JWT_PUBLIC_KEYS=jwks_of(signer)):
        assert me(token) == 200
        with pytest.raises(TokenBackendError, match="cannot mint"):
            RefreshToken.for_user(user)
        # What it serves is what it holds: the public key, nothing to sign with.
        served = APIClient().get("/.well-known/jwks.json").json()
        assert [key["kid"] for key in served["keys"]] == [kid(signer)]
        assert "d" not in served["keys"][0]
    with override_settings(SHOP_JWT_PRIVATE_KEY="", SHOP_JWT_PUBLIC_KEYS=jwks_of(generate_private_key_pem())):
        assert me(token) == 401  # another signer's keys: the token is refused


def test_a_retired_key_is_accepted_until_its_tokens_expire_and_refused_after() -> None:
    old, new = generate_private_key_pem(), generate_private_key_pem()
    user = UserFactory()
    with override_settings(SHOP_JWT_PRIVATE_KEY=old, SHOP_JWT_PUBLIC_KEYS=""):
        issued = AccessToken.for_user(user)
        token = str(issued)
        expired = AccessToken.for_user(user)
        expired.set_exp(from_time=expired.current_time - timedelta(hours=1))
        expired_token = str(expired)
    retired_until = issued["exp"]  # the retired key's last token expires then

    # Rotated: the new key signs, the old one stays published until its last token expires.
    rotated = {"SHOP_JWT_PRIVATE_KEY": new, "SHOP_JWT_PUBLIC_KEYS": jwks_of(old, expires_at={kid(old): retired_until})}
    with override_settings(**rotated):
        fresh = str(AccessToken.for_user(user))
        assert jwt.get_unverified_header(fresh)["kid"] == kid(new)
        assert me(fresh) == 200
        assert me(token) == 200  # signed with the retired key, not expired yet: accepted
        assert me(expired_token) == 401  # the same key, a token past its exp: refused
        assert {key["kid"] for key in APIClient().get("/.well-known/jwks.json").json()["keys"]} == {kid(old), kid(new)}

    # Once the retired key's time is up it is refused (and unpublished), whatever the token says.
    after = {**rotated, "SHOP_JWT_PUBLIC_KEYS": jwks_of(old, expires_at={kid(old): time.time() - 1})}
    with override_settings(**after):
        assert me(token) == 401
        assert me(fresh) == 200
        assert [key["kid"] for key in APIClient().get("/.well-known/jwks.json").json()["keys"]] == [kid(new)]
    # Without the retired key in the ring at all its tokens were refused from the start: the ring is what accepts.
    with override_settings(SHOP_JWT_PRIVATE_KEY=new, SHOP_JWT_PUBLIC_KEYS=""):
        assert me(token) == 401


def hs256(claims: dict[str, Any], secret: bytes, headers: dict[str, str]) -> str:
    """An HS256 JWT made by hand: PyJWT itself refuses a PEM key as an HMAC secret."""
    segments = [
        {"alg": "HS256", "typ": "JWT", **headers},
        claims,
    ]
    signing_input = b".".join(base64url(json.dumps(part, separators=(",", ":")).encode()) for part in segments)
    return (signing_input + b"." + base64url(hmac.new(secret, signing_input, hashlib.sha256).digest())).decode()


def base64url(raw: bytes) -> bytes:
    return base64.urlsafe_b64encode(raw).rstrip(b"=")


def forged_tokens(user_id: int, private_pem: str, secret_key: str) -> dict[str, str]:
    """HS256 tokens an attacker could make: with SECRET_KEY, and with the public key's own bytes as the HMAC
    secret (the algorithm-confusion attack against verifiers that trust the header's alg)."""
    public_pem = (
        load_private_key(private_pem).public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )
    claims: dict[str, Any] = {"token_type": "access", "user_id": user_id, "exp": int(time.time()) + 600, "jti": "f"}
    headers = {"kid": kid(private_pem)}
    return {
        "secret_key": hs256(claims, secret_key.encode(), headers),
        "public_key_as_secret": hs256(claims, public_pem, headers),
    }


PRODUCTION_PROBE = """
import json, sys
import django
django.setup()
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.tokens import AccessToken
from shop.web.authentication import JWTAuthentication
tokens = json.loads(sys.stdin.read())
auth = JWTAuthentication()
result = {}
for name, token in tokens.items():
    try:
        result[name] = "accepted " + str(auth.get_validated_token(token.encode())["user_id"])
    except InvalidToken:
        result[name] = "refused"
genuine = AccessToken()
genuine["user_id"] = 7
result["genuine"] = "accepted " + str(auth.get_validated_token(str(genuine).encode())["user_id"])
print(json.dumps(result))
"""


def production_env(**extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", ""),
        "DJANGO_SETTINGS_MODULE": "shop.settings",
        "SHOP_ENV": "production",
        "SECRET_KEY": "s" * 64,
        "SHOP_INTERNAL_SECRET": "i" * 48,
        "ALLOWED_HOSTS": "shop.example",
        "DATABASE_URL": "sqlite:///:memory:",
        **extra,
    }


@pytest.mark.django_db(False)
def test_an_hs256_token_is_refused_in_production() -> None:
    private_pem = generate_private_key_pem()
    tokens = forged_tokens(7, private_pem, "s" * 64)
    result = subprocess.run(
        [sys.executable, "-c", PRODUCTION_PROBE],
        input=json.dumps(tokens),
        env=production_env(JWT_PRIVATE_KEY=private_pem),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    verdicts = json.loads(result.stdout.strip().splitlines()[-1])
    assert verdicts == {"secret_key": "refused", "public_key_as_secret": "refused", "genuine": "accepted 7"}

    # Nor can production be configured for HS256 at all.
    refused = subprocess.run(
        [sys.executable, "-c", "import shop.wsgi"],
        env=production_env(JWT_PRIVATE_KEY=private_pem, JWT_SIGNING_KEY="h" * 48),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode != 0 and "JWT_SIGNING_KEY (HS256) is refused" in refused.stderr


def test_the_rotation_document_keeps_the_old_key_until_its_longest_token_expires(tmp_path: Path) -> None:
    from django.core.management import call_command

    old, new = generate_private_key_pem(), generate_private_key_pem()
    (tmp_path / "old.pem").write_text(old)
    (tmp_path / "new.pem").write_text(new)
    user = UserFactory()
    with override_settings(SHOP_JWT_PRIVATE_KEY=old, SHOP_JWT_PUBLIC_KEYS=""):
        token = str(AccessToken.for_user(user))
    out = io.StringIO()
    call_command("jwks", key=[str(tmp_path / "new.pem")], retire=[str(tmp_path / "old.pem")], stdout=out)
    document = json.loads(out.getvalue())
    entries = {entry["kid"]: entry for entry in document["keys"]}
    assert set(entries) == {kid(old), kid(new)} and "exp" not in entries[kid(new)]
    assert all("d" not in entry for entry in entries.values())  # public keys only, though it read private ones
    longest = timedelta(days=7, minutes=15).total_seconds()  # a refresh token issued just before the switch
    assert abs(entries[kid(old)]["exp"] - (time.time() + longest)) < 60
    with override_settings(SHOP_JWT_PRIVATE_KEY=new, SHOP_JWT_PUBLIC_KEYS=json.dumps(document)):
        assert me(token) == 200


@pytest.mark.django_db(False)
def test_only_a_process_that_does_not_serve_users_may_run_on_public_keys_alone() -> None:
    """Sign-in and refresh mint tokens: a verify-only process serving users would fail at the first login."""
    jwks = jwks_of(generate_private_key_pem())
    probe = [sys.executable, "-c", "import shop.wsgi"]
    serving_users = subprocess.run(
        probe,
        env=production_env(JWT_PUBLIC_KEYS=jwks),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert serving_users.returncode != 0 and "serves users" in serving_users.stderr
    payments_only = subprocess.run(
        probe,
        env=production_env(JWT_PUBLIC_KEYS=jwks, SHOP_SERVE="payments"),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert payments_only.returncode == 0, payments_only.stderr
