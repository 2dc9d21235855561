"""Staff pages for pricing's configuration: tax classes and their rates per country, shipping zones,
methods with their bands, and automatic promotions. Each page answers the question staff come with
("what does Germany charge on books?", "what ships to Northern Ireland, at what price?") in its list
columns and filters.

Configuration is edited in place (these are settings, not states with transitions); the forms refuse
what the quote could not use: rates for ``zero``/``exempt`` (always 0 %), prefixes without countries,
banded methods without bands, weights in fractions of a gram.
"""

from __future__ import annotations

import csv
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.forms import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from shop.kernel import DomainError
from shop.pricing.models import (
    PROMOTION_FIELDS,
    Promotion,
    ShippingBand,
    ShippingMethod,
    ShippingZone,
    TaxClass,
    TaxRate,
    Voucher,
    VoucherUse,
)
from shop.pricing.selectors import normalise_postal_code
from shop.pricing.services import offers, vouchers

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
    """Refuses a promotion the quote could not apply (``services.offers.promotion_problems``, the staff
    API's rule too): items with nothing to cover, a threshold on items, scopes on an order promotion, free
    shipping or buy X get Y where they do not belong, more than 100 %."""

    class Meta:
        model = Promotion
        fields = list(PROMOTION_FIELDS)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for field, messages in offers.promotion_problems(data).items():
            for message in messages:
                self.add_error(field if field in self.fields else None, message)
        return data


@admin.register(Promotion)
class PromotionAdmin(admin.ModelAdmin[Promotion]):
    """Automatic promotions, in the order the quote considers them (priority, then age). Amounts are in the
    shop's currency and price entry mode; a running promotion applies to the next quote (cart or checkout)."""

    form = PromotionForm
    list_display = [
        "name",
        "label",
        "kind",
        "benefit",
        "value",
        "window",
        "exclusive",
        "priority",
        "is_active",
        "requires_voucher",
    ]
    list_filter = ["is_active", "kind", "benefit", "exclusive", "requires_voucher"]
    search_fields = ["name", "label", "skus"]
    fields = list(PROMOTION_FIELDS)

    @admin.display(description="runs")
    def window(self, obj: Promotion) -> str:
        start = f"{obj.starts_at:%Y-%m-%d %H:%M}" if obj.starts_at else "now"
        return f"{start} to {obj.ends_at:%Y-%m-%d %H:%M}" if obj.ends_at else f"from {start}, open-ended"


# --- vouchers --------------------------------------------------------------------------------------
class VoucherUseInline(admin.TabularInline[VoucherUse, Voucher]):
    """The voucher's usage report: which orders hold (or held) a use, for how much."""

    model = VoucherUse
    fields = ("order_reference", "customer_id", "discount_amount", "created_at", "released_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    max_num = 0


class GenerateVouchersForm(forms.Form):
    promotion = forms.ModelChoiceField(queryset=Promotion.objects.filter(requires_voucher=True))
    count = forms.IntegerField(min_value=1, max_value=vouchers.MAX_GENERATED, initial=100)
    code_prefix = forms.CharField(max_length=30, required=False, help_text="e.g. SUMMER: codes read SUMMER-7K3QX9W2.")
    usage_limit = forms.IntegerField(min_value=1, required=False, initial=1, help_text="Per code; blank: none.")
    per_customer_limit = forms.IntegerField(min_value=1, required=False)


@admin.register(Voucher)
class VoucherAdmin(admin.ModelAdmin[Voucher]):
    """Codes that unlock a promotion. "Generate codes" makes thousands at once (a batch); "Export as CSV"
    downloads the selected codes with their use counts. A code's page lists the orders holding its uses."""

    list_display = ["code", "promotion", "used", "usage_limit", "per_customer_limit", "window", "is_active", "batch"]
    list_filter = ["is_active", "batch", "promotion"]
    search_fields = ["code", "batch"]
    readonly_fields = ["used", "batch", "created_at"]
    fields = [
        "code",
        "promotion",
        "usage_limit",
        "per_customer_limit",
        "min_subtotal",
        "first_order_only",
        "starts_at",
        "ends_at",
        "is_active",
        "used",
        "batch",
        "created_at",
    ]
    inlines = [VoucherUseInline]
    actions = ["export_csv", "deactivate"]
    change_list_template = "admin/pricing/voucher/change_list.html"

    def get_urls(self) -> list[Any]:
        generate = path("generate/", self.admin_site.admin_view(self.generate_view), name="pricing_voucher_generate")
        return [generate, *super().get_urls()]

    def generate_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = GenerateVouchersForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                batch = vouchers.generate(
                    promotion_id=data["promotion"].pk,
                    count=data["count"],
                    prefix=data["code_prefix"],
                    usage_limit=data["usage_limit"],
                    per_customer_limit=data["per_customer_limit"],
                )
            except DomainError as exc:
                form.add_error(None, exc.detail)
            else:
                self.message_user(request, f"{data['count']} codes made in batch {batch}.")
                return HttpResponseRedirect(f"{reverse('admin:pricing_voucher_changelist')}?batch={batch}")
        context = {**self.admin_site.each_context(request), "form": form, "title": "Generate voucher codes"}
        return TemplateResponse(request, "admin/pricing/voucher/generate.html", context)

    @admin.display(description="valid")
    def window(self, obj: Voucher) -> str:
        start = f"{obj.starts_at:%Y-%m-%d}" if obj.starts_at else "now"
        return f"{start} to {obj.ends_at:%Y-%m-%d}" if obj.ends_at else f"from {start}"

    @admin.action(description="Export selected codes as CSV")
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Voucher]) -> HttpResponse:
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="vouchers.csv"'
        writer = csv.writer(response)
        writer.writerow(["code", "promotion", "used", "usage_limit", "per_customer_limit", "batch", "is_active"])
        for row in queryset.select_related("promotion").order_by("code").iterator(chunk_size=2000):
            limits = [row.usage_limit or "", row.per_customer_limit or ""]
            writer.writerow([row.code, row.promotion.name, row.used, *limits, row.batch, row.is_active])
        return response

    @admin.action(description="Deactivate selected codes")
    def deactivate(self, request: HttpRequest, queryset: QuerySet[Voucher]) -> None:
        count = queryset.update(is_active=False)
        self.message_user(request, f"{count} code(s) deactivated; orders already placed keep their discount.")
