"""System checks: a wrong ``SHOP_CONTEXTS`` fails at startup, not at the first remote call."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register

from shop.registry.contexts import CONTEXTS

KNOWN_KEYS = {
    "BACKEND",
    "URLS",
    "TIMEOUT",
    "CONNECT_TIMEOUT",
    "RETRIES",
    "RETRY_DEADLINE",
    "SECRET",
    "BREAKER_FAIL_MAX",
    "BREAKER_RESET_TIMEOUT",
    "TRANSPORT",
    "IMPLEMENTATION",
    "OPTIONS",
}


TRANSPORTS = {None, "http", "wsgi"}
SECONDS_LIMITS = {"TIMEOUT": 60, "CONNECT_TIMEOUT": 60, "RETRY_DEADLINE": 300, "BREAKER_RESET_TIMEOUT": 3600}


def _is_number(value: Any, *, low: float, high: float) -> bool:
    """Seconds: a real int or float (not a bool, not a string) in ``(low, high]``."""
    return isinstance(value, int | float) and not isinstance(value, bool) and low < value <= high


def validate(shop_contexts: Any, *, internal_secret: str) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    if not isinstance(shop_contexts, dict):
        return [Error("SHOP_CONTEXTS must be a dict of context name to binding", id="shop.E001")]
    for name, config in shop_contexts.items():
        where = f"SHOP_CONTEXTS[{name!r}]"
        if name not in CONTEXTS:
            errors.append(Error(f"{where}: unknown context", hint=f"known: {', '.join(CONTEXTS)}", id="shop.E002"))
            continue
        if not isinstance(config, dict):
            errors.append(Error(f"{where} must be a dict", id="shop.E003"))
            continue
        unknown = set(config) - KNOWN_KEYS
        if unknown:
            errors.append(Error(f"{where}: unknown keys {sorted(unknown)}", id="shop.E004"))
        backend = config.get("BACKEND", "local")
        if backend == "remote":
            urls = config.get("URLS")
            if not isinstance(urls, list | tuple) or not urls:
                errors.append(Error(f"{where}: a remote binding needs a non-empty URLS list", id="shop.E005"))
            else:
                for url in urls:
                    parsed = urlparse(str(url))
                    if parsed.scheme not in {"http", "https"} or not parsed.netloc:
                        errors.append(Error(f"{where}: {url!r} is not an http(s) URL", id="shop.E006"))
            for key, high in SECONDS_LIMITS.items():
                if key in config and not _is_number(config[key], low=0, high=high):
                    errors.append(Error(f"{where}: {key} must be a number of seconds in (0, {high}]", id="shop.E007"))
            for key in ("RETRIES", "BREAKER_FAIL_MAX"):
                value = config.get(key, 1)
                if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                    errors.append(Error(f"{where}: {key} must be an integer >= 1", id="shop.E010"))
            if config.get("TRANSPORT") not in TRANSPORTS:
                errors.append(
                    Error(f"{where}: TRANSPORT must be one of {sorted(map(str, TRANSPORTS))}", id="shop.E011")
                )
            if len(config.get("SECRET", internal_secret) or "") < 32:
                errors.append(
                    Error(f"{where}: remote calls need SHOP_INTERNAL_SECRET of at least 32 characters", id="shop.E008")
                )
        elif backend != "local" and "." not in str(backend):
            errors.append(Error(f"{where}: BACKEND must be 'local', 'remote' or a dotted path", id="shop.E009"))
    return errors


@register(Tags.compatibility)
def check_shop_contexts(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    return validate(settings.SHOP_CONTEXTS, internal_secret=settings.SHOP_INTERNAL_SECRET)


LISTENERS = ("all", "public", "internal")


@register(Tags.urls)
def check_listener(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if settings.SHOP_LISTENER not in LISTENERS:
        return [Error(f"SHOP_LISTENER must be one of {', '.join(LISTENERS)}", id="shop.E012")]
    return []
