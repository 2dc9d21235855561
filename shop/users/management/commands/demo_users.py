"""``manage.py demo_users`` (run by ``seed_demo``): a staff admin and a customer, idempotent, credentials printed."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from shop.users.models import User

ADMIN = ("admin@shop.example", "admin-demo-pass-2026")
CUSTOMER = ("customer@shop.example", "customer-demo-pass-2026")


class Command(BaseCommand):
    help = "Load demo data: a staff admin and a customer (safe to run twice)."

    def handle(self, *args: Any, **options: Any) -> None:
        admin = User.objects.filter(email=ADMIN[0]).first()
        if admin is None:
            admin = User.objects.create_superuser(ADMIN[0], ADMIN[1], full_name="Demo Admin")
        customer = User.objects.filter(email=CUSTOMER[0]).first()
        if customer is None:
            customer = User.objects.create_user(CUSTOMER[0], CUSTOMER[1], full_name="Demo Customer")
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(f"  admin login:    {ADMIN[0]} / {ADMIN[1]}")
        self.stdout.write(f"  customer login: {CUSTOMER[0]} / {CUSTOMER[1]}")
