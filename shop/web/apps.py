from __future__ import annotations

from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "shop.web"
    label = "web"
    verbose_name = "HTTP edge"

    def ready(self) -> None:
        from shop.web import (
            checks,  # noqa: F401  (registers the system checks)
            tokens,
        )

        tokens.install()  # every JWT signed and verified with the keyring (shop.web.jwt_keys)
