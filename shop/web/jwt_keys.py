"""The keys of customers' JWTs: asymmetric, so a split service that checks a token cannot mint one.

Where tokens are minted (the process serving ``users``) holds the private key (``JWT_PRIVATE_KEY``, Ed25519 →
EdDSA or RSA → RS256); every process verifies with public keys only, picked by the token's ``kid`` (the key's
RFC 7638 thumbprint): its own, and those of ``JWT_PUBLIC_KEYS``, a JWKS document (a retired key stays there,
with an ``exp``, until the last token it signed has expired). Key handling is PyJWT's and cryptography's; no Django
settings are read here (settings.py makes the development key with it).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from django.core.exceptions import ImproperlyConfigured
from jwt.algorithms import OKPAlgorithm, RSAAlgorithm

PrivateKey = ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey
PublicKey = ed25519.Ed25519PublicKey | rsa.RSAPublicKey


def algorithm_of(key: PrivateKey | PublicKey) -> str:
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return "EdDSA"
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        if key.key_size < 2048:
            raise ImproperlyConfigured(f"an RSA JWT key must have at least 2048 bits, not {key.key_size}")
        return "RS256"
    raise ImproperlyConfigured(f"JWT keys are Ed25519 (EdDSA) or RSA (RS256), not {type(key).__name__}")


def public_jwk(key: PublicKey) -> dict[str, Any]:
    """The key as a JWK (RFC 7517) without kid, by PyJWT."""
    if isinstance(key, ed25519.Ed25519PublicKey):
        return OKPAlgorithm.to_jwk(key, as_dict=True)
    return RSAAlgorithm.to_jwk(key, as_dict=True)


def kid_of(key: PublicKey) -> str:
    """RFC 7638 thumbprint: SHA-256 over the key's required members in canonical JSON, base64url."""
    jwk = public_jwk(key)
    required = ("crv", "kty", "x") if jwk["kty"] == "OKP" else ("e", "kty", "n")
    canonical = json.dumps({name: jwk[name] for name in required}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


@dataclass(frozen=True)
class PublishedKey:
    key: PublicKey
    expires_at: float | None = None  # a retired key: refused (and no longer published) from then on


@dataclass(frozen=True)
class Keyring:
    """The signing key (None: this process verifies only) and every public key accepted, by kid."""

    signing_key: PrivateKey | None
    public_keys: Mapping[str, PublishedKey] = field(default_factory=dict)

    @property
    def signing_kid(self) -> str | None:
        return kid_of(self.signing_key.public_key()) if self.signing_key is not None else None

    @property
    def algorithm(self) -> str:
        if self.signing_key is not None:
            return algorithm_of(self.signing_key)
        keys = [published.key for published in self.public_keys.values()]
        return algorithm_of(keys[0]) if keys else "EdDSA"

    def accepted(self, kid: str, *, now: float | None = None) -> PublicKey | None:
        published = self.public_keys.get(kid)
        if published is None:
            return None
        if published.expires_at is not None and (now or time.time()) >= published.expires_at:
            return None
        return published.key

    def jwks(self, *, now: float | None = None) -> dict[str, Any]:
        """The JWKS document (RFC 7517 §5) of the keys accepted now; a retired key keeps its ``exp``."""
        keys = []
        for kid, published in self.public_keys.items():
            if self.accepted(kid, now=now) is None:
                continue
            entry = {**public_jwk(published.key), "kid": kid, "alg": algorithm_of(published.key), "use": "sig"}
            if published.expires_at is not None:
                entry["exp"] = int(published.expires_at)
            keys.append(entry)
        return {"keys": keys}


def load_private_key(pem: str) -> PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f"JWT_PRIVATE_KEY is not an unencrypted PEM private key: {exc}") from exc
    if not isinstance(key, ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey):
        raise ImproperlyConfigured(f"JWT_PRIVATE_KEY must be Ed25519 or RSA, not {type(key).__name__}")
    algorithm_of(key)
    return key


def load_public_keys(document: str) -> dict[str, PublishedKey]:
    """A JWKS document's keys by kid (a missing kid is the thumbprint); PyJWT parses each JWK."""
    try:
        entries = json.loads(document)["keys"]
        keys: dict[str, PublishedKey] = {}
        for entry in entries:
            key = jwt.PyJWK(entry).key
            if not isinstance(key, ed25519.Ed25519PublicKey | rsa.RSAPublicKey):
                raise ImproperlyConfigured(
                    f"JWT_PUBLIC_KEYS may hold Ed25519 or RSA public keys only ({entry.get('kid')})"
                )
            algorithm_of(key)
            kid = entry.get("kid") or kid_of(key)
            keys[kid] = PublishedKey(key, float(entry["exp"]) if "exp" in entry else None)
    except ImproperlyConfigured:
        raise
    except (ValueError, KeyError, TypeError, jwt.PyJWTError) as exc:
        raise ImproperlyConfigured(f"JWT_PUBLIC_KEYS is not a JWKS document of public keys: {exc!r}") from exc
    return keys


def build_keyring(*, private_pem: str, jwks: str) -> Keyring:
    signing_key = load_private_key(private_pem) if private_pem else None
    public_keys = load_public_keys(jwks) if jwks else {}
    if signing_key is not None:
        public_keys[kid_of(signing_key.public_key())] = PublishedKey(signing_key.public_key())
    algorithms = {algorithm_of(k.key) for k in public_keys.values()}
    if len(algorithms) > 1:
        raise ImproperlyConfigured(f"JWT keys must share one algorithm, not {sorted(algorithms)}")
    return Keyring(signing_key, public_keys)


def generate_private_key_pem() -> str:
    key = ed25519.Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return pem.decode()


def development_key(path: Path) -> str:
    """The development signing key kept in ``path`` (made once, 0600, never committed): ``make run``'s tokens
    survive restarts, and every process started from the same checkout shares it."""
    if not path.exists():
        temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(generate_private_key_pem())
        try:
            os.link(temporary, path)  # fails if another process made it first: theirs wins
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    return path.read_text()
