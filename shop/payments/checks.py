"""System checks of the payments context (``check --deploy``): no production shop charges through the
simulator or a half-configured Stripe."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning


def check_gateway_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """A deployment must charge real money through a real gateway: the simulator marks payments
    paid for a magic token, and Stripe without its keys cannot charge or verify a webhook."""
    found: list[CheckMessage] = []
    real = "Set SHOP_PAYMENT_GATEWAY=stripe with SHOP_STRIPE_SECRET_KEY and SHOP_STRIPE_WEBHOOK_SECRET."
    if settings.SHOP_PAYMENT_GATEWAY == "simulated":
        if settings.PRODUCTION and not settings.SHOP_ALLOW_SIMULATED_GATEWAY:
            found.append(
                Error(
                    "SHOP_PAYMENT_GATEWAY is 'simulated' (the default) in production: test tokens would pay "
                    "orders without money, so no payment will start.",
                    hint=f"{real} Only a staging shop may opt in, with SHOP_ALLOW_SIMULATED_GATEWAY=1.",
                    id="shop.payments.E002",
                )
            )
        else:
            found.append(
                Warning(
                    "SHOP_PAYMENT_GATEWAY is 'simulated': test tokens pay orders without money.",
                    hint=real,
                    id="shop.payments.W001",
                )
            )
    elif settings.SHOP_PAYMENT_GATEWAY == "stripe":
        for name in ("SHOP_STRIPE_SECRET_KEY", "SHOP_STRIPE_WEBHOOK_SECRET"):
            if not getattr(settings, name):
                found.append(Error(f"{name} is empty: the Stripe gateway cannot work.", id="shop.payments.E001"))
    return found
