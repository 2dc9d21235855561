"""``manage.py seed_catalog --products N [--seed S]``: a large, realistic-ish catalog for benchmarks.

Names come from word lists ("Alpine Merino Sweater" by "Fjallmark"), so search has something real to
find. Rows go in with ``bulk_create`` in batches, each batch (products, variants, stock) in one
transaction on the catalog's database; PostgreSQL's trigger fills ``search_vector`` on insert. The
output is deterministic per ``--seed`` (every product has its own random stream), and re-running
only adds what is missing: generated slugs start with ``g<seed>-<index>-``.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from django.core.management.base import BaseCommand, CommandParser
from django.db import connections, models
from django.db.models import Model
from django.utils import timezone
from django.utils.text import slugify

from shop import registry
from shop.catalog.adapters.cache import invalidate_catalog
from shop.catalog.models import Category, Product, Stock, Variant

BATCH = 2000

# (root name, root slug, variant axes) -> [(leaf name, leaf slug, nouns, materials)]
SIZES_CLOTHING = ("XS", "S", "M", "L", "XL")
SIZES_SHOES = ("38", "39", "40", "41", "42", "43", "44", "45")
COLORS = ("Black", "White", "Navy", "Olive", "Grey", "Burgundy", "Sand", "Forest Green", "Rust", "Sky Blue")
TAXONOMY: list[tuple[str, str, tuple[str, ...], list[tuple[str, str, list[str], list[str]]]]] = [
    (
        "Clothing",
        "clothing",
        SIZES_CLOTHING,
        [
            ("Jackets & Coats", "jackets-coats", ["Jacket", "Parka", "Bomber", "Blazer", "Raincoat", "Windbreaker"],
             ["Wool", "Denim", "Suede", "Leather", "Nylon", "Corduroy"]),
            ("Shirts & Tops", "shirts-tops", ["Shirt", "T-Shirt", "Polo", "Blouse", "Henley", "Tank Top"],
             ["Cotton", "Linen", "Bamboo", "Hemp", "Organic Cotton"]),
            ("Knitwear", "knitwear", ["Sweater", "Cardigan", "Hoodie", "Pullover", "Turtleneck"],
             ["Merino", "Cashmere", "Wool", "Cotton", "Fleece"]),
            ("Trousers & Jeans", "trousers-jeans", ["Jeans", "Chinos", "Trousers", "Joggers", "Shorts"],
             ["Denim", "Cotton", "Linen", "Corduroy", "Twill"]),
        ],
    ),
    (
        "Shoes",
        "shoes",
        SIZES_SHOES,
        [
            ("Sneakers", "sneakers", ["Sneaker", "Trainer", "Runner", "Slip-On"],
             ["Canvas", "Leather", "Suede", "Knit"]),
            ("Boots", "boots", ["Boot", "Chelsea Boot", "Hiking Boot"], ["Leather", "Suede", "Waxed Leather"]),
        ],
    ),
    (
        "Accessories",
        "accessories",
        (),
        [
            ("Bags", "bags", ["Backpack", "Tote", "Duffel", "Messenger Bag", "Wallet"],
             ["Leather", "Canvas", "Nylon", "Waxed Cotton"]),
            ("Hats & Scarves", "hats-scarves", ["Beanie", "Cap", "Scarf", "Bucket Hat"],
             ["Wool", "Cashmere", "Cotton", "Merino"]),
        ],
    ),
    (
        "Home",
        "home",
        (),
        [
            ("Kitchen", "kitchen", ["Mug", "Teapot", "Skillet", "Cutting Board", "Serving Bowl"],
             ["Ceramic", "Cast Iron", "Oak", "Walnut", "Stoneware"]),
            ("Bedding", "bedding", ["Duvet Cover", "Pillowcase", "Throw Blanket"], ["Linen", "Cotton", "Wool"]),
            ("Lighting", "lighting", ["Desk Lamp", "Pendant Light", "Lantern"], ["Brass", "Oak", "Glass", "Rattan"]),
        ],
    ),
]  # fmt: skip
ADJECTIVES = (
    "Classic", "Vintage", "Urban", "Alpine", "Coastal", "Heritage", "Essential", "Everyday", "Premium", "Lightweight",
    "Rugged", "Cozy", "Slim", "Relaxed", "Nordic", "Summit", "Harbor", "Meadow", "Midnight", "Aurora", "Canyon",
    "Sierra", "Tidal", "Ember", "Willow", "Granite", "Cedar", "Atlas", "Drift", "Horizon",
)  # fmt: skip
BRANDS = (
    "Northwind", "Fjallmark", "Ridgeway", "Oakhaven", "Bluefin", "Copperleaf", "Stonebridge", "Larkspur",
    "Evergreen Co", "Tidewater", "Kestrel", "Marlow & Finch", "Pinecrest", "Solstice", "Halcyon", "Wayfarer",
)  # fmt: skip
FEATURES = (
    "Cut for an easy, relaxed fit.", "Reinforced seams for years of daily wear.",
    "Finished by hand in a small workshop.",
    "Water-repellent finish for changeable weather.", "Breathable and soft from the first wear.",
    "Made in small batches from traceable materials.", "Designed to layer through every season.",
    "Packs down small for travel.", "Gets better with age.", "A quiet design that goes with everything.",
)  # fmt: skip
CARE = ("Machine wash cold.", "Hand wash only.", "Wipe clean with a damp cloth.", "Dry clean recommended.", "")


@dataclass(frozen=True, slots=True)
class Leaf:
    category_id: int
    nouns: list[str]
    materials: list[str]
    sizes: tuple[str, ...]


def ensure_categories() -> list[Leaf]:
    """The taxonomy's categories (created once, matched by slug); returns its leaves."""
    leaves: list[Leaf] = []
    for position, (name, slug, sizes, children) in enumerate(TAXONOMY):
        root = _category(name, slug, None, position)
        for child_position, (child_name, child_slug, nouns, materials) in enumerate(children):
            leaf = _category(child_name, child_slug, root, child_position)
            leaves.append(Leaf(leaf.pk, nouns, materials, sizes))
    return leaves


def _category(name: str, slug: str, parent: Category | None, position: int) -> Category:
    category = Category.objects.filter(slug=slug).first()
    if category is None:
        category = Category(name=name, slug=slug, parent=parent, position=position)
        category.save()  # Category.save() maintains the path
    return category


@dataclass(frozen=True, slots=True)
class ProductSpec:
    name: str
    brand: str
    description: str
    leaf: Leaf
    attributes: dict[str, str]
    variants: list[tuple[dict[str, str], Decimal, Decimal | None, int]]  # (attributes, price, compare-at, on hand)


def product_spec(rng: random.Random, leaves: list[Leaf]) -> ProductSpec:
    """One product of a random leaf category, from ``rng`` alone (so it is reproducible)."""
    leaf = rng.choice(leaves)
    noun, material, adjective = rng.choice(leaf.nouns), rng.choice(leaf.materials), rng.choice(ADJECTIVES)
    name = f"{adjective} {material} {noun}"
    brand = rng.choice(BRANDS)
    description = (
        f"The {name} from {brand}: a {rng.choice(ADJECTIVES).lower()} {noun.lower()} in {material.lower()}. "
        f"{rng.choice(FEATURES)} {rng.choice(FEATURES)} {rng.choice(CARE)}"
    ).strip()
    base = Decimal(rng.randrange(900, 25000)) / 100
    price = base.quantize(Decimal("1")) - Decimal("0.01") if base > 5 else base
    on_sale = rng.random() < 0.2
    colors = rng.sample(COLORS, rng.randint(1, 2))
    sizes: list[str | None] = (
        [*rng.sample(leaf.sizes, min(len(leaf.sizes), rng.randint(1, 2)))] if leaf.sizes else [None]
    )
    variants = []
    for color in colors:
        for size in sizes:
            attributes = {"color": color} if size is None else {"size": size, "color": color}
            bump = Decimal("5.00") if size in ("XL", "44", "45") else Decimal(0)
            on_hand = 0 if rng.random() < 0.1 else rng.randint(1, 120)
            compare_at = ((price + bump) * Decimal("1.25")).quantize(Decimal("0.01")) if on_sale else None
            variants.append((attributes, price + bump, compare_at, on_hand))
    return ProductSpec(name, brand, description, leaf, {"material": material.lower()}, variants)


class Row(NamedTuple):
    stem: str  # SKUs are "<stem>-<n>"
    slug: str
    spec: ProductSpec
    created_at: datetime | None = None  # None: now


def insert(rows: list[Row]) -> tuple[int, int]:
    """Insert products with their variants and stock in one transaction; returns (products, variants)."""
    with registry.atomic("catalog"):
        connection = connections[Product.objects.db]
        counts = _copy(connection, rows) if connection.vendor == "postgresql" else _bulk_create(rows)
        invalidate_catalog()
    return counts


def _product(slug: str, spec: ProductSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "slug": slug,
        "description": spec.description,
        "category_id": spec.leaf.category_id,
        "brand": spec.brand,
        "attributes": spec.attributes,
        "image_urls": [f"https://picsum.photos/seed/{slug}/800/800"],
        "is_active": True,
    }


def _variants(stem: str, spec: ProductSpec) -> Iterator[dict[str, Any]]:
    for index, (attributes, price, compare_at, _) in enumerate(spec.variants):
        yield {
            "sku": f"{stem}-{index}",
            "name": " / ".join(attributes.values()),
            "attributes": attributes,
            "price_amount": price,
            "compare_at_amount": compare_at,
            "currency": "EUR",
            "is_active": True,
            "position": index,
        }


def _bulk_create(rows: list[Row]) -> tuple[int, int]:
    """Portable path (SQLite): ``bulk_create`` returns the new primary keys (creation time: now)."""
    products = Product.objects.bulk_create([Product(**_product(row.slug, row.spec)) for row in rows], BATCH)
    variants = Variant.objects.bulk_create(
        [
            Variant(product_id=product.pk, **fields)
            for product, row in zip(products, rows, strict=True)
            for fields in _variants(row.stem, row.spec)
        ],
        BATCH,
    )
    on_hand = [units for row in rows for (_, _, _, units) in row.spec.variants]
    Stock.objects.bulk_create(
        [Stock(variant_id=variant.pk, on_hand=units) for variant, units in zip(variants, on_hand, strict=True)], BATCH
    )
    return len(products), len(variants)


def _copy(connection: Any, rows: list[Row]) -> tuple[int, int]:
    """PostgreSQL path: ids drawn from the sequences in one statement, rows streamed with ``COPY``.

    ~4x faster than ``bulk_create``, whose per-field Python preparation and client-side parameter
    binding dominate at this volume; the search-vector trigger fires for ``COPY`` rows as well.
    """
    now = timezone.now()
    variant_rows = [(i, fields) for i, row in enumerate(rows) for fields in _variants(row.stem, row.spec)]
    with connection.cursor() as wrapper:
        cursor = wrapper.cursor  # the psycopg cursor: COPY is not part of the DB-API
        product_ids = _next_ids(cursor, Product, len(rows))
        variant_ids = _next_ids(cursor, Variant, len(variant_rows))
        products = (
            {"id": pk, **_product(row.slug, row.spec), "created_at": row.created_at or now, "updated_at": now}
            for pk, row in zip(product_ids, rows, strict=True)
        )
        _copy_rows(cursor, Product, products)
        variants = (
            {"id": pk, "product_id": product_ids[i], **fields}
            for pk, (i, fields) in zip(variant_ids, variant_rows, strict=True)
        )
        _copy_rows(cursor, Variant, variants)
        on_hand = (units for row in rows for (_, _, _, units) in row.spec.variants)
        stock = (
            {"variant_id": pk, "on_hand": units, "reserved": 0, "updated_at": now}
            for pk, units in zip(variant_ids, on_hand, strict=True)
        )
        _copy_rows(cursor, Stock, stock)
    return len(rows), len(variant_rows)


def _next_ids(cursor: Any, model: type[Model], count: int) -> list[int]:
    table = model._meta.db_table
    cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count])
    return [row[0] for row in cursor.fetchall()]


def _copy_rows(cursor: Any, model: type[Model], rows: Iterator[dict[str, Any]]) -> None:
    """``COPY`` dicts keyed by attribute name (``product_id``) into ``model``'s table."""
    first = next(rows, None)
    if first is None:
        return
    fields = {field.attname: field for field in model._meta.concrete_fields}
    names = list(first)
    columns = ", ".join(f'"{fields[name].column}"' for name in names)
    json_names = {name for name in names if isinstance(fields[name], models.JSONField)}

    def values(row: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(json.dumps(row[name]) if name in json_names else row[name] for name in names)

    with cursor.copy(f'COPY "{model._meta.db_table}" ({columns}) FROM STDIN') as copy:
        copy.write_row(values(first))
        for row in rows:
            copy.write_row(values(row))


def _chunks(start: int, stop: int, size: int) -> Iterator[range]:
    for low in range(start, stop, size):
        yield range(low, min(low + size, stop))


class Command(BaseCommand):
    help = "Generate a large catalog fast (bulk inserts); deterministic per --seed; re-runs add only what is missing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--products", type=int, default=1000, help="how many generated products to have")
        parser.add_argument("--seed", type=int, default=1, help="random seed (also namespaces slugs and SKUs)")

    def handle(self, *args: Any, **options: Any) -> None:
        total: int = options["products"]
        seed: int = options["seed"]
        started = time.monotonic()
        leaves = ensure_categories()
        prefix = f"g{seed}-"
        existing = Product.objects.filter(slug__startswith=prefix).count()
        products = variants = 0
        # One second apart, oldest first (PostgreSQL path), so "newest" is a meaningful, seekable order.
        epoch = timezone.now() - timedelta(seconds=total)
        for chunk in _chunks(existing, total, BATCH):
            rows = []
            for index in chunk:
                spec = product_spec(random.Random(f"{seed}:{index}"), leaves)
                slug = f"{prefix}{index}-{slugify(spec.name)}"[:220]
                rows.append(Row(f"G{seed}-{index}", slug, spec, epoch + timedelta(seconds=index)))
            made, made_variants = insert(rows)
            products += made
            variants += made_variants
        if products and connections[Product.objects.db].vendor == "postgresql":
            with connections[Product.objects.db].cursor() as cursor:
                # Fresh statistics, so the planner picks the search indexes right away.
                cursor.execute("ANALYZE catalog_category, catalog_product, catalog_variant, catalog_stock")
        self.stdout.write(
            f"seed_catalog: {products} products ({variants} variants) added, {existing} already there; "
            f"{time.monotonic() - started:.1f} s"
        )
