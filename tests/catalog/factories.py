"""factory-boy factories for the catalog context (tests live outside ``shop``, so they may).

``VariantFactory`` always creates the variant's ``Stock`` row; pass ``stock=<on hand>`` (default 10)
and optionally ``reserved=<n>``
(the ORM's ``obj.stock`` is fetched fresh on access). Products get one category each unless ``category=`` is given.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import factory

from shop.catalog.models import Category, Product, Stock, Variant


class CategoryFactory(factory.django.DjangoModelFactory[Category]):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")
    parent = None


class ProductFactory(factory.django.DjangoModelFactory[Product]):
    class Meta:
        model = Product

    name = factory.Sequence(lambda n: f"Product {n}")
    slug = factory.Sequence(lambda n: f"product-{n}")
    description = "A fine product."
    category = factory.SubFactory(CategoryFactory)
    brand = "Acme"
    is_active = True


class VariantFactory(factory.django.DjangoModelFactory[Variant]):
    class Meta:
        model = Variant
        skip_postgeneration_save = True

    product = factory.SubFactory(ProductFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = "Default"
    attributes = factory.LazyFunction(dict)
    price_amount = Decimal("19.99")
    compare_at_amount = None
    currency = "EUR"
    is_active = True

    @factory.post_generation
    def stock(obj: Variant, create: bool, extracted: int | None, **kwargs: Any) -> None:
        """Every variant has a stock row (``stock=`` sets on hand, default 10)."""
        if not create:
            return
        on_hand = 10 if extracted is None else extracted
        Stock.objects.update_or_create(
            variant=obj, defaults={"on_hand": on_hand, "reserved": kwargs.get("reserved", 0)}
        )

    @factory.post_generation
    def reserved(obj: Variant, create: bool, extracted: int | None, **kwargs: Any) -> None:
        """``reserved=<n>`` pre-holds stock (must not exceed on hand: the CHECK refuses it)."""
        if create and extracted:
            Stock.objects.filter(pk=obj.pk).update(reserved=extracted)
