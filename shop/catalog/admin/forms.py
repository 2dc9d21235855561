"""Admin forms: they validate with the services' own rules, so a save never fails half-way, and they
only collect input: saving is the services' job (see ``ProductAdmin.save_model``/``save_formset``)."""

from __future__ import annotations

from typing import Any

from django import forms

from shop.catalog.models import Category, Product, StockMovement, Variant
from shop.catalog.services import products as services
from shop.catalog.services import validation
from shop.kernel import DomainError

CURRENCY_CHOICES = [(code, code) for code in validation.CURRENCIES]


def add_domain_error(form: forms.BaseForm, exc: DomainError, default_field: str | None) -> None:
    errors = exc.extra.get("errors") or {}
    if not errors:
        form.add_error(default_field, exc.detail)
    for field, messages in errors.items():
        form.add_error(field if field in form.fields else None, messages)


class CategoryAdminForm(forms.ModelForm[Category]):
    class Meta:
        model = Category
        fields = ["name", "slug", "parent", "position"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        parent = cleaned.get("parent")
        try:
            services.check_category_parent(category_id=self.instance.pk, parent_id=parent.pk if parent else None)
        except DomainError as exc:
            add_domain_error(self, exc, "parent")
        return cleaned


class ProductAdminForm(forms.ModelForm[Product]):
    class Meta:
        model = Product
        fields = [
            "name",
            "slug",
            "category",
            "brand",
            "tax_class",
            "description",
            "attributes",
            "image_urls",
            "is_active",
        ]

    def clean_attributes(self) -> dict[str, str]:
        try:
            return services.check_attributes(self.cleaned_data.get("attributes") or {})
        except DomainError as exc:
            raise forms.ValidationError(exc.detail) from exc

    def clean_image_urls(self) -> list[str]:
        try:
            return services.check_image_urls(self.cleaned_data.get("image_urls") or [])
        except DomainError as exc:
            raise forms.ValidationError(exc.detail) from exc


class VariantInlineForm(forms.ModelForm[Variant]):
    """The SKU is set once: other contexts (carts, orders) keep it, so an existing one is read-only."""

    currency = forms.ChoiceField(choices=CURRENCY_CHOICES, initial="EUR")

    class Meta:
        model = Variant
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
        ]
        # One row per variant, within the product page's width beside the admin's sidebar (the admin's
        # default inputs are 20-40 characters wide each, and twelve columns overflowed the page).
        widgets = {
            "sku": forms.TextInput(attrs={"style": "width: 7em"}),
            "name": forms.TextInput(attrs={"style": "width: 6.5em"}),
            "attributes": forms.Textarea(attrs={"rows": 2, "cols": 14, "style": "width: 9em"}),
            "price_amount": forms.NumberInput(attrs={"style": "width: 4.5em"}),
            "compare_at_amount": forms.NumberInput(attrs={"style": "width: 4.5em"}),
            "weight_grams": forms.NumberInput(attrs={"style": "width: 4.5em"}),
            "position": forms.NumberInput(attrs={"style": "width: 3em"}),
        }
        labels = {
            "price_amount": "price",
            "compare_at_amount": "was",
            "weight_grams": "grams",
            "is_active": "active",
            "position": "pos.",
        }
        help_texts = {
            "compare_at_amount": "The price before a sale (shown struck through); empty if none.",
            "weight_grams": "Shipping weight in grams (0: not weighed).",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["sku"].disabled = True

    def clean_sku(self) -> str:
        sku: str = self.cleaned_data["sku"]
        if self.instance.pk is None:
            try:
                services.check_sku(sku)
            except DomainError as exc:
                raise forms.ValidationError(exc.detail) from exc
        return sku

    def clean_attributes(self) -> dict[str, str]:
        try:
            return services.check_attributes(self.cleaned_data.get("attributes") or {})
        except DomainError as exc:
            raise forms.ValidationError(exc.detail) from exc

    def clean_weight_grams(self) -> int:
        try:
            return services.check_weight(self.cleaned_data.get("weight_grams") or 0)
        except DomainError as exc:
            raise forms.ValidationError(exc.detail) from exc

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        currency = cleaned.get("currency")
        for field in ("price_amount", "compare_at_amount"):
            amount = cleaned.get(field)
            if amount is None or currency is None:
                continue
            try:
                services.money_of(amount=amount, currency=currency, field=field)
            except DomainError as exc:
                self.add_error(field, exc.detail)
        return cleaned


class StockAdjustForm(forms.Form):
    """Exactly one of a delta (received +n, shrinkage -n) or a counted quantity; a note says why."""

    reason = forms.ChoiceField(
        choices=[(StockMovement.Reason.ADJUST, "Adjustment"), (StockMovement.Reason.RECEIVE, "Goods received")],
        initial=StockMovement.Reason.ADJUST,
    )
    on_hand_delta = forms.IntegerField(required=False, label="Change on hand by", help_text="e.g. 12 or -3")
    set_on_hand = forms.IntegerField(required=False, min_value=0, label="…or set on hand to (a count)")
    note = forms.CharField(max_length=255, help_text="Why: delivery number, stock-take, damage …")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if (cleaned.get("on_hand_delta") is None) == (cleaned.get("set_on_hand") is None):
            raise forms.ValidationError("Give either a change or a counted quantity (exactly one).")
        return cleaned
