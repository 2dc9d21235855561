"""Absolute links for places without a request (emails, gateway redirects, 3-D Secure pages): one
public base URL, ``SHOP_PUBLIC_URL``, drives every one of them."""

from __future__ import annotations

from django.conf import settings


def absolute_url(path: str) -> str:
    """``path`` (as ``reverse`` gives it, starting with ``/``) on the shop's public base URL."""
    base: str = settings.SHOP_PUBLIC_URL.rstrip("/")
    return f"{base}/{path.lstrip('/')}"
