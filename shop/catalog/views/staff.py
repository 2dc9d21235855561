"""Staff API (IsAdminUser): create and update products, variants, prices and stock."""

from __future__ import annotations

from django.urls import URLPattern

routes: list[URLPattern] = []
