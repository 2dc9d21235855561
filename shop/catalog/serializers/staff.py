"""Input and output shapes of the staff API. Inputs refuse unknown fields, so a client can never set
``reserved``, ``search_vector``, ids or timestamps: stock changes go through the adjust endpoint only.
Money travels as ``{"amount": "12.50", "currency": "EUR"}``: amounts are decimal strings, never floats.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from shop.catalog.api import TAX_CLASSES
from shop.catalog.models import Category, Product, Stock, Variant
from shop.catalog.services import validation
from shop.kernel import Money, ValidationFailed
from shop.web.serializers import MoneyOutput, StrictInputSerializer


# --- money -------------------------------------------------------------------------------------------
class AmountField(serializers.DecimalField):
    """A decimal string: a JSON number would already have been a float when the parser read it."""

    default_error_messages = {"not_a_string": 'Give the amount as a decimal string, e.g. "12.50".'}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_digits=12, decimal_places=validation.PRICE_DECIMAL_PLACES, coerce_to_string=True, **kwargs)

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)


class MoneyInput(StrictInputSerializer):
    """A price: a decimal string with at most the currency's decimal places, and a supported currency."""

    amount = AmountField()
    currency = serializers.ChoiceField(choices=validation.CURRENCIES)

    def validate(self, attrs: dict[str, Any]) -> Money:
        if "amount" not in attrs or "currency" not in attrs:
            raise serializers.ValidationError("A price needs both amount and currency.")
        try:
            return validation.money_of(amount=attrs["amount"], currency=attrs["currency"], field="amount")
        except ValidationFailed as exc:
            raise serializers.ValidationError(exc.extra.get("errors") or exc.detail) from exc


def _text_map() -> serializers.DictField:
    return serializers.DictField(
        child=serializers.CharField(max_length=200, allow_blank=True),
        required=False,
        help_text='Flat map of text values, e.g. {"colour": "blue"}.',
    )


# --- categories --------------------------------------------------------------------------------------
class CategoryStaffOutput(serializers.ModelSerializer[Category]):
    # Popped from the class by DRF's metaclass, so it does not clash with ``Field.parent`` at runtime.
    parent = serializers.IntegerField(source="parent_id", allow_null=True)  # type: ignore[assignment]

    class Meta:
        model = Category
        fields = ["id", "name", "slug", "parent", "position", "path"]
        read_only_fields = fields


class CategoryCreateInput(StrictInputSerializer):
    """A new category; ``parent`` is another category's id (none: a top-level category)."""

    name = serializers.CharField(max_length=120)
    slug = serializers.SlugField(max_length=140)
    parent = serializers.IntegerField(  # type: ignore[assignment]  # see CategoryStaffOutput.parent
        source="parent_id", min_value=1, allow_null=True, required=False
    )
    position = serializers.IntegerField(min_value=0, max_value=2_147_483_647, required=False)


class CategoryUpdateInput(CategoryCreateInput):
    """Every field optional; ``parent: null`` moves the category to the top level."""


# --- products and variants ---------------------------------------------------------------------------
class StockOutput(serializers.ModelSerializer[Stock]):
    available = serializers.IntegerField()

    class Meta:
        model = Stock
        fields = ["on_hand", "reserved", "available"]
        read_only_fields = fields


class VariantStaffOutput(serializers.ModelSerializer[Variant]):
    price = MoneyOutput()
    compare_at_price = MoneyOutput(allow_null=True)
    attributes = serializers.DictField(child=serializers.CharField())
    stock = serializers.SerializerMethodField()

    class Meta:
        model = Variant
        fields = [
            "id",
            "sku",
            "name",
            "attributes",
            "price",
            "compare_at_price",
            "weight_grams",
            "is_active",
            "position",
            "stock",
        ]
        read_only_fields = fields

    @extend_schema_field(StockOutput)
    def get_stock(self, variant: Variant) -> dict[str, int]:
        try:
            stock = variant.stock
        except Stock.DoesNotExist:
            return {"on_hand": 0, "reserved": 0, "available": 0}
        return {"on_hand": stock.on_hand, "reserved": stock.reserved, "available": stock.available}


class ProductStaffOutput(serializers.ModelSerializer[Product]):
    category = serializers.IntegerField(source="category_id")
    attributes = serializers.DictField(child=serializers.CharField())
    image_urls = serializers.ListField(child=serializers.CharField())
    variants = VariantStaffOutput(many=True)

    class Meta:
        model = Product
        fields = [
            "id",
            "name",
            "slug",
            "description",
            "category",
            "brand",
            "attributes",
            "image_urls",
            "tax_class",
            "is_active",
            "created_at",
            "updated_at",
            "variants",
        ]
        read_only_fields = fields


class ProductCreateInput(StrictInputSerializer):
    """A new product (sold once it has an active variant); ``category`` is a category id."""

    name = serializers.CharField(max_length=200)
    slug = serializers.SlugField(max_length=140)
    category = serializers.IntegerField(source="category_id", min_value=1)
    description = serializers.CharField(max_length=20_000, required=False, allow_blank=True)
    brand = serializers.CharField(max_length=100, required=False, allow_blank=True)
    attributes = _text_map()
    image_urls = serializers.ListField(
        child=serializers.URLField(max_length=500), max_length=validation.MAX_IMAGES, required=False
    )
    is_active = serializers.BooleanField(required=False)
    tax_class = serializers.ChoiceField(
        choices=TAX_CLASSES, required=False, help_text="How pricing taxes the product (default `standard`)."
    )


class ProductUpdateInput(ProductCreateInput):
    """The fields to change; the others stay as they are."""


class VariantUpdateInput(StrictInputSerializer):
    """The fields to change; the others stay as they are. There is no ``sku``: a SKU never changes,
    because carts and orders refer to it."""

    name = serializers.CharField(max_length=120, required=False, allow_blank=True)
    attributes = _text_map()
    price = MoneyInput(required=False)
    compare_at_price = MoneyInput(required=False, allow_null=True)
    weight_grams = serializers.IntegerField(
        min_value=0,
        max_value=validation.MAX_WEIGHT_GRAMS,
        required=False,
        help_text="Shipping weight in whole grams (0: not weighed); weight-banded shipping adds it up.",
    )
    is_active = serializers.BooleanField(required=False)
    position = serializers.IntegerField(min_value=0, max_value=2_147_483_647, required=False)


class VariantCreateInput(VariantUpdateInput):
    """A new SKU of the product; it starts with no stock (add it with the stock adjust endpoint)."""

    sku = serializers.RegexField(
        validation.SKU_RE.pattern,
        max_length=64,
        help_text="Letters, digits, '.', '_' or '-'; never changes afterwards.",
    )
    price = MoneyInput()


# --- stock -------------------------------------------------------------------------------------------
class StockAdjustInput(StrictInputSerializer):
    """Exactly one of ``on_hand_delta`` (received +n, shrinkage -n) or ``set_on_hand`` (a count)."""

    exactly_one_of = ("on_hand_delta", "set_on_hand")

    on_hand_delta = serializers.IntegerField(min_value=-2_147_483_647, max_value=2_147_483_647, required=False)
    set_on_hand = serializers.IntegerField(min_value=0, max_value=2_147_483_647, required=False)
    reason = serializers.ChoiceField(
        choices=["adjust", "receive"], default="adjust", help_text="`receive` for goods received, else `adjust`."
    )
    note = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class StockAdjustOutput(serializers.Serializer[Any]):
    sku = serializers.CharField()
    on_hand = serializers.IntegerField()
    reserved = serializers.IntegerField()
    available = serializers.IntegerField()
