"""The simulated bank's 3-D Secure check, as its page (and its JSON form) drive it: development and
tests only, answered like a missing page when another gateway is configured.

Deciding makes the simulator send its signed webhook through the real webhook path (``ingest``), so
the payment moves exactly as it would after a real bank's check.
"""

from __future__ import annotations

from django.conf import settings

from shop.payments.adapters.gateways import get_gateway
from shop.payments.adapters.gateways.base import GatewayRejected
from shop.payments.adapters.gateways.simulated import AlreadyDecided, Authentication, SimulatedGateway
from shop.payments.services import webhooks

__all__ = ["AlreadyDecided", "Authentication", "authentication", "decide", "is_on"]


def is_on() -> bool:
    return bool(settings.SHOP_PAYMENT_GATEWAY == "simulated")


def _gateway() -> SimulatedGateway:
    gateway = get_gateway("simulated")
    assert isinstance(gateway, SimulatedGateway)
    return gateway


def authentication(*, reference: str) -> Authentication | None:
    """The payment the page is about, or ``None`` if the simulator has no such payment."""
    try:
        return _gateway().authentication(reference)
    except GatewayRejected:
        return None


def decide(*, reference: str, approve: bool) -> webhooks.Ingested:
    """Approve or decline; ``AlreadyDecided`` if the customer answered already, ``GatewayRejected``
    if there is no such payment."""
    body, headers = _gateway().authenticate(reference, approve=approve)
    return webhooks.ingest(gateway_name="simulated", body=body, headers=headers)
