"""CSV import/export of the catalog (django-import-export), writing through the services only.

django-import-export would save rows with ``instance.save()``; these resources parse and validate a
row in ``import_instance`` and save it in ``save_instance`` by calling the services, so an imported
price publishes ``ProductPriceChanged`` and an imported stock count is an ``IMPORT`` movement naming
the staff member, and the storefront cache is invalidated when the file commits.

All or nothing per file: every import runs in one transaction on the catalog's database and rolls
back if any row has an error (``rollback_on_validation_errors`` is forced on, whatever the caller asks).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from import_export import resources, widgets
from import_export.fields import Field

from shop.catalog.models import Category, Product, Stock, StockMovement, Variant
from shop.catalog.services import inventory
from shop.catalog.services import products as services
from shop.kernel import DomainError, Money
from shop.web.admin_kit import load_saved

TRUE = {"1", "true", "yes", "y"}
FALSE = {"0", "false", "no", "n"}


class StrippedWidget(widgets.Widget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        return "" if value is None else str(value).strip()


def _cell(row: Any, column: str) -> str | None:
    """The trimmed text of a cell; ``None`` when the file has no such column."""
    if column not in row:
        return None
    value = row[column]
    return "" if value is None else str(value).strip()


def _decimal(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a decimal amount") from None
    if not value.is_finite():
        raise ValueError(f"{text!r} is not a decimal amount")
    return value


def _as_validation_error(exc: DomainError, field: str) -> ValidationError:
    errors = exc.extra.get("errors")
    if isinstance(errors, dict) and errors:
        return ValidationError({name: [str(m) for m in messages] for name, messages in errors.items()})
    return ValidationError({field: [exc.detail]})


Fail = Callable[[str, str], None]


def _plan_product(row: Any, instance: Variant, fail: Fail) -> dict[str, Any]:
    """The product columns: matched by slug; a new product needs a name and a category."""
    sku = _cell(row, "sku") or ""
    slug = _cell(row, "product_slug") or ""
    product = Product.objects.filter(slug=slug).first() if slug else None
    if not slug:
        fail("product_slug", "Required.")
    elif instance.pk is not None and (product is None or instance.product_id != product.pk):
        fail("product_slug", f"{sku} belongs to {instance.product.slug}; SKUs do not move between products.")
    plan: dict[str, Any] = {"sku": sku, "product_slug": slug, "product_id": product.pk if product else None}
    name = _cell(row, "product_name")
    if name:
        plan["name"] = name
    elif product is None:
        fail("product_name", "Required for a new product.")
    category_slug = _cell(row, "category_slug")
    if category_slug:
        plan["category_id"] = Category.objects.filter(slug=category_slug).values_list("pk", flat=True).first()
        if plan["category_id"] is None:
            fail("category_slug", f"No category {category_slug!r}.")
    elif product is None:
        fail("category_slug", "Required for a new product.")
    brand = _cell(row, "brand")
    if brand is not None:
        plan["brand"] = brand
    tax_class = _cell(row, "tax_class")
    if tax_class:
        try:
            plan["tax_class"] = services.check_tax_class(tax_class)
        except DomainError as exc:
            fail("tax_class", exc.detail)
    return plan


def _plan_variant(row: Any, instance: Variant, fail: Fail) -> dict[str, Any]:
    """The variant columns: a new SKU needs a price; amounts are in the row's (or the SKU's) currency."""
    plan: dict[str, Any] = {}
    new_variant = instance.pk is None
    sku = _cell(row, "sku") or ""
    if new_variant:
        try:
            services.check_sku(sku)
        except DomainError as exc:
            fail("sku", exc.detail)
    variant_name = _cell(row, "variant_name")
    if variant_name is not None:
        plan["variant_name"] = variant_name
    currency = (_cell(row, "currency") or ("" if new_variant else instance.currency)).upper()
    currency = currency or getattr(settings, "SHOP_CURRENCY", "EUR")
    for column in ("price", "compare_at_price"):
        text = _cell(row, column)
        if not text:
            if column == "price" and new_variant:
                fail("price", "Required for a new SKU.")
            elif column == "compare_at_price" and text == "":
                plan["compare_at_price"] = None
            continue
        try:
            plan[column] = services.money_of(amount=_decimal(text), currency=currency, field=column)
        except (ValueError, DomainError) as exc:
            fail(column, exc.detail if isinstance(exc, DomainError) else str(exc))
    if "price" not in plan and not new_variant and currency != instance.currency:
        fail("price", "Restate the price when the currency changes.")
    weight = _cell(row, "weight_grams")
    if weight:
        try:
            plan["weight_grams"] = services.check_weight(int(weight))
        except (ValueError, DomainError) as exc:
            fail("weight_grams", exc.detail if isinstance(exc, DomainError) else f"{weight!r} is not whole grams.")
    active = (_cell(row, "active") or "").lower()
    if active in TRUE | FALSE:
        plan["is_active"] = active in TRUE
    elif active:
        fail("active", "Use 1/0, true/false or yes/no.")
    return plan


class ServiceResource(resources.ModelResource):
    """Imports that write through services, all or nothing per file."""

    def import_data(self, dataset: Any, dry_run: bool = False, raise_errors: bool = False, **kwargs: Any) -> Any:
        kwargs["use_transactions"] = True
        kwargs["rollback_on_validation_errors"] = True
        return super().import_data(dataset, dry_run=dry_run, raise_errors=raise_errors, **kwargs)

    def save_m2m(self, instance: Any, row: Any, **kwargs: Any) -> None:
        """No many-to-many fields; and nothing may be saved behind the services' back."""


class ProductVariantResource(ServiceResource):
    """One row per SKU, with its product's columns repeated. Products are matched by ``product_slug``,
    variants by ``sku`` (which never moves to another product). Blank cells of an existing product or
    variant keep what is there; a new one needs a name, a category and a price."""

    product_slug = Field(attribute="product__slug", column_name="product_slug")
    product_name = Field(attribute="product__name", column_name="product_name")
    category_slug = Field(attribute="product__category__slug", column_name="category_slug")
    brand = Field(attribute="product__brand", column_name="brand")
    tax_class = Field(attribute="product__tax_class", column_name="tax_class")
    sku = Field(attribute="sku", column_name="sku", widget=StrippedWidget())
    variant_name = Field(attribute="name", column_name="variant_name")
    price = Field(attribute="price_amount", column_name="price")
    compare_at_price = Field(attribute="compare_at_amount", column_name="compare_at_price")
    currency = Field(attribute="currency", column_name="currency")
    weight_grams = Field(attribute="weight_grams", column_name="weight_grams")
    active = Field(attribute="is_active", column_name="active", widget=widgets.BooleanWidget())

    class Meta:
        model = Variant
        name = "Products and variants (one row per SKU)"
        fields = (
            "product_slug",
            "product_name",
            "category_slug",
            "brand",
            "tax_class",
            "sku",
            "variant_name",
            "price",
            "compare_at_price",
            "currency",
            "weight_grams",
            "active",
        )
        export_order = fields
        import_id_fields = ("sku",)

    def get_queryset(self) -> QuerySet[Variant]:
        return Variant.objects.select_related("product__category").order_by("product__slug", "position", "id")

    def import_instance(self, instance: Variant, row: Any, **kwargs: Any) -> None:
        """Parse the row into a plan (every problem of the row at once); ``save_instance`` carries it out."""
        errors: dict[str, list[str]] = {}

        def fail(column: str, message: str) -> None:
            errors.setdefault(column, []).append(message)

        plan = _plan_product(row, instance, fail)
        plan.update(_plan_variant(row, instance, fail))
        instance._import_plan = plan  # type: ignore[attr-defined]
        if errors:
            raise ValidationError(errors)

    def save_instance(self, instance: Variant, is_create: bool, row: Any, **kwargs: Any) -> None:
        plan: dict[str, Any] = instance._import_plan  # type: ignore[attr-defined]
        try:
            variant = _save_product_variant(plan)
        except DomainError as exc:
            raise _as_validation_error(exc, "sku") from exc
        load_saved(instance, variant)


def _save_product_variant(plan: dict[str, Any]) -> Variant:
    """Create or update the row's product, then its variant, each through its service."""
    product_fields = {key: plan[key] for key in ("name", "category_id", "brand", "tax_class") if key in plan}
    if plan["product_id"] is None:
        product = services.create_product(slug=plan["product_slug"], **product_fields)
        product_id = product.pk
    else:
        product_id = plan["product_id"]
        services.update_product(product_id=product_id, **product_fields)
    variant_fields: dict[str, Any] = {
        key: plan[key] for key in ("price", "compare_at_price", "is_active", "weight_grams") if key in plan
    }
    if "variant_name" in plan:
        variant_fields["name"] = plan["variant_name"]
    if Variant.objects.filter(sku=plan["sku"]).exists():
        return services.update_variant(sku=plan["sku"], product_id=product_id, **variant_fields)
    price: Money = variant_fields.pop("price")
    return services.create_variant(product_id=product_id, sku=plan["sku"], price=price, **variant_fields)


class StockResource(ServiceResource):
    """``sku, on_hand`` (the other columns are exported for reading and ignored on import). Each changed
    count becomes ``adjust_stock(set_on_hand=…, reason="import")``: logged, never a bare write; an
    unchanged row is skipped and logs nothing."""

    sku = Field(attribute="variant__sku", column_name="sku", widget=StrippedWidget())
    product_slug = Field(attribute="variant__product__slug", column_name="product_slug", readonly=True)
    on_hand = Field(attribute="on_hand", column_name="on_hand")
    reserved = Field(attribute="reserved", column_name="reserved", readonly=True)
    available = Field(attribute="available", column_name="available", readonly=True)

    class Meta:
        model = Stock
        name = "Stock (sku, on_hand)"
        fields = ("sku", "product_slug", "on_hand", "reserved", "available")
        export_order = fields
        import_id_fields = ("sku",)

    def get_queryset(self) -> QuerySet[Stock]:
        return Stock.objects.select_related("variant__product").order_by("variant__sku")

    def import_instance(self, instance: Stock, row: Any, **kwargs: Any) -> None:
        errors: dict[str, list[str]] = {}
        sku = _cell(row, "sku") or ""
        if instance.pk is None:  # no stock row yet: the SKU must still exist
            variant = Variant.objects.filter(sku=sku).first()
            if variant is None:
                errors["sku"] = [f"No SKU {sku!r}."]
            else:
                instance.variant = variant
        text = _cell(row, "on_hand")
        on_hand: int | None = None
        if text is None:
            errors["on_hand"] = ["The file needs an on_hand column."]
        else:
            try:
                on_hand = int(text)
            except ValueError:
                errors["on_hand"] = [f"{text!r} is not a whole number."]
            else:
                if not 0 <= on_hand <= inventory.MAX_QUANTITY:
                    errors["on_hand"] = ["A count of 0 or more."]
        instance._import_on_hand = on_hand  # type: ignore[attr-defined]
        if errors:
            raise ValidationError(errors)

    def skip_row(self, instance: Stock, original: Any, row: Any, import_validation_errors: Any = None) -> bool:
        """An unchanged count is not a stock change: nothing to log."""
        if import_validation_errors:
            return False
        return instance.pk is not None and instance._import_on_hand == instance.on_hand  # type: ignore[attr-defined]

    def save_instance(self, instance: Stock, is_create: bool, row: Any, **kwargs: Any) -> None:
        user = kwargs.get("user")
        file_name = kwargs.get("file_name") or ""
        try:
            inventory.adjust_stock(
                sku=instance.variant.sku,
                set_on_hand=instance._import_on_hand,  # type: ignore[attr-defined]
                reason=StockMovement.Reason.IMPORT.value,
                actor_id=getattr(user, "pk", None),
                note=f"CSV import {file_name}".strip()[:255],
            )
        except DomainError as exc:
            raise _as_validation_error(exc, "on_hand") from exc
        instance.pk = instance.variant.pk  # a stock row's key is its variant's
        instance.refresh_from_db()
