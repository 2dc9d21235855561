"""The order-status page's link: what the emails' "your order" link carries instead of a login.

A signed, expiring token (``django.core.signing``, salted for this one use) naming the order, so a
customer opens their order from any device without signing in; it only ever reads. It is a bearer
secret while it lives: redacted wherever it is displayed or logged (``shop.kernel.redaction``).
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

from shop.web.links import absolute_url

SALT = "shop.orders.status-page"


class LinkInvalid(Exception):
    """Not a link we signed (or tampered with)."""


class LinkExpired(LinkInvalid):
    """Ours, but older than ``SHOP_ORDER_STATUS_LINK_TTL_S``."""


def status_page_url(*, order_id: int) -> str:
    token = signing.dumps(order_id, salt=SALT)
    return absolute_url(reverse("order-status-page", kwargs={"token": token}))


def order_id_from(token: str) -> int:
    """The order a link names; ``LinkExpired`` or ``LinkInvalid`` otherwise."""
    try:
        value = signing.loads(token, salt=SALT, max_age=settings.SHOP_ORDER_STATUS_LINK_TTL_S)
    except signing.SignatureExpired as exc:
        raise LinkExpired from exc
    except signing.BadSignature as exc:
        raise LinkInvalid from exc
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise LinkInvalid
    return value
