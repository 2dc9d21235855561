"""Wire shapes of the cart API. Inputs name only a SKU and a quantity: prices, totals and owners
never come from the client. Outputs render ``api.Cart`` (the whole cart, every time)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from shop.catalog.api import SKU_PATTERN
from shop.web.serializers import MoneyOutput, StrictInputSerializer, StrictQuerySerializer, country_field


class AddLineInput(StrictInputSerializer):
    sku = serializers.RegexField(rf"^{SKU_PATTERN}$", max_length=64, help_text="The SKU to add.")
    quantity = serializers.IntegerField(default=1, help_text="How many to add to the line (summed).")


class ApplyVoucherInput(StrictInputSerializer):
    code = serializers.CharField(max_length=60, help_text="The voucher code (case does not matter).")


class SetQuantityInput(StrictInputSerializer):
    quantity = serializers.IntegerField(help_text="The line's new quantity.")


class CartLineOutput(serializers.Serializer[Any]):
    sku = serializers.CharField()
    product_id = serializers.IntegerField(allow_null=True)
    product_name = serializers.CharField()
    product_slug = serializers.CharField()
    variant_name = serializers.CharField()
    attributes = serializers.DictField(child=serializers.CharField())
    quantity = serializers.IntegerField()
    unit_price = MoneyOutput(allow_null=True, help_text="The catalog's price now.")
    line_total = MoneyOutput(allow_null=True)
    price_when_added = MoneyOutput()
    available = serializers.IntegerField(help_text="Units the catalog can sell now.")
    is_sold = serializers.BooleanField(help_text="False when the item can no longer be bought.")


class CartWarningOutput(serializers.Serializer[Any]):
    code = serializers.ChoiceField(
        choices=[
            "price_changed",
            "insufficient_stock",
            "not_sold",
            "not_merged",
            "tax_rate_changed",
            "quote_unavailable",
            "voucher_not_applied",
        ]
    )
    sku = serializers.CharField(help_text='"" for a warning about the whole cart (quote_unavailable).')
    detail = serializers.CharField()
    previous_price = MoneyOutput(allow_null=True, required=False)
    available = serializers.IntegerField(allow_null=True, required=False)
    voucher = serializers.CharField(allow_null=True, required=False, help_text="voucher_not_applied: the code.")
    previous_tax_rate = serializers.DecimalField(
        max_digits=7, decimal_places=2, allow_null=True, required=False, help_text="Percent: the rate first quoted."
    )


class DiscountOutput(serializers.Serializer[Any]):
    # DRF's metaclass takes declared fields out of the class, so these names do not shadow Field.source/label.
    source = serializers.CharField(help_text="What granted it: promotion:<id>, voucher:<code>.")  # type: ignore[assignment]
    label = serializers.CharField(help_text="What the customer reads.")  # type: ignore[assignment]
    amount = MoneyOutput()


class QuoteLineOutput(serializers.Serializer[Any]):
    sku = serializers.CharField()
    quantity = serializers.IntegerField()
    tax_class = serializers.CharField()
    unit_price = MoneyOutput(help_text="As prices are entered (gross or net), before discounts.")
    subtotal = MoneyOutput()
    discounts = DiscountOutput(many=True)
    discount = MoneyOutput()
    net = MoneyOutput()
    tax_rate = serializers.DecimalField(max_digits=7, decimal_places=2, help_text="Percent, e.g. 19.00.")
    tax = MoneyOutput()
    total = MoneyOutput()


class TaxRateTotalOutput(serializers.Serializer[Any]):
    rate = serializers.DecimalField(max_digits=7, decimal_places=2, help_text="Percent, e.g. 19.00.")
    net = MoneyOutput()
    tax = MoneyOutput()


class QuoteShippingOutput(serializers.Serializer[Any]):
    method = serializers.CharField(help_text="The method's code: what checkout takes as `shipping_method`.")
    name = serializers.CharField()
    delivery_estimate = serializers.CharField()
    price = MoneyOutput()
    discount = MoneyOutput()
    net = MoneyOutput()
    tax_rate = serializers.DecimalField(max_digits=7, decimal_places=2)
    tax = MoneyOutput()
    total = MoneyOutput()


class QuoteDestinationOutput(serializers.Serializer[Any]):
    country = serializers.CharField()
    postal_code = serializers.CharField()


class VoucherAppliedOutput(serializers.Serializer[Any]):
    code = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a declared field, not Field.label
    discount = MoneyOutput()


class QuoteOutput(serializers.Serializer[Any]):
    """Pricing's quote of the cart (docs/pricing.md): what checkout will charge if nothing changes."""

    currency = serializers.CharField()
    prices_include_tax = serializers.BooleanField()
    destination = QuoteDestinationOutput(allow_null=True)
    estimated = serializers.BooleanField(help_text="No destination yet: taxed and shipped as from the shop's origin.")
    lines = QuoteLineOutput(many=True)
    shipping = QuoteShippingOutput(allow_null=True, help_text="Null: no method ships these lines there.")
    subtotal = MoneyOutput()
    discount = MoneyOutput()
    shipping_price = MoneyOutput()
    net = MoneyOutput()
    tax = MoneyOutput()
    total = MoneyOutput(help_text="Send it to checkout as `expected_total` to be told if it changes.")
    tax_breakdown = TaxRateTotalOutput(many=True)
    vouchers = VoucherAppliedOutput(many=True, help_text="What each applied code takes off in all.")


class CartQuery(StrictQuerySerializer):
    """Where the quote is for: a country (and postal code), else the customer's default address; and a
    shipping method's code (else the cheapest)."""

    country = country_field(required=False)
    postal_code = serializers.CharField(max_length=20, required=False, default="", allow_blank=True)
    shipping_method = serializers.RegexField(r"^[-a-zA-Z0-9_]{1,50}$", max_length=50, required=False)


class CartOutput(serializers.Serializer[Any]):
    version = serializers.IntegerField(help_text="Bumped by every change; 0 for a cart never written.")
    lines = CartLineOutput(many=True)
    item_count = serializers.IntegerField()
    subtotal = MoneyOutput(help_text="Lines that can be bought, at today's prices.")
    warnings = CartWarningOutput(many=True)
    voucher_codes = serializers.ListField(child=serializers.CharField(), help_text="Applied voucher codes.")


class CartWithQuoteOutput(CartOutput):
    quote = QuoteOutput(allow_null=True, help_text="Null for an empty cart, or when tax cannot be calculated now.")


class ShippingMethodsQuery(StrictQuerySerializer):
    """Where the cart would go: the country (required) and, for zones narrowed by postal code, the code."""

    country = country_field()
    postal_code = serializers.CharField(max_length=20, required=False, default="", allow_blank=True)


class ShippingMethodOutput(serializers.Serializer[Any]):
    method = serializers.CharField(help_text="The method's code: what checkout takes as `shipping_method`.")
    name = serializers.CharField()
    delivery_estimate = serializers.CharField()
    price = MoneyOutput(help_text="Before discounts, as prices are entered (gross or net).")
    tax_rate = serializers.DecimalField(max_digits=6, decimal_places=2, help_text="Percent, e.g. 19.00.")
    tax = MoneyOutput()
    total = MoneyOutput()


class DestinationOutput(serializers.Serializer[Any]):
    country = serializers.CharField()
    postal_code = serializers.CharField()


class ShippingMethodsOutput(serializers.Serializer[Any]):
    destination = DestinationOutput()
    methods = ShippingMethodOutput(many=True, help_text="Cheapest first; the first is what checkout picks by default.")
