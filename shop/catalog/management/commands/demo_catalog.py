"""``manage.py demo_catalog`` (run by ``seed_demo``): a small, browsable catalog, idempotent.

The taxonomy of ``seed_catalog`` (clothing, shoes, accessories, home) with five products per leaf
category, sizes and colours as variants, a few on sale and a few sold out; readable slugs
("alpine-merino-sweater"). Products are matched by slug, so a second run adds nothing.
"""

from __future__ import annotations

import random
from typing import Any

from django.core.management.base import BaseCommand
from django.utils.text import slugify

from shop.catalog.management.commands.seed_catalog import Row, ensure_categories, insert, product_spec
from shop.catalog.models import Category, Product, Variant

PER_CATEGORY = 5
SEED = "demo"


class Command(BaseCommand):
    help = "Load a small demo catalog (~50 products with variants and stock; safe to run twice)."

    def handle(self, *args: Any, **options: Any) -> None:
        leaves = ensure_categories()
        rng = random.Random(SEED)
        rows: list[Row] = []
        names: set[str] = set()
        for leaf in leaves:
            made = 0
            while made < PER_CATEGORY:
                spec = product_spec(rng, [leaf])
                if spec.name in names:
                    continue  # every demo product has its own name (and slug)
                names.add(spec.name)
                made += 1
                slug = slugify(spec.name)
                rows.append(Row(f"DEMO-{slug.upper()}"[:60], slug, spec))
        existing = set(Product.objects.filter(slug__in=[row.slug for row in rows]).values_list("slug", flat=True))
        missing = [row for row in rows if row.slug not in existing]
        if missing:
            insert(missing)
        self.stdout.write(
            self.style.SUCCESS(
                f"Catalog demo data ready: {Category.objects.count()} categories, {Product.objects.count()} products, "
                f"{Variant.objects.count()} variants ({len(missing)} products added now)."
            )
        )
        example = rows[0].slug
        self.stdout.write(f"  browse: /api/v1/catalog/products/  ·  /api/v1/catalog/products/{example}/")
