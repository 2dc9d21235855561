"""Payment gateway adapters behind the one ``Gateway`` port (``base``), chosen by name.

``get_gateway()`` builds the adapter ``settings.SHOP_PAYMENT_GATEWAY`` names on every call: adapters
are cheap (Stripe's HTTP client is cached per configuration inside the adapter), and a fresh one
always sees the current settings, ``override_settings`` in tests included. The Stripe SDK is
imported only when Stripe is chosen, so development and test processes never load it.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from shop.payments.adapters.gateways.base import Gateway
from shop.payments.adapters.gateways.simulated import SimulatedGateway
from shop.payments.api import GatewayUnavailable

GATEWAYS: tuple[str, ...] = ("simulated", "stripe")


def get_gateway(name: str | None = None) -> Gateway:
    """The adapter named ``name``, or the configured one; ``ImproperlyConfigured`` for any other.

    In production the simulator answers ``GatewayUnavailable`` unless ``SHOP_ALLOW_SIMULATED_GATEWAY``
    (a staging shop): even a deployment that skipped ``check --deploy`` takes no order for free."""
    chosen = name or settings.SHOP_PAYMENT_GATEWAY
    if chosen == "simulated":
        if settings.PRODUCTION and not settings.SHOP_ALLOW_SIMULATED_GATEWAY:
            raise GatewayUnavailable(reason="the simulated gateway is refused in production")
        return SimulatedGateway()
    if chosen == "stripe":
        from shop.payments.adapters.gateways.stripe import StripeGateway

        return StripeGateway()
    raise ImproperlyConfigured(f"Unknown payment gateway {chosen!r}; SHOP_PAYMENT_GATEWAY must be one of {GATEWAYS}")


__all__ = ["GATEWAYS", "get_gateway"]
