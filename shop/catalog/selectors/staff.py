"""Reads behind the staff API: everything, inactive included, never cached (staff must see the truth)."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from shop.catalog.models import Category, Product, Variant


def categories() -> QuerySet[Category]:
    return Category.objects.order_by("path", "position", "id")


def category(*, category_id: int) -> Category | None:
    return Category.objects.filter(pk=category_id).first()


def products() -> QuerySet[Product]:
    """Newest first, with variants and their stock: three queries per page whatever its size."""
    return Product.objects.order_by("-created_at", "-id").prefetch_related(
        Prefetch("variants", queryset=Variant.objects.select_related("stock").order_by("position", "id"))
    )


def product(*, product_id: int) -> Product | None:
    return products().filter(pk=product_id).first()


def variant(*, product_id: int, sku: str) -> Variant | None:
    return Variant.objects.select_related("stock").filter(product_id=product_id, sku=sku).first()


def variant_by_sku(*, sku: str) -> Variant | None:
    return Variant.objects.select_related("stock").filter(sku=sku).first()
