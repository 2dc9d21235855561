"""Staff writes to categories, products, variants and prices (the staff API, the admin and CSV imports).

Every write runs in one transaction on the catalog's database and invalidates the storefront cache
when it commits, so the next storefront response shows it. A price change publishes
``ProductPriceChanged`` in the same transaction (outbox), with the price read under a row lock, so
concurrent edits each report the price they really replaced. Stock is never written here: a new
variant gets an empty stock row, and every later change goes through ``inventory.adjust_stock``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from typing import Any, Final, NoReturn

from django.db import IntegrityError
from django.db.models import QuerySet

from shop import registry
from shop.catalog import api
from shop.catalog.adapters.cache import invalidate_catalog
from shop.catalog.models import Category, Product, Stock, Variant
from shop.catalog.services.validation import (
    SLUG_RE,
    check_attributes,
    check_image_urls,
    check_sku,
    check_tax_class,
    check_weight,
    money_of,
)
from shop.catalog.services.validation import invalid as _invalid
from shop.kernel import Conflict, Money


class _Unset(enum.Enum):
    """Marks an update argument that was not given (``None`` is a value: "no parent", "no compare-at")."""

    token = 0


UNSET: Final = _Unset.token


def _check_slug(slug: str) -> str:
    if not isinstance(slug, str) or not SLUG_RE.match(slug) or len(slug) > 140:
        raise _invalid("slug", "Letters, digits, '-' or '_' (at most 140).")
    return slug


def _check_parent(*, category: Category | None, parent_id: int | None) -> None:
    """A parent must exist and must not be the category itself or one of its descendants."""
    if parent_id is None:
        return
    parent = Category.objects.filter(pk=parent_id).only("path").first()
    if parent is None:
        raise _invalid("parent", "No such category.")
    if category is not None and category.pk is not None and f"/{category.pk}/" in parent.path:
        raise _invalid("parent", "A category cannot move below itself or one of its descendants.")


def check_category_parent(*, category_id: int | None, parent_id: int | None) -> None:
    """For forms that validate before saving (the admin)."""
    category = Category.objects.filter(pk=category_id).first() if category_id is not None else None
    _check_parent(category=category, parent_id=parent_id)


def _raise_if_taken(exc: IntegrityError, clash: QuerySet[Any], error: Conflict) -> NoReturn:
    """Turn a unique-index violation into the domain's 409 when that is what it was; anything else is a bug."""
    if clash.exists():
        raise error from exc
    raise exc


def _apply(obj: Any, changes: Mapping[str, Any]) -> list[str]:
    """Set the given fields that really differ; return their names (nothing changed: nothing to save)."""
    changed = [name for name, value in changes.items() if value is not UNSET and getattr(obj, name) != value]
    for name in changed:
        setattr(obj, name, changes[name])
    return changed


# --- categories ------------------------------------------------------------------------------------
def create_category(*, name: str, slug: str, parent_id: int | None = None, position: int = 0) -> Category:
    _check_slug(slug)
    _check_parent(category=None, parent_id=parent_id)
    if Category.objects.filter(slug=slug).exists():
        raise api.SlugTaken(f"A category already uses the slug {slug!r}.", slug=slug)
    try:
        with registry.atomic("catalog"):
            category = Category(name=name, slug=slug, parent_id=parent_id, position=position)
            category.save()
            invalidate_catalog()
    except IntegrityError as exc:  # a concurrent write took the slug between our check and our insert
        _raise_if_taken(exc, Category.objects.filter(slug=slug), api.SlugTaken(f"A category uses {slug!r}.", slug=slug))
    return category


def update_category(
    *,
    category_id: int,
    name: str | _Unset = UNSET,
    slug: str | _Unset = UNSET,
    parent_id: int | _Unset | None = UNSET,
    position: int | _Unset = UNSET,
) -> Category:
    """Rename, re-slug or move a category (its descendants' paths move with it)."""
    if slug is not UNSET:
        _check_slug(slug)
        if Category.objects.filter(slug=slug).exclude(pk=category_id).exists():
            raise api.SlugTaken(f"A category already uses the slug {slug!r}.", slug=slug)
    try:
        with registry.atomic("catalog"):
            category = Category.objects.select_for_update().filter(pk=category_id).first()
            if category is None:
                raise api.CategoryNotFound("No such category.")
            if parent_id is not UNSET:
                _check_parent(category=category, parent_id=parent_id)
            changed = _apply(category, {"name": name, "slug": slug, "parent_id": parent_id, "position": position})
            if changed:
                try:
                    category.save()
                except ValueError as exc:  # Category.save() refuses cycles a concurrent move could create
                    raise _invalid("parent", str(exc)) from exc
                invalidate_catalog()
    except IntegrityError as exc:  # a concurrent write took the slug between our check and our insert
        _raise_if_taken(exc, Category.objects.filter(slug=slug), api.SlugTaken(f"A category uses {slug!r}.", slug=slug))
    return category


def delete_category(*, category_id: int) -> None:
    """Only an empty category goes: products and subcategories must move first."""
    with registry.atomic("catalog"):
        category = Category.objects.select_for_update().filter(pk=category_id).first()
        if category is None:
            raise api.CategoryNotFound("No such category.")
        if category.children.exists() or category.products.exists():
            raise api.CategoryNotEmpty()
        category.delete()
        invalidate_catalog()


# --- products --------------------------------------------------------------------------------------
def _check_category(category_id: int) -> None:
    if not Category.objects.filter(pk=category_id).exists():
        raise _invalid("category", "No such category.")


def create_product(
    *,
    name: str,
    slug: str,
    category_id: int,
    description: str = "",
    brand: str = "",
    attributes: Mapping[str, str] | None = None,
    image_urls: Sequence[str] | None = None,
    is_active: bool = True,
    tax_class: str = api.TAX_CLASSES[0],
) -> Product:
    _check_slug(slug)
    _check_category(category_id)
    check_tax_class(tax_class)
    attributes = check_attributes(attributes or {})
    image_urls = check_image_urls(image_urls or [])
    if Product.objects.filter(slug=slug).exists():
        raise api.SlugTaken(f"A product already uses the slug {slug!r}.", slug=slug)
    try:
        with registry.atomic("catalog"):
            product = Product.objects.create(
                name=name,
                slug=slug,
                category_id=category_id,
                description=description,
                brand=brand,
                attributes=attributes,
                image_urls=image_urls,
                is_active=is_active,
                tax_class=tax_class,
            )
            invalidate_catalog()
    except IntegrityError as exc:
        _raise_if_taken(exc, Product.objects.filter(slug=slug), api.SlugTaken(f"A product uses {slug!r}.", slug=slug))
    return product


def update_product(
    *,
    product_id: int,
    name: str | _Unset = UNSET,
    slug: str | _Unset = UNSET,
    category_id: int | _Unset = UNSET,
    description: str | _Unset = UNSET,
    brand: str | _Unset = UNSET,
    attributes: Mapping[str, str] | _Unset = UNSET,
    image_urls: Sequence[str] | _Unset = UNSET,
    is_active: bool | _Unset = UNSET,
    tax_class: str | _Unset = UNSET,
) -> Product:
    """Change the given fields; an unchanged product is not written (and the cache stays warm)."""
    if slug is not UNSET:
        _check_slug(slug)
        if Product.objects.filter(slug=slug).exclude(pk=product_id).exists():
            raise api.SlugTaken(f"A product already uses the slug {slug!r}.", slug=slug)
    if category_id is not UNSET:
        _check_category(category_id)
    changes: dict[str, Any] = {
        "name": name,
        "slug": slug,
        "category_id": category_id,
        "description": description,
        "brand": brand,
        "attributes": UNSET if attributes is UNSET else check_attributes(attributes),
        "image_urls": UNSET if image_urls is UNSET else check_image_urls(image_urls),
        "is_active": is_active,
        "tax_class": UNSET if tax_class is UNSET else check_tax_class(tax_class),
    }
    try:
        with registry.atomic("catalog"):
            product = Product.objects.select_for_update().filter(pk=product_id).first()
            if product is None:
                raise api.ProductNotFound("No such product.")
            changed = _apply(product, changes)
            if changed:
                product.save(update_fields=[*changed, "updated_at"])
                invalidate_catalog()
    except IntegrityError as exc:
        _raise_if_taken(exc, Product.objects.filter(slug=slug), api.SlugTaken(f"A product uses {slug!r}.", slug=slug))
    return product


def deactivate_product(*, product_id: int) -> Product:
    """Products are retired, never deleted: orders and stock movements still point at their variants."""
    return update_product(product_id=product_id, is_active=False)


# --- variants and prices ---------------------------------------------------------------------------
def create_variant(
    *,
    product_id: int,
    sku: str,
    price: Money,
    name: str = "",
    attributes: Mapping[str, str] | None = None,
    compare_at_price: Money | None = None,
    is_active: bool = True,
    position: int = 0,
    weight_grams: int = 0,
) -> Variant:
    """A new SKU with an empty stock row (stock arrives through ``adjust_stock``, logged)."""
    check_sku(sku)
    check_weight(weight_grams)
    price = money_of(amount=price.amount, currency=price.currency)
    if compare_at_price is not None:
        compare_at_price = money_of(
            amount=compare_at_price.amount, currency=compare_at_price.currency, field="compare_at_price"
        )
        if compare_at_price.currency != price.currency:
            raise _invalid("compare_at_price", "The compare-at price must be in the price's currency.")
    attributes = check_attributes(attributes or {})
    if Variant.objects.filter(sku=sku).exists():
        raise api.SkuTaken(f"The SKU {sku!r} already exists.", sku=sku)
    try:
        with registry.atomic("catalog"):
            if not Product.objects.filter(pk=product_id).exists():
                raise api.ProductNotFound("No such product.")
            variant = Variant.objects.create(
                product_id=product_id,
                sku=sku,
                name=name,
                attributes=attributes,
                price_amount=price.amount,
                compare_at_amount=compare_at_price.amount if compare_at_price is not None else None,
                currency=price.currency,
                is_active=is_active,
                position=position,
                weight_grams=weight_grams,
            )
            Stock.objects.create(variant=variant)
            invalidate_catalog()
    except IntegrityError as exc:
        _raise_if_taken(exc, Variant.objects.filter(sku=sku), api.SkuTaken(f"The SKU {sku!r} exists.", sku=sku))
    return variant


def update_variant(
    *,
    sku: str,
    price: Money | _Unset = UNSET,
    compare_at_price: Money | _Unset | None = UNSET,
    name: str | _Unset = UNSET,
    attributes: Mapping[str, str] | _Unset = UNSET,
    is_active: bool | _Unset = UNSET,
    position: int | _Unset = UNSET,
    weight_grams: int | _Unset = UNSET,
    product_id: int | None = None,
) -> Variant:
    """Change a SKU's price, compare-at price or details. The SKU itself never changes: carts and
    orders of other contexts keep it. ``product_id``, when given, must be the variant's product.

    A price change (amount or currency) publishes ``ProductPriceChanged`` with the old and new price.
    """
    if price is not UNSET:
        price = money_of(amount=price.amount, currency=price.currency)
    if isinstance(compare_at_price, Money):
        compare_at_price = money_of(
            amount=compare_at_price.amount, currency=compare_at_price.currency, field="compare_at_price"
        )
    if attributes is not UNSET:
        attributes = check_attributes(attributes)
    if weight_grams is not UNSET:
        check_weight(weight_grams)
    with registry.atomic("catalog"):
        variant = Variant.objects.select_for_update().filter(sku=sku).first()
        if variant is None or (product_id is not None and variant.product_id != product_id):
            raise api.UnknownSku(f"No variant {sku!r} here.", skus=[sku])
        old_price = variant.price
        new_price = price if isinstance(price, Money) else old_price
        if compare_at_price is UNSET:
            compare_at = variant.compare_at_price
            if compare_at is not None and compare_at.currency != new_price.currency:
                raise _invalid("compare_at_price", "Restate the compare-at price when the currency changes.")
        elif compare_at_price is not None and compare_at_price.currency != new_price.currency:
            raise _invalid("compare_at_price", "The compare-at price must be in the price's currency.")
        changed = _apply(
            variant,
            {
                "price_amount": new_price.amount,
                "currency": new_price.currency,
                "compare_at_amount": (
                    UNSET
                    if compare_at_price is UNSET
                    else (compare_at_price.amount if compare_at_price is not None else None)
                ),
                "name": name,
                "attributes": attributes,
                "is_active": is_active,
                "position": position,
                "weight_grams": weight_grams,
            },
        )
        if changed:
            variant.save(update_fields=changed)
            if new_price != old_price:
                registry.publish(api.ProductPriceChanged(sku=variant.sku, old_price=old_price, new_price=new_price))
            invalidate_catalog()
    return variant
