from __future__ import annotations

from django.apps import AppConfig
from django.core.checks import Tags, register


class PaymentsConfig(AppConfig):
    name = "shop.payments"
    label = "payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        from shop.payments.checks import check_gateway_settings

        register(check_gateway_settings, Tags.security, deploy=True)
