"""The probes, on every listener (``SHOP_LISTENER``): ``/healthz`` and ``/readyz``."""

from __future__ import annotations

from django.urls import path

from shop.web import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
]
