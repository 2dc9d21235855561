from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.core.checks import CheckMessage, Error, Tags, Warning, register


class PaymentsConfig(AppConfig):
    name = "shop.payments"
    label = "payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        register(check_gateway_settings, Tags.security, deploy=True)


def check_gateway_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """A deployment must charge real money through a real gateway: the simulator marks payments
    paid for a magic token, and Stripe without its keys cannot charge or verify a webhook."""
    from django.conf import settings

    found: list[CheckMessage] = []
    if settings.SHOP_PAYMENT_GATEWAY == "simulated":
        found.append(
            Warning(
                "SHOP_PAYMENT_GATEWAY is 'simulated': test tokens pay orders without money.",
                hint="Set SHOP_PAYMENT_GATEWAY=stripe with SHOP_STRIPE_SECRET_KEY and SHOP_STRIPE_WEBHOOK_SECRET.",
                id="shop.payments.W001",
            )
        )
    elif settings.SHOP_PAYMENT_GATEWAY == "stripe":
        for name in ("SHOP_STRIPE_SECRET_KEY", "SHOP_STRIPE_WEBHOOK_SECRET"):
            if not getattr(settings, name):
                found.append(Error(f"{name} is empty: the Stripe gateway cannot work.", id="shop.payments.E001"))
    return found
