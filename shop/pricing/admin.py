"""Staff pages for pricing's configuration: tax classes and their rates per country, shipping zones,
methods with their bands, and automatic promotions. Each page answers the question staff come with
("what does Germany charge on books?", "what ships to Northern Ireland, at what price?") in its list
columns and filters.

Configuration is edited in place (these are settings, not states with transitions); the forms refuse
what the quote could not use: rates for ``zero``/``exempt`` (always 0 %), prefixes without countries,
banded methods without bands, weights in fractions of a gram.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Count, QuerySet
from django.forms import BaseInlineFormSet
from django.http import HttpRequest

from shop.pricing.models import Promotion, ShippingBand, ShippingMethod, ShippingZone, TaxClass, TaxRate
from shop.pricing.selectors import normalise_postal_code

FIXED_ZERO = ("zero", "exempt")


# --- tax -------------------------------------------------------------------------------------------
@admin.register(TaxClass)
class TaxClassAdmin(admin.ModelAdmin[TaxClass]):
    """The catalog's five classes: names and descriptions are editable, the set is not (products
    name their class by code)."""

    list_display = ["code", "name", "description", "countries_with_a_rate"]
    readonly_fields = ["code"]
    fields = ["code", "name", "description", "position"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[TaxClass]:
        return super().get_queryset(request).annotate(rate_count=Count("rates"))

    @admin.display(description="countries with a rate", ordering="rate_count")
    def countries_with_a_rate(self, obj: TaxClass) -> str:
        if obj.code in FIXED_ZERO:
            return "0 % everywhere (by rule)"
        return str(getattr(obj, "rate_count", 0))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: TaxClass | None = None) -> bool:
        return False


class TaxRateForm(forms.ModelForm[TaxRate]):
    class Meta:
        model = TaxRate
        fields = ["country", "tax_class", "rate", "note"]

    def clean_tax_class(self) -> TaxClass:
        tax_class: TaxClass = self.cleaned_data["tax_class"]
        if tax_class.code in FIXED_ZERO:
            raise forms.ValidationError(f"{tax_class.name} is 0 % everywhere by rule; it takes no rates.")
        return tax_class

    def clean_rate(self) -> Decimal:
        rate: Decimal = self.cleaned_data["rate"]
        if not Decimal(0) <= rate < Decimal(100):
            raise forms.ValidationError("A percentage from 0 up to (not including) 100.")
        return rate


@admin.register(TaxRate)
class TaxRateAdmin(admin.ModelAdmin[TaxRate]):
    """Every rate by country and class. A blank country is "every country without rates of its own";
    a class a country has no rate for falls back (super-reduced → reduced → standard)."""

    form = TaxRateForm
    list_display = ["country_label", "tax_class", "rate_percent", "note", "updated_at"]
    list_filter = ["tax_class", "country"]
    list_select_related = ["tax_class"]
    search_fields = ["country", "note"]
    search_help_text = "Country code (DE) or note"
    ordering = ["country", "tax_class__position"]

    @admin.display(description="country", ordering="country")
    def country_label(self, obj: TaxRate) -> str:
        return f"{obj.country.code} {obj.country.name}" if obj.country else "elsewhere (every other country)"

    @admin.display(description="rate", ordering="rate")
    def rate_percent(self, obj: TaxRate) -> str:
        return f"{obj.rate.normalize():f} %"


# --- shipping --------------------------------------------------------------------------------------
class ShippingZoneForm(forms.ModelForm[ShippingZone]):
    class Meta:
        model = ShippingZone
        fields = ["name", "countries", "postal_code_prefixes"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        raw = cleaned.get("postal_code_prefixes") or ""
        prefixes = [normalise_postal_code(p) for p in raw.split(",") if p.strip()]
        if prefixes and not cleaned.get("countries"):
            self.add_error("postal_code_prefixes", "Postal-code prefixes narrow countries: choose the countries too.")
        if any(not p.isalnum() for p in prefixes):
            self.add_error("postal_code_prefixes", "Prefixes are letters and digits, separated by commas.")
        cleaned["postal_code_prefixes"] = ", ".join(prefixes)
        return cleaned


@admin.register(ShippingZone)
class ShippingZoneAdmin(admin.ModelAdmin[ShippingZone]):
    """Where methods ship. The most specific zones matching an address decide (postal prefix, then
    country, then the zones without countries: the rest of the world)."""

    form = ShippingZoneForm
    list_display = ["name", "where", "postal_code_prefixes", "active_methods"]
    search_fields = ["name", "countries", "postal_code_prefixes"]
    search_help_text = "Zone name, country code or postal prefix"

    def get_queryset(self, request: HttpRequest) -> QuerySet[ShippingZone]:
        return super().get_queryset(request).annotate(active_count=Count("methods", distinct=True))

    @admin.display(description="countries")
    def where(self, obj: ShippingZone) -> str:
        codes = [country.code for country in obj.countries]
        return ", ".join(codes) if codes else "every country (rest of the world)"

    @admin.display(description="methods", ordering="active_count")
    def active_methods(self, obj: ShippingZone) -> int:
        return int(getattr(obj, "active_count", 0))


class BandFormSet(BaseInlineFormSet[ShippingBand, ShippingMethod, Any]):
    """A banded method needs bands (one open band at most, distinct bounds); weights are whole grams."""

    def clean(self) -> None:
        super().clean()
        kept = [f.cleaned_data for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        pricing = self.instance.pricing
        if pricing == ShippingMethod.Pricing.FLAT:
            if kept:
                raise forms.ValidationError("A flat method has no bands: remove them or choose banded pricing.")
            return
        if not kept:
            raise forms.ValidationError("A banded method needs at least one band.")
        bounds = [data.get("up_to") for data in kept]
        if len(set(bounds)) != len(bounds):
            raise forms.ValidationError("Two bands have the same upper bound.")
        if pricing == ShippingMethod.Pricing.WEIGHT and any(b is not None and b != b.to_integral() for b in bounds):
            raise forms.ValidationError("Weight bands are bounded in whole grams.")


class ShippingBandInline(admin.TabularInline[ShippingBand, ShippingMethod]):
    model = ShippingBand
    formset = BandFormSet
    extra = 0
    fields = ["up_to", "price"]


@admin.register(ShippingMethod)
class ShippingMethodAdmin(admin.ModelAdmin[ShippingMethod]):
    """Methods per zone; amounts in the shop's currency and price entry mode (gross when prices
    include tax). Deactivate a method to stop offering it; orders keep its code and name."""

    inlines = [ShippingBandInline]
    list_display = ["code", "name", "zone", "pricing", "price_summary", "free_over", "is_active", "position"]
    list_filter = ["is_active", "pricing", "zone"]
    list_select_related = ["zone"]
    search_fields = ["code", "name", "zone__name"]
    fields = [
        "zone",
        "code",
        "name",
        "delivery_estimate",
        "pricing",
        "flat_price",
        "free_over",
        "is_active",
        "position",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ShippingMethod]:
        return super().get_queryset(request).prefetch_related("bands")

    @admin.display(description="price")
    def price_summary(self, obj: ShippingMethod) -> str:
        if obj.pricing == ShippingMethod.Pricing.FLAT:
            return f"{obj.flat_price}"
        unit = " g" if obj.pricing == ShippingMethod.Pricing.WEIGHT else ""
        bands = sorted(obj.bands.all(), key=lambda b: (b.up_to is None, b.up_to or 0))
        return "; ".join(
            f"≤ {b.up_to.normalize():f}{unit}: {b.price}" if b.up_to is not None else f"above: {b.price}" for b in bands
        )


# --- promotions ------------------------------------------------------------------------------------
class PromotionForm(forms.ModelForm[Promotion]):
    """Refuses a promotion the quote could not apply: items with nothing to cover, a threshold on items,
    scopes on an order promotion, free shipping on items, more than 100 %."""

    class Meta:
        model = Promotion
        fields = [
            "name",
            "label",
            "kind",
            "benefit",
            "value",
            "everything",
            "skus",
            "category_ids",
            "min_subtotal",
            "buy_quantity",
            "get_quantity",
            "max_applications",
            "starts_at",
            "ends_at",
            "exclusive",
            "priority",
            "is_active",
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind, benefit = data.get("kind"), data.get("benefit")
        scoped = data.get("everything") or (data.get("skus") or "").strip() or data.get("category_ids")
        if kind == Promotion.Kind.CATALOGUE:
            if not scoped:
                raise forms.ValidationError("An items promotion covers everything, some SKUs or some categories.")
            if data.get("min_subtotal") is not None:
                self.add_error("min_subtotal", "A threshold belongs to order promotions.")
            if benefit == Promotion.Benefit.FREE_SHIPPING:
                self.add_error("benefit", "Free shipping is an order promotion.")
        elif scoped:
            raise forms.ValidationError("An order promotion covers the whole order: leave SKUs and categories empty.")
        if benefit in (Promotion.Benefit.PERCENTAGE, Promotion.Benefit.BUY_X_GET_Y) and (data.get("value") or 0) > 100:
            self.add_error("value", "A percentage is at most 100.")
        bxgy = benefit == Promotion.Benefit.BUY_X_GET_Y
        if bxgy and not (data.get("buy_quantity") and data.get("get_quantity")):
            self.add_error("buy_quantity", "Buy X get Y needs both X and Y (at least 1).")
        if not bxgy and any(data.get(f) is not None for f in ("buy_quantity", "get_quantity", "max_applications")):
            self.add_error("buy_quantity", "X, Y and the cap belong to buy X get Y promotions.")
        if bxgy and kind != Promotion.Kind.CATALOGUE:
            self.add_error("benefit", "Buy X get Y is an items promotion.")
        ids = data.get("category_ids") or []
        if not isinstance(ids, list) or not all(isinstance(i, int) and i > 0 for i in ids):
            self.add_error("category_ids", "A list of category ids, e.g. [3, 7].")
        return data


@admin.register(Promotion)
class PromotionAdmin(admin.ModelAdmin[Promotion]):
    """Automatic promotions, in the order the quote considers them (priority, then age). Amounts are in the
    shop's currency and price entry mode; a running promotion applies to the next quote (cart or checkout)."""

    form = PromotionForm
    list_display = ["name", "label", "kind", "benefit", "value", "window", "exclusive", "priority", "is_active"]
    list_filter = ["is_active", "kind", "benefit", "exclusive"]
    search_fields = ["name", "label", "skus"]
    fields = [
        "name",
        "label",
        "kind",
        "benefit",
        "value",
        "everything",
        "skus",
        "category_ids",
        "min_subtotal",
        "buy_quantity",
        "get_quantity",
        "max_applications",
        "starts_at",
        "ends_at",
        "exclusive",
        "priority",
        "is_active",
    ]

    @admin.display(description="runs")
    def window(self, obj: Promotion) -> str:
        start = f"{obj.starts_at:%Y-%m-%d %H:%M}" if obj.starts_at else "now"
        return f"{start} to {obj.ends_at:%Y-%m-%d %H:%M}" if obj.ends_at else f"from {start}, open-ended"
