# long-module: the catalog admin's ModelAdmins (categories, products with variants and stock)
"""Staff view of the catalog: categories, products with their variants and stock, stock movements.

Every save goes through the services, never through a bare ``obj.save()``:

* ``ProductAdmin.save_model`` / ``save_formset`` hand the validated form data to ``create_product`` /
  ``update_product`` / ``create_variant`` / ``update_variant``. Staff keep the ordinary edit-in-place
  form (prices edited inline), and an inline price edit still publishes ``ProductPriceChanged``
  and invalidates the storefront cache, because the service does. The forms validate with the
  services' own rules first, so a save does not fail half-way.
* Stock is read-only everywhere; it changes only through the "Adjust stock" page (``adjust_stock`` with
  the staff member's id and a note, logged as a movement) or the stock CSV import (``IMPORT`` movements).
* Variants and products are deactivated, never deleted: reservations and movements point at them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Count, DecimalField, F, IntegerField, Max, Min, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.forms import BaseInlineFormSet, ModelForm
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from import_export.admin import ImportExportModelAdmin
from import_export.formats.base_formats import CSV

from shop.catalog.admin.forms import (
    CategoryAdminForm,
    ProductAdminForm,
    StockAdjustForm,
    VariantInlineForm,
)
from shop.catalog.admin.resources import ProductVariantResource, StockResource
from shop.catalog.models import Category, Product, Stock, StockMovement, Variant
from shop.catalog.services import inventory
from shop.catalog.services import products as services
from shop.kernel import DomainError, Money
from shop.web.admin_kit import StaffAction, Step, load_saved


def low_stock_threshold() -> int:
    return int(getattr(settings, "SHOP_STOCK_LOW_THRESHOLD", 5))


class CsvImportExportAdmin(ImportExportModelAdmin):
    import_formats = [CSV]
    export_formats = [CSV]

    def has_export_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)


# --- categories ------------------------------------------------------------------------------------
@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin[Category]):
    form = CategoryAdminForm
    list_display = ["tree_name", "slug", "parent", "position"]
    list_select_related = ["parent"]
    ordering = ["path", "position", "id"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ["path"]

    @admin.display(description="name", ordering="path")
    def tree_name(self, obj: Category) -> str:
        depth = max(obj.path.count("/") - 2, 0)
        return f"{'— ' * depth}{obj.name}"

    def save_model(self, request: HttpRequest, obj: Category, form: ModelForm[Category], change: bool) -> None:
        data = form.cleaned_data
        parent_id = data["parent"].pk if data.get("parent") else None
        if change:
            changes: dict[str, Any] = {
                name: data[name] for name in ("name", "slug", "position") if name in form.changed_data
            }
            if "parent" in form.changed_data:
                changes["parent_id"] = parent_id
            saved = services.update_category(category_id=obj.pk, **changes)
        else:
            saved = services.create_category(
                name=data["name"], slug=data["slug"], parent_id=parent_id, position=data.get("position") or 0
            )
        load_saved(obj, saved)

    def delete_model(self, request: HttpRequest, obj: Category) -> None:
        services.delete_category(category_id=obj.pk)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Category]) -> None:
        for category in sorted(queryset, key=lambda c: -len(c.path)):  # children before their parents
            services.delete_category(category_id=category.pk)


# --- products and variants -------------------------------------------------------------------------
class VariantInline(admin.TabularInline[Variant, Product]):
    """The product's variants in one row each, narrow enough for the product page: short inputs, and
    stock as one read-only column (changed only through "adjust")."""

    model = Variant
    form = VariantInlineForm
    extra = 0
    can_delete = False
    fields = [
        "sku",
        "name",
        "attributes",
        "price_amount",
        "compare_at_amount",
        "currency",
        "weight_grams",
        "is_active",
        "position",
        "stock_figures",
    ]
    readonly_fields = ["stock_figures"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Variant]:
        return super().get_queryset(request).select_related("stock")

    @staticmethod
    def _stock(obj: Variant) -> Stock | None:
        try:
            return obj.stock if obj.pk else None
        except Stock.DoesNotExist:
            return None

    @admin.display(description="stock")
    def stock_figures(self, obj: Variant) -> str:
        if obj.pk is None:
            return "-"
        stock = self._stock(obj)
        link = reverse("admin:catalog_stock_adjust", args=[obj.pk])
        if stock is None:
            return format_html('none <a href="{}">adjust</a>', link)
        return format_html(
            '<span class="variant-stock" style="white-space: nowrap" title="{} reserved">{} available<br>'
            '{} on hand<br><a href="{}">adjust</a></span>',
            stock.reserved,
            stock.available,
            stock.on_hand,
            link,
        )


def _variant_changes(form: ModelForm[Variant]) -> dict[str, Any]:
    """The service arguments for what the staff member changed in one inline row."""
    data, changed = form.cleaned_data, set(form.changed_data)
    changes: dict[str, Any] = {
        name: data[name] for name in ("name", "attributes", "is_active", "position", "weight_grams") if name in changed
    }
    if changed & {"price_amount", "currency"}:
        changes["price"] = Money(data["price_amount"], data["currency"])
    if changed & {"compare_at_amount", "currency"}:
        amount = data.get("compare_at_amount")
        changes["compare_at_price"] = Money(amount, data["currency"]) if amount is not None else None
    return changes


@admin.register(Product)
class ProductAdmin(CsvImportExportAdmin):
    form = ProductAdminForm
    resource_classes = [ProductVariantResource]
    inlines = [VariantInline]
    list_display = ["name", "category", "brand", "price", "available", "variant_count", "is_active", "created_at"]
    list_filter = ["is_active", "category", "brand", "tax_class"]
    list_select_related = ["category"]
    search_fields = ["name", "slug", "brand", "variants__sku"]
    search_help_text = "Name, slug, brand or SKU"
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ["created_at", "updated_at"]
    actions = ["deactivate_products", "activate_products"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Product]:
        """Each product with its active variants' price range and stock, as subqueries: a list page
        costs the same number of queries for 2 products or 50."""
        sold = Variant.objects.filter(product=OuterRef("pk"), is_active=True).order_by().values("product")
        stock = Stock.objects.filter(variant__product=OuterRef("pk"), variant__is_active=True).order_by()
        money: DecimalField[Any, Any] = DecimalField(max_digits=12, decimal_places=2)
        return (
            super()
            .get_queryset(request)
            .annotate(
                min_price=Subquery(sold.annotate(v=Min("price_amount")).values("v"), output_field=money),
                max_price=Subquery(sold.annotate(v=Max("price_amount")).values("v"), output_field=money),
                price_currency=Subquery(sold.order_by("price_amount", "id").values("currency")[:1]),
                currencies=Subquery(sold.annotate(v=Count("currency", distinct=True)).values("v")),
                variants_sold=Coalesce(Subquery(sold.annotate(v=Count("pk")).values("v")), 0),
                stock_available=Coalesce(
                    Subquery(
                        stock.values("variant__product").annotate(v=Sum(F("on_hand") - F("reserved"))).values("v"),
                        output_field=IntegerField(),
                    ),
                    0,
                ),
            )
        )

    @admin.display(description="price", ordering="min_price")
    def price(self, obj: Product) -> str:
        low, high = getattr(obj, "min_price", None), getattr(obj, "max_price", None)
        if low is None or high is None:
            return "-"
        if (getattr(obj, "currencies", 1) or 1) > 1:
            return "several currencies"
        currency = getattr(obj, "price_currency", "")
        if low == high:
            return str(Money(low, currency))
        return f"{Money(low, currency).amount} to {Money(high, currency)}"

    @admin.display(description="available", ordering="stock_available")
    def available(self, obj: Product) -> int:
        """Units customers can still buy, over the active variants (on hand minus reserved)."""
        return int(getattr(obj, "stock_available", 0) or 0)

    @admin.display(description="variants", ordering="variants_sold")
    def variant_count(self, obj: Product) -> int:
        return int(getattr(obj, "variants_sold", 0) or 0)

    def has_delete_permission(self, request: HttpRequest, obj: Product | None = None) -> bool:
        return False  # deactivate instead: orders and stock movements still point at the variants

    def has_import_permission(self, request: HttpRequest) -> bool:
        return self.has_add_permission(request) and self.has_change_permission(request)

    def get_export_queryset(self, request: HttpRequest) -> QuerySet[Variant]:
        """The variants of the products the changelist shows (its search and filters apply)."""
        products = super().get_export_queryset(request)
        return ProductVariantResource().get_queryset().filter(product__in=products.values("pk"))

    def save_model(self, request: HttpRequest, obj: Product, form: ModelForm[Product], change: bool) -> None:
        data = dict(form.cleaned_data)
        data["category_id"] = data.pop("category").pk
        if change:
            names = {"category_id" if name == "category" else name for name in form.changed_data}
            saved = services.update_product(product_id=obj.pk, **{name: data[name] for name in names})
        else:
            saved = services.create_product(**data)
        load_saved(obj, saved)

    def save_formset(
        self, request: HttpRequest, form: Any, formset: BaseInlineFormSet[Any, Any, Any], change: bool
    ) -> None:
        if formset.model is not Variant:
            super().save_formset(request, form, formset, change)
            return
        product = form.instance
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for variant_form in formset.forms:
            if not variant_form.has_changed():
                continue
            if variant_form.instance.pk is None:
                data = variant_form.cleaned_data
                amount = data.get("compare_at_amount")
                variant = services.create_variant(
                    product_id=product.pk,
                    sku=data["sku"],
                    price=Money(data["price_amount"], data["currency"]),
                    compare_at_price=Money(amount, data["currency"]) if amount is not None else None,
                    name=data.get("name") or "",
                    attributes=data.get("attributes") or {},
                    is_active=data.get("is_active", True),
                    position=data.get("position") or 0,
                    weight_grams=data.get("weight_grams") or 0,
                )
                formset.new_objects.append(variant)
            else:
                variant = services.update_variant(
                    sku=variant_form.instance.sku, product_id=product.pk, **_variant_changes(variant_form)
                )
                formset.changed_objects.append((variant, variant_form.changed_data))
            load_saved(variant_form.instance, variant)

    @admin.action(description="Deactivate selected products (hidden from the storefront)")
    def deactivate_products(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        for product in queryset:
            services.deactivate_product(product_id=product.pk)
        self.message_user(request, f"{len(queryset)} product(s) deactivated.")

    @admin.action(description="Activate selected products")
    def activate_products(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        for product in queryset:
            services.update_product(product_id=product.pk, is_active=True)
        self.message_user(request, f"{len(queryset)} product(s) activated.")


# --- stock -----------------------------------------------------------------------------------------
class StockLevelFilter(admin.SimpleListFilter):
    """The low-stock list: available (on hand - reserved) at or below ``SHOP_STOCK_LOW_THRESHOLD``."""

    title = "stock level"
    parameter_name = "level"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("low", f"Low (available ≤ {low_stock_threshold()})"), ("out", "Sold out (available ≤ 0)")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "low":
            return queryset.filter(available_qty__lte=low_stock_threshold())
        if self.value() == "out":
            return queryset.filter(available_qty__lte=0)
        return queryset


@admin.register(Stock)
class StockAdmin(CsvImportExportAdmin):
    """Read-only figures; "adjust" opens a form that calls ``adjust_stock`` (logged, with the staff id)."""

    resource_classes = [StockResource]
    list_display = ["sku", "product", "on_hand", "reserved", "available", "updated_at", "adjust_stock_link"]
    list_filter = [StockLevelFilter]
    list_select_related = ["variant__product"]
    search_fields = ["variant__sku", "variant__product__name"]
    search_help_text = "SKU or product name"
    ordering = ["variant__sku"]
    fields = ["variant", "on_hand", "reserved", "updated_at"]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Stock]:
        return super().get_queryset(request).annotate(available_qty=F("on_hand") - F("reserved"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a stock row comes with its variant

    def has_change_permission(self, request: HttpRequest, obj: Stock | None = None) -> bool:
        return False  # never a bare field edit: see adjust_view

    def has_delete_permission(self, request: HttpRequest, obj: Stock | None = None) -> bool:
        return False

    def has_adjust_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("catalog.change_stock")

    has_import_permission = has_adjust_permission

    @admin.display(description="SKU", ordering="variant__sku")
    def sku(self, obj: Stock) -> str:
        return obj.variant.sku

    @admin.display(description="product", ordering="variant__product__name")
    def product(self, obj: Stock) -> str:
        return obj.variant.product.name

    @admin.display(description="available", ordering="available_qty")
    def available(self, obj: Stock) -> int:
        return obj.available

    @admin.display(description="")
    def adjust_stock_link(self, obj: Stock) -> str:
        return format_html('<a href="{}">adjust</a>', reverse("admin:catalog_stock_adjust", args=[obj.pk]))

    def get_urls(self) -> list[URLPattern]:
        adjust = path(
            "<path:object_id>/adjust/", self.admin_site.admin_view(self.adjust_view), name="catalog_stock_adjust"
        )
        return [adjust, *super().get_urls()]

    def adjust_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The "adjust" link: the admin kit's form and confirmation for this one SKU (``AdjustStock``)."""
        stock = self.get_object(request, unquote(object_id))
        if stock is None:
            raise Http404("No such stock row.")
        if not self.has_adjust_permission(request):
            raise PermissionDenied
        response = AdjustStock(self).run(request, Stock.objects.filter(pk=stock.pk))
        return response or HttpResponseRedirect(reverse("admin:catalog_stock_changelist"))


class AdjustStock(StaffAction[Stock]):
    """Stock received, counted or written off: the form, then what will happen to on hand and
    available, then ``inventory.adjust_stock`` (logged as a movement with the staff member's id)."""

    name = "adjust_stock"
    label = "Adjust stock"
    title = "Adjust stock"
    permission = "adjust"
    done = "adjusted"
    noun = "SKU(s)"
    label_column = "SKU"
    columns = ("Product", "On hand", "Reserved", "Available")
    intro = "On hand never goes below what customers hold. Every change is logged as a movement with your name."
    submit_label = "Yes, adjust stock"
    max_objects = 1

    def objects(self, queryset: QuerySet[Stock]) -> list[Stock]:
        return list(queryset.select_related("variant__product")[: self.max_objects + 1])

    def heading(self, objects: Sequence[Stock]) -> str:
        return f"Adjust stock of {objects[0].variant.sku}" if objects else self.title

    def form(self, data: Any, objects: Sequence[Stock]) -> StockAdjustForm:
        return StockAdjustForm(data)

    def plan(self, request: HttpRequest, objects: Sequence[Stock], form: Any) -> list[Step]:
        return [self._step(stock, form) for stock in objects]

    def _step(self, stock: Stock, form: StockAdjustForm | None) -> Step:
        sku = stock.variant.sku
        cells = (stock.variant.product.name, stock.on_hand, stock.reserved, stock.available)
        if form is None:
            return Step(obj=stock, label=sku, cells=cells)
        data = form.cleaned_data
        change = {"on_hand_delta": data["on_hand_delta"], "set_on_hand": data["set_on_hand"]}
        try:
            new = inventory.adjusted_on_hand(stock, sku=sku, **change)
        except DomainError as exc:
            return Step(obj=stock, label=sku, cells=cells, refusal=exc.detail)
        if new == stock.on_hand:
            return Step(obj=stock, label=sku, cells=cells, refusal=f"on hand is {new} already: nothing to change.")
        reason = dict(form.fields["reason"].choices).get(data["reason"], data["reason"])  # type: ignore[attr-defined]
        effect = (
            f"On hand {stock.on_hand} → {new} ({new - stock.on_hand:+d}); available {stock.available} → "
            f"{new - stock.reserved}. Logged as {reason!s}: {data['note']}"
        )
        return Step(obj=stock, label=sku, cells=cells, effect=effect, data={"change": change})

    def apply(self, request: HttpRequest, step: Step, form: Any, token: str) -> str:
        data = form.cleaned_data
        stock: Stock = step.obj
        on_hand = inventory.adjust_stock(
            sku=step.label, reason=data["reason"], actor_id=request.user.pk, note=data["note"], **step.data["change"]
        )
        self.model_admin.log_change(request, stock, f"Stock {data['reason']}: on hand now {on_hand} ({data['note']})")
        return f"{step.label} (on hand now {on_hand})"


@admin.register(StockMovement)
class StockMovementAdmin(admin.ModelAdmin[StockMovement]):
    """The stock ledger: read-only."""

    list_display = [
        "created_at",
        "sku",
        "reason",
        "on_hand_delta",
        "reserved_delta",
        "on_hand_after",
        "reserved_after",
        "actor_id",
        "reference",
        "note",
    ]
    list_filter = ["reason", "created_at"]
    list_select_related = ["variant"]
    search_fields = ["variant__sku", "reference", "note"]
    search_help_text = "SKU, reference or note"
    date_hierarchy = "created_at"

    @admin.display(description="SKU", ordering="variant__sku")
    def sku(self, obj: StockMovement) -> str:
        return obj.variant.sku

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: StockMovement | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: StockMovement | None = None) -> bool:
        return False
