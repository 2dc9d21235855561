"""``manage.py demo_pricing`` (run by ``seed_demo``): a demo voucher, idempotent, its code printed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand

from shop.pricing.models import Promotion, Voucher

CODE = "WELCOME10"


class Command(BaseCommand):
    help = "Load demo data: the voucher WELCOME10, 10 % off an order, once per customer (safe to run twice)."

    def handle(self, *args: Any, **options: Any) -> None:
        promotion, _ = Promotion.objects.get_or_create(
            name="Welcome voucher",
            defaults={
                "label": "Welcome: -10 %",
                "kind": Promotion.Kind.ORDER,
                "benefit": Promotion.Benefit.PERCENTAGE,
                "value": Decimal("10"),
                "requires_voucher": True,
            },
        )
        Voucher.objects.get_or_create(code=CODE, defaults={"promotion": promotion, "per_customer_limit": 1})
        self.stdout.write(f"  voucher code:   {CODE} (10 % off an order, once per customer)")
