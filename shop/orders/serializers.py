"""Wire shapes of the orders API. Checkout takes only a shipping address (or an address-book id), a
shipping method's code and, optionally, the total the customer saw (checked, never used): lines,
prices, totals, status and owner all come from the server."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rest_framework import serializers

from shop.orders import api
from shop.web.serializers import MoneyOutput, StrictInputSerializer, StrictQuerySerializer, country_field


class ShippingAddressInput(StrictInputSerializer):
    full_name = serializers.CharField(max_length=150)
    line1 = serializers.CharField(max_length=200)
    line2 = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    city = serializers.CharField(max_length=100)
    postal_code = serializers.CharField(max_length=20)
    region = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    country = country_field()
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")


class CheckoutInput(StrictInputSerializer):
    exactly_one_of = ("shipping_address", "address_id")

    shipping_address = ShippingAddressInput(required=False)
    address_id = serializers.IntegerField(required=False, min_value=1, help_text="An address from your book.")
    shipping_method = serializers.RegexField(
        r"^[-a-zA-Z0-9_]{1,50}$",
        max_length=50,
        required=False,
        help_text="A code from GET /api/v1/cart/shipping-methods/ (default: the cheapest that ships there).",
    )
    expected_total = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=Decimal(0),
        required=False,
        help_text="The total the customer saw (the cart's quote); another total now is 409 quote_changed.",
    )


class OrderListQuery(StrictQuerySerializer):
    status = serializers.ChoiceField(choices=list(api.STATUSES), required=False)
    cursor = serializers.CharField(required=False)  # decoded by the pagination (400 invalid_cursor)
    page_size = serializers.CharField(required=False)  # checked by the pagination (1..100)


class ShippingAddressOutput(serializers.Serializer[Any]):
    full_name = serializers.CharField()
    line1 = serializers.CharField()
    line2 = serializers.CharField()
    city = serializers.CharField()
    postal_code = serializers.CharField()
    region = serializers.CharField()
    country = serializers.CharField()
    phone = serializers.CharField()


class LineDiscountOutput(serializers.Serializer[Any]):
    # DRF's metaclass takes declared fields out of the class, so these names do not shadow Field.source/label.
    source = serializers.CharField(help_text="promotion:<id>")  # type: ignore[assignment]
    label = serializers.CharField(help_text="What the customer reads.")  # type: ignore[assignment]
    amount = MoneyOutput()


class OrderLineOutput(serializers.Serializer[Any]):
    sku = serializers.CharField()
    product_name = serializers.CharField()
    variant_name = serializers.CharField()
    unit_price = MoneyOutput()
    quantity = serializers.IntegerField()
    line_total = MoneyOutput(help_text="unit_price x quantity, as prices are entered (gross or net).")
    tax_rate = serializers.DecimalField(max_digits=7, decimal_places=2, help_text="Percent, e.g. 19.00.")
    discount = MoneyOutput()
    discounts = LineDiscountOutput(many=True, help_text="The promotions that make up `discount`.")
    net = MoneyOutput(help_text="After discounts, without tax.")
    tax = MoneyOutput()
    total = MoneyOutput(help_text="After discounts, with tax: what the customer paid for this line.")


class TaxTotalOutput(serializers.Serializer[Any]):
    rate = serializers.DecimalField(max_digits=7, decimal_places=2, help_text="Percent, e.g. 19.00.")
    net = MoneyOutput()
    tax = MoneyOutput()


class StatusChangeOutput(serializers.Serializer[Any]):
    from_status = serializers.CharField(help_text='"" for the order\'s creation.')
    to_status = serializers.CharField()
    at = serializers.DateTimeField()
    actor = serializers.CharField(help_text="customer, staff, system or payments")
    note = serializers.CharField()


class PayInput(StrictInputSerializer):
    token = serializers.CharField(
        max_length=255, help_text="The token your payment form got from the gateway (never card data)."
    )


class PaymentSummaryOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    status = serializers.CharField(
        help_text="pending, requires_action, succeeded, failed, refunded, partially_refunded"
    )
    amount = MoneyOutput()
    refunded = MoneyOutput()
    attempts = serializers.IntegerField()
    failure_code = serializers.CharField()
    failure_message = serializers.CharField()
    next_action_url = serializers.CharField()


class OrderOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    number = serializers.CharField()
    status = serializers.ChoiceField(choices=list(api.STATUSES))
    lines = OrderLineOutput(many=True)
    prices_include_tax = serializers.BooleanField(help_text="True: subtotal and shipping include the tax.")
    subtotal = MoneyOutput()
    discount = MoneyOutput()
    shipping = MoneyOutput()
    shipping_method = serializers.CharField()
    shipping_method_name = serializers.CharField()
    tax = MoneyOutput()
    tax_breakdown = TaxTotalOutput(many=True, help_text="Lines and shipping by tax rate; sums to `tax`.")
    voucher_codes = serializers.ListField(child=serializers.CharField(), help_text="Voucher codes this order used.")
    total = MoneyOutput()
    shipping_address = ShippingAddressOutput()
    placed_at = serializers.DateTimeField()
    payment_due_by = serializers.DateTimeField(allow_null=True, help_text="Unpaid orders are cancelled after this.")
    carrier = serializers.CharField()
    tracking_number = serializers.CharField()
    history = StatusChangeOutput(many=True)
    payment = PaymentSummaryOutput(
        allow_null=True, required=False, help_text="The order's payment, if one was started (null if unknown now)."
    )


class OrderSummaryOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    number = serializers.CharField()
    status = serializers.ChoiceField(choices=list(api.STATUSES))
    total = MoneyOutput()
    item_count = serializers.IntegerField()
    placed_at = serializers.DateTimeField()
