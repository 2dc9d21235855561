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

from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import F, QuerySet
from django.forms import BaseInlineFormSet, ModelForm
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from import_export.admin import ImportExportModelAdmin
from import_export.formats.base_formats import CSV

from shop.catalog.admin.forms import (
    CategoryAdminForm,
    ProductAdminForm,
    StockAdjustForm,
    VariantInlineForm,
    add_domain_error,
)
from shop.catalog.admin.resources import ProductVariantResource, StockResource
from shop.catalog.models import Category, Product, Stock, StockMovement, Variant
from shop.catalog.services import inventory
from shop.catalog.services import products as services
from shop.kernel import DomainError, Money


def low_stock_threshold() -> int:
    return int(getattr(settings, "SHOP_STOCK_LOW_THRESHOLD", 5))


def _adopt(target: Any, saved: Any) -> None:
    """Make the admin's in-memory object the one the service saved (pk, timestamps, derived fields)."""
    target.__dict__.update(saved.__dict__)


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
        _adopt(obj, saved)

    def delete_model(self, request: HttpRequest, obj: Category) -> None:
        services.delete_category(category_id=obj.pk)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Category]) -> None:
        for category in sorted(queryset, key=lambda c: -len(c.path)):  # children before their parents
            services.delete_category(category_id=category.pk)


# --- products and variants -------------------------------------------------------------------------
class VariantInline(admin.TabularInline[Variant, Product]):
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
        "is_active",
        "position",
        "on_hand",
        "reserved",
        "available",
        "adjust_stock_link",
    ]
    readonly_fields = ["on_hand", "reserved", "available", "adjust_stock_link"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Variant]:
        return super().get_queryset(request).select_related("stock")

    @staticmethod
    def _stock(obj: Variant) -> Stock | None:
        try:
            return obj.stock if obj.pk else None
        except Stock.DoesNotExist:
            return None

    @admin.display(description="on hand")
    def on_hand(self, obj: Variant) -> int | str:
        stock = self._stock(obj)
        return stock.on_hand if stock else "-"

    @admin.display(description="reserved")
    def reserved(self, obj: Variant) -> int | str:
        stock = self._stock(obj)
        return stock.reserved if stock else "-"

    @admin.display(description="available")
    def available(self, obj: Variant) -> int | str:
        stock = self._stock(obj)
        return stock.available if stock else "-"

    @admin.display(description="stock")
    def adjust_stock_link(self, obj: Variant) -> str:
        if obj.pk is None:
            return "-"
        return format_html('<a href="{}">adjust</a>', reverse("admin:catalog_stock_adjust", args=[obj.pk]))


def _variant_changes(form: ModelForm[Variant]) -> dict[str, Any]:
    """The service arguments for what the staff member changed in one inline row."""
    data, changed = form.cleaned_data, set(form.changed_data)
    changes: dict[str, Any] = {
        name: data[name] for name in ("name", "attributes", "is_active", "position") if name in changed
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
    list_display = ["name", "slug", "category", "brand", "is_active", "created_at"]
    list_filter = ["is_active", "category", "brand"]
    list_select_related = ["category"]
    search_fields = ["name", "slug", "brand", "variants__sku"]
    search_help_text = "Name, slug, brand or SKU"
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ["created_at", "updated_at"]
    actions = ["deactivate_products", "activate_products"]

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
        _adopt(obj, saved)

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
                )
                formset.new_objects.append(variant)
            else:
                variant = services.update_variant(
                    sku=variant_form.instance.sku, product_id=product.pk, **_variant_changes(variant_form)
                )
                formset.changed_objects.append((variant, variant_form.changed_data))
            _adopt(variant_form.instance, variant)

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
        stock = self.get_object(request, unquote(object_id))
        if stock is None:
            raise Http404("No such stock row.")
        if not self.has_adjust_permission(request):
            raise PermissionDenied
        form = StockAdjustForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            change = (
                {"on_hand_delta": data["on_hand_delta"]}
                if data["on_hand_delta"] is not None
                else {"set_on_hand": data["set_on_hand"]}
            )
            try:
                on_hand = inventory.adjust_stock(
                    sku=stock.variant.sku, reason=data["reason"], actor_id=request.user.pk, note=data["note"], **change
                )
            except DomainError as exc:
                add_domain_error(form, exc, None)
            else:
                self.log_change(request, stock, f"Stock {data['reason']}: on hand now {on_hand} ({data['note']})")
                messages.success(request, f"{stock.variant.sku}: on hand is now {on_hand}.")
                return HttpResponseRedirect(reverse("admin:catalog_stock_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Adjust stock of {stock.variant.sku}",
            "opts": self.opts,
            "stock": stock,
            "form": form,
            "has_view_permission": self.has_view_permission(request, stock),
        }
        return TemplateResponse(request, "admin/catalog/stock/adjust.html", context)


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
