"""Storefront reads: category tree, product list (filters, search, sorting, cursor), detail."""

from __future__ import annotations

from django.urls import URLPattern

routes: list[URLPattern] = []
