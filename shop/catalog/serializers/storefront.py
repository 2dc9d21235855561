"""Input and output shapes of the storefront (anonymous reads).

Outputs render the selectors' view dataclasses (``ProductCard``, ``ProductView``), never querysets,
so serializing can issue no query. Money is ``{"amount": "12.50", "currency": "EUR"}``: the amount a
decimal string in the currency's minor unit, never a float.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from shop.catalog.api import InvalidPriceRange
from shop.catalog.selectors import products as selectors
from shop.kernel import cursors
from shop.web.serializers import MoneyOutput, StrictQuerySerializer

ATTRIBUTE_PATTERN = r"^[A-Za-z0-9_-]{1,40}:[^:]{1,100}$"
MAX_ATTRIBUTE_FILTERS = 10


class CategoryRefOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    name = serializers.CharField()


def _string_map(help_text: str) -> serializers.DictField:
    return serializers.DictField(child=serializers.CharField(), help_text=help_text)


def _options() -> serializers.DictField:
    return serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text='Attribute values offered by the active variants, e.g. {"size": ["L", "M"]}.',
    )


class ProductCardOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    name = serializers.CharField()
    brand = serializers.CharField()
    category = CategoryRefOutput()
    image_url = serializers.CharField(allow_null=True, help_text="The first image, if any.")
    price = MoneyOutput(allow_null=True, help_text="Lowest price among the active variants; null without any.")
    compare_at_price = MoneyOutput(allow_null=True, help_text="The cheapest variant's compare-at price, if any.")
    in_stock = serializers.BooleanField(help_text="At least one active variant is available.")
    options = _options()


class ProductPageOutput(serializers.Serializer[Any]):
    next = serializers.URLField(allow_null=True, help_text="The next page, or null on the last one.")
    previous = serializers.URLField(allow_null=True, help_text="The previous page, or null on the first one.")
    results = ProductCardOutput(many=True)


class VariantOutput(serializers.Serializer[Any]):
    sku = serializers.CharField()
    name = serializers.CharField()
    attributes = _string_map('What sets this variant apart, e.g. {"size": "M", "color": "blue"}.')
    price = MoneyOutput()
    compare_at_price = MoneyOutput(allow_null=True)
    available = serializers.IntegerField(min_value=0, help_text="Units that can be ordered now.")
    in_stock = serializers.BooleanField()


class ProductDetailOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    brand = serializers.CharField()
    category = CategoryRefOutput()
    breadcrumbs = CategoryRefOutput(many=True, help_text="From the root category down to the product's own.")
    attributes = _string_map('Product-wide attributes, e.g. {"material": "wool"}.')
    image_urls = serializers.ListField(child=serializers.CharField())
    price = MoneyOutput(allow_null=True, help_text="Lowest price among the active variants; null without any.")
    compare_at_price = MoneyOutput(allow_null=True)
    in_stock = serializers.BooleanField()
    options = _options()
    variants = VariantOutput(many=True, help_text="Active variants only, in display order.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class CategoryNodeOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    name = serializers.CharField()
    position = serializers.IntegerField()

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        """``children`` is the same shape, recursively (a class cannot name itself in its body)."""
        fields = super().get_fields()
        fields["children"] = CategoryNodeOutput(many=True)
        return fields


class ProductListQuery(StrictQuerySerializer):
    """Query parameters of the product list; an unknown parameter is a 400 (a typo never silently
    returns the unfiltered list)."""

    q = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text="Search: words of the name, brand or description (stemmed), substrings and typos of the name.",
    )
    category = serializers.SlugField(
        max_length=140, required=False, help_text="Category slug; products of its descendants are included."
    )
    brand = serializers.CharField(max_length=100, required=False, help_text="Exact brand name.")
    min_price = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=0,
        required=False,
        help_text="Some active variant costs at least this.",
    )
    max_price = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=0,
        required=False,
        help_text="Some active variant costs at most this.",
    )
    in_stock = serializers.BooleanField(
        required=False, default=False, help_text="true: only products with an active variant available now."
    )
    attr = serializers.ListField(
        child=serializers.RegexField(ATTRIBUTE_PATTERN, max_length=141),
        required=False,
        max_length=MAX_ATTRIBUTE_FILTERS,
        help_text=(
            "Attribute filter `key:value`, repeatable (case-insensitive). Values of one key are alternatives "
            "(`attr=color:red&attr=color:blue`), different keys must all hold; price range, `in_stock` and the "
            "attributes must all hold for the same variant. A key matches variant or product attributes."
        ),
    )
    sort = serializers.ChoiceField(
        choices=selectors.SORTS,
        required=False,
        help_text="Default: `relevance` with `q`, else `newest`. `relevance` without `q` means `newest`. "
        "`price` is the lowest active variant price; products without one come last.",
    )
    cursor = serializers.CharField(
        max_length=cursors.MAX_CURSOR_CHARS, required=False, help_text="Opaque; from `next` or `previous`."
    )
    page_size = serializers.IntegerField(
        min_value=1, max_value=selectors.MAX_PAGE_SIZE, required=False, default=20, help_text="Results per page."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        low, high = attrs.get("min_price"), attrs.get("max_price")
        if low is not None and high is not None and low > high:
            raise InvalidPriceRange(f"max_price ({high}) must not be below min_price ({low}).")
        return attrs

    def to_query(self) -> selectors.ProductQuery:
        data = self.validated_data
        q = data.get("q", "").strip()
        return selectors.ProductQuery(
            q=q,
            category=data.get("category", ""),
            brand=data.get("brand", ""),
            min_price=data.get("min_price"),
            max_price=data.get("max_price"),
            in_stock=data.get("in_stock", False),
            attributes=selectors.parse_attributes(data.get("attr", [])),
            sort=data.get("sort") or ("relevance" if q else "newest"),
        )
