"""``manage.py jwks``: the JWKS document verifiers are given (``JWT_PUBLIC_KEYS``), for deploying and rotating keys.

    manage.py jwks                                     # the keys this process accepts now
    manage.py jwks --key new.pem --key old.pem         # before a rotation: both keys, so verifiers know the new one
    manage.py jwks --key new.pem --retire old.pem      # after it: the old key until its last token has expired

Files are PEM keys, private or public: only public keys are written out.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from django.core.management.base import BaseCommand, CommandError
from rest_framework_simplejwt.settings import api_settings

from shop.web.jwt_keys import Keyring, PublicKey, PublishedKey, algorithm_of, kid_of
from shop.web.tokens import keyring_from_settings


def read_public_key(path: str) -> PublicKey:
    data = Path(path).read_bytes()
    try:
        if b"PRIVATE KEY" in data:
            key: Any = serialization.load_pem_private_key(data, password=None).public_key()
        else:
            key = serialization.load_pem_public_key(data)
        algorithm_of(key)
    except Exception as exc:
        raise CommandError(f"{path}: not an Ed25519 or RSA PEM key ({exc})") from exc
    return key


class Command(BaseCommand):
    help = "Print the JWKS document of the JWT public keys (JWT_PUBLIC_KEYS of every verifying process)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--key", action="append", default=[], help="a PEM key file accepted without end")
        parser.add_argument(
            "--retire",
            action="append",
            default=[],
            help="a PEM key file accepted until the last token it signed expires (now + the refresh lifetime)",
        )

    def handle(self, *args: Any, key: list[str], retire: list[str], **options: Any) -> None:
        if not key and not retire:
            self.stdout.write(json.dumps(keyring_from_settings().jwks(), indent=2))
            return
        until = time.time() + (api_settings.REFRESH_TOKEN_LIFETIME + api_settings.ACCESS_TOKEN_LIFETIME).total_seconds()
        published = {kid_of(k): PublishedKey(k, until) for k in map(read_public_key, retire)}
        published |= {kid_of(k): PublishedKey(k) for k in map(read_public_key, key)}
        if len({algorithm_of(p.key) for p in published.values()}) > 1:
            raise CommandError("the keys must share one algorithm (all Ed25519, or all RSA)")
        self.stdout.write(json.dumps(Keyring(None, published).jwks(), indent=2))
