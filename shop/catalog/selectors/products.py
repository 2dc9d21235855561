"""Storefront reads: product pages (filters, search, sorting, keyset cursor) and product detail.

Query shape is fixed, whatever the page size or variant count: products with their category in one
JOIN, then the active variants with their stock in one prefetch (list: 2 statements; detail: 3,
the third being the breadcrumb). Filters on variants are one ``EXISTS`` so a product never repeats.
Search is ``search`` (PostgreSQL) and ``sqlite_search`` (the embedded default); the category tree
is ``categories``.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import reduce
from typing import Any, Literal

from django.db.models import (
    DecimalField,
    Exists,
    F,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce
from django.db.models.lookups import IExact

from shop.catalog.models import Category, Product, Stock, Variant
from shop.catalog.selectors import search
from shop.kernel import Money, cursors
from shop.kernel.cursors import Position

Sort = Literal["relevance", "price", "-price", "newest", "name"]
SORTS: tuple[Sort, ...] = ("relevance", "price", "-price", "newest", "name")
MAX_PAGE_SIZE = 100
# Sorting by price puts products without an active variant last in both directions.
_NO_PRICE_ASC = Decimal("10000000000.00")
_NO_PRICE_DESC = Decimal("-1.00")


# --- query parameters -----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class ProductQuery:
    """What a product list asks for, already validated (see ``serializers.storefront``)."""

    q: str = ""
    category: str = ""
    brand: str = ""
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    in_stock: bool = False
    # ((key, (value, …)), …): values of one key are alternatives, different keys must all match.
    attributes: tuple[tuple[str, tuple[str, ...]], ...] = ()
    sort: Sort = "newest"


def parse_attributes(pairs: Iterable[str]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``["color:red", "color:Blue", "size:M"]`` -> ``(("color", ("blue", "red")), ("size", ("m",)))``.

    Values compare case-insensitively (so they are lower-cased, and duplicates dropped); keys as given."""
    grouped: dict[str, set[str]] = {}
    for pair in pairs:
        key, _, value = pair.partition(":")
        grouped.setdefault(key.strip(), set()).add(value.strip().lower())
    return tuple((key, tuple(sorted(values))) for key, values in sorted(grouped.items()))


# --- views of products (what the serializers render) -------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class CategoryRef:
    id: int
    slug: str
    name: str


@dataclass(frozen=True, kw_only=True, slots=True)
class VariantView:
    sku: str
    name: str
    attributes: dict[str, str]
    price: Money
    compare_at_price: Money | None
    available: int

    @property
    def in_stock(self) -> bool:
        return self.available > 0


@dataclass(frozen=True, kw_only=True, slots=True)
class ProductCard:
    """A product as a list shows it: the cheapest active variant's price, any availability."""

    id: int
    slug: str
    name: str
    brand: str
    category: CategoryRef
    image_url: str | None
    price: Money | None
    compare_at_price: Money | None
    in_stock: bool
    options: dict[str, list[str]]  # attribute values offered by the active variants, e.g. {"size": ["M", "L"]}


@dataclass(frozen=True, kw_only=True, slots=True)
class ProductView:
    id: int
    slug: str
    name: str
    description: str
    brand: str
    category: CategoryRef
    breadcrumbs: list[CategoryRef]
    attributes: dict[str, str]
    image_urls: list[str]
    price: Money | None
    compare_at_price: Money | None
    in_stock: bool
    options: dict[str, list[str]]
    variants: list[VariantView]
    created_at: datetime
    updated_at: datetime


def _variant_view(variant: Variant) -> VariantView:
    stock: Stock | None = getattr(variant, "stock", None)  # select_related: no query, None if no row
    return VariantView(
        sku=variant.sku,
        name=variant.name,
        attributes={str(k): str(v) for k, v in (variant.attributes or {}).items()},
        price=variant.price,
        compare_at_price=variant.compare_at_price,
        available=max(stock.available, 0) if stock is not None else 0,
    )


def _category_ref(category: Category) -> CategoryRef:
    return CategoryRef(id=category.pk, slug=category.slug, name=category.name)


def _summary(variants: Sequence[VariantView]) -> dict[str, Any]:
    cheapest = min(variants, key=lambda v: v.price.amount, default=None)
    options: dict[str, set[str]] = {}
    for variant in variants:
        for key, value in variant.attributes.items():
            options.setdefault(key, set()).add(value)
    return {
        "price": cheapest.price if cheapest else None,
        "compare_at_price": cheapest.compare_at_price if cheapest else None,
        "in_stock": any(v.in_stock for v in variants),
        "options": {key: sorted(values) for key, values in sorted(options.items())},
    }


def _card(product: Product) -> ProductCard:
    variants = [_variant_view(v) for v in product.active_variants]  # type: ignore[attr-defined]
    images = product.image_urls or []
    return ProductCard(
        id=product.pk,
        slug=product.slug,
        name=product.name,
        brand=product.brand,
        category=_category_ref(product.category),
        image_url=str(images[0]) if images else None,
        **_summary(variants),
    )


# --- querysets ------------------------------------------------------------------------------


def _active_variants() -> Prefetch[Any]:
    return Prefetch(
        "variants",
        queryset=Variant.objects.filter(is_active=True).select_related("stock").order_by("position", "id"),
        to_attr="active_variants",
    )


def visible_products() -> QuerySet[Product]:
    """Active products only; what every storefront read starts from."""
    return Product.objects.filter(is_active=True)


def _filtered(query: ProductQuery) -> QuerySet[Product]:
    qs = visible_products()
    if query.category:
        root_path = Category.objects.filter(slug=query.category).values("path")[:1]
        qs = qs.filter(category__in=Category.objects.filter(path__startswith=Subquery(root_path)).values("pk"))
    if query.brand:
        qs = qs.filter(brand=query.brand)
    # Variant-level filters must all hold for one and the same active variant ("red, size M, in stock").
    variant = Q()
    if query.min_price is not None:
        variant &= Q(price_amount__gte=query.min_price)
    if query.max_price is not None:
        variant &= Q(price_amount__lte=query.max_price)
    if query.in_stock:
        variant &= Q(stock__on_hand__gt=F("stock__reserved"))
    for key, values in query.attributes:
        # A key matches on the variant ("color") or on the product itself ("material").
        variant &= reduce(
            operator.or_,
            (
                Q(IExact(KeyTextTransform(key, "attributes"), value))
                | Q(IExact(KeyTextTransform(key, "product__attributes"), value))
                for value in values
            ),
        )
    if variant:
        qs = qs.filter(Exists(Variant.objects.filter(variant, product=OuterRef("pk"), is_active=True)))
    return qs


# A sort is a lexicographic key ending in the primary key, so every position is unique and a
# keyset cursor ("after this key") never skips or repeats a row, whatever the ties.
_Key = tuple[str, bool, cursors.Kind]  # (field or annotation, descending, kind of value)
_ORDERS: dict[str, tuple[_Key, ...]] = {
    "newest": (("created_at", True, "datetime"), ("id", True, "int")),
    "name": (("name", False, "str"), ("id", False, "int")),
    "price": (("sort_price", False, "decimal"), ("id", False, "int")),
    "-price": (("sort_price", True, "decimal"), ("id", True, "int")),
    "relevance": (("sort_exact", True, "int"), ("sort_relevance", True, "decimal"), ("id", False, "int")),
}


def _order_name(query: ProductQuery) -> str:
    if query.sort == "relevance" and not query.q:
        return "newest"  # nothing to be relevant to
    return query.sort


def _ordered(qs: QuerySet[Product], query: ProductQuery) -> QuerySet[Product]:
    """Price sorts add the lowest active variant price as an aggregate over a JOIN (GROUP BY the
    product): evaluated once per product, where a correlated subquery would run once per mention
    (ORDER BY and each arm of the keyset condition), 2-4x slower at 100k products."""
    if query.sort in ("price", "-price"):
        missing = _NO_PRICE_ASC if query.sort == "price" else _NO_PRICE_DESC
        qs = qs.annotate(
            sort_price=Coalesce(
                Min("variants__price_amount", filter=Q(variants__is_active=True)),
                Value(missing),
                output_field=DecimalField(max_digits=13, decimal_places=2),
            )
        )
    return qs


# --- keyset cursor ------------------------------------------------------------------------------


def _kinds(order: str) -> list[cursors.Kind]:
    return [kind for _, _, kind in _ORDERS[order]]


def encode_cursor(position: Position) -> str:
    return cursors.encode(position, _kinds(position.order))


def decode_cursor(cursor: str, query: ProductQuery) -> Position:
    """Raises ``InvalidCursor`` unless ``cursor`` is one of ours for this query's sort order."""
    order = _order_name(query)
    return cursors.decode(cursor, order=order, kinds=_kinds(order))


def _beyond(keys: Sequence[_Key], values: Sequence[Any], *, backwards: bool) -> Q:
    """Rows strictly after ``values`` in the key order (before it when ``backwards``).

    ``(k1 > v1) OR (k1 = v1 AND k2 > v2) OR …``, plus the redundant ``k1 >= v1`` that lets the planner
    range-scan an index on the leading key.
    """
    alternatives: list[Q] = []
    equal = Q()
    for (name, descending, _), value in zip(keys, values, strict=True):
        smaller = descending != backwards
        alternatives.append(equal & Q(**{f"{name}__{'lt' if smaller else 'gt'}": value}))
        equal &= Q(**{name: value})
    (lead, descending, _), first = keys[0], values[0]
    return Q(**{f"{lead}__{'lte' if descending != backwards else 'gte'}": first}) & reduce(operator.or_, alternatives)


@dataclass(frozen=True, kw_only=True, slots=True)
class Page:
    items: list[ProductCard] = field(default_factory=list)
    next_cursor: str | None = None
    previous_cursor: str | None = None


def product_queryset(query: ProductQuery, *, position: Position | None = None) -> QuerySet[Product]:
    """Matching products in page order (reversed when paging backwards from ``position``), with
    their category joined and active variants prefetched; the caller slices it."""
    order = _order_name(query)
    keys = _ORDERS[order]
    qs = _filtered(query)
    if query.q:
        qs = search.searched(qs, query.q, rank=order.startswith("relevance"))
    qs = _ordered(qs, query)
    backwards = position is not None and position.backwards
    if position is not None:
        qs = qs.filter(_beyond(keys, position.values, backwards=backwards))
    ordering = [(F(name).desc() if descending != backwards else F(name).asc()) for name, descending, _ in keys]
    return (
        qs.select_related("category")
        .defer("description", "search_vector")
        .prefetch_related(_active_variants())
        .order_by(*ordering)
    )


def product_page(query: ProductQuery, *, position: Position | None, page_size: int) -> Page:
    """One page of products, two statements whatever ``page_size`` (≤ 100): no OFFSET, no COUNT.

    Relevance pages are keyset pages too: the rank is a stored-vector ``ts_rank`` plus trigram
    similarity computed only for the matching rows (the GIN indexes find those), so page 50 costs
    what page 1 costs, bounded by the number of matches, never by the catalog size.
    """
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    order = _order_name(query)
    keys = _ORDERS[order]
    backwards = position is not None and position.backwards
    rows = list(product_queryset(query, position=position)[: page_size + 1])
    more = len(rows) > page_size
    rows = rows[:page_size]
    if backwards:
        rows.reverse()

    def cursor_at(row: Product, *, before: bool) -> str:
        values = tuple(getattr(row, name) for name, _, _ in keys)
        return encode_cursor(Position(order=order, backwards=before, values=values))

    next_cursor = previous_cursor = None
    if rows:
        if more or backwards:
            next_cursor = cursor_at(rows[-1], before=False)
        if (more and backwards) or (position is not None and not backwards):
            previous_cursor = cursor_at(rows[0], before=True)
    return Page(items=[_card(row) for row in rows], next_cursor=next_cursor, previous_cursor=previous_cursor)


# --- detail and tree ------------------------------------------------------------------------


def product_detail(slug: str) -> ProductView | None:
    """An active product with its active variants: three statements whatever the variant count."""
    product = (
        visible_products()
        .filter(slug=slug)
        .select_related("category")
        .defer("search_vector")
        .prefetch_related(_active_variants())
        .first()
    )
    if product is None:
        return None
    ancestor_ids = [int(part) for part in product.category.path.strip("/").split("/") if part.isdigit()]
    ancestors = {c.pk: c for c in Category.objects.filter(pk__in=ancestor_ids).only("id", "slug", "name")}
    variants = [_variant_view(v) for v in product.active_variants]  # type: ignore[attr-defined]
    return ProductView(
        id=product.pk,
        slug=product.slug,
        name=product.name,
        description=product.description,
        brand=product.brand,
        category=_category_ref(product.category),
        breadcrumbs=[_category_ref(ancestors[pk]) for pk in ancestor_ids if pk in ancestors],
        attributes={str(k): str(v) for k, v in (product.attributes or {}).items()},
        image_urls=[str(url) for url in product.image_urls or []],
        created_at=product.created_at,
        updated_at=product.updated_at,
        variants=variants,
        **_summary(variants),
    )
