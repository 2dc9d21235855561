"""System checks for the public base URL: every link customers get starts with ``SHOP_PUBLIC_URL``,
so a malformed one fails at startup, and a deployment still pointing at this machine (the
development default) or at plain HTTP is flagged by ``check --deploy``."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

LOOPBACK = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}


@register(Tags.compatibility)
def check_public_url(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    url = urlsplit(settings.SHOP_PUBLIC_URL)
    if url.scheme not in ("http", "https") or not url.hostname or url.query or url.fragment:
        return [
            Error(
                f"SHOP_PUBLIC_URL must be an absolute http(s) URL without query or fragment, "
                f"not {settings.SHOP_PUBLIC_URL!r}.",
                hint="e.g. https://shop.example (every link in emails and gateway redirects starts with it)",
                id="web.E001",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_public_url_for_deploy(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    url = urlsplit(settings.SHOP_PUBLIC_URL)
    found: list[CheckMessage] = []
    if url.hostname in LOOPBACK:
        found.append(
            Warning(
                f"SHOP_PUBLIC_URL ({settings.SHOP_PUBLIC_URL}) points at this machine: every link in the "
                "customers' emails and gateway redirects would too.",
                hint="Set SHOP_PUBLIC_URL to the address customers reach the shop at.",
                id="web.W001",
            )
        )
    elif url.scheme != "https":
        found.append(
            Warning(
                "SHOP_PUBLIC_URL is not https: reset and order-status links would travel in clear text.",
                id="web.W002",
            )
        )
    return found
