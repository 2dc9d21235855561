"""Wire shapes of pricing's staff API (promotions and vouchers). Inputs refuse unknown fields, so ``used``,
ids and timestamps are never set by a client; amounts travel as decimal strings."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from shop.pricing.models import PROMOTION_FIELDS, Promotion, Voucher, VoucherUse
from shop.pricing.services.vouchers import MAX_GENERATED
from shop.web.serializers import StrictInputSerializer, StrictQuerySerializer


def _amount(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=12, decimal_places=2, **kwargs)


class PromotionInput(StrictInputSerializer):
    name = serializers.CharField(max_length=100)
    label = serializers.CharField(max_length=100)  # type: ignore[assignment]  # a declared field, not Field.label
    kind = serializers.ChoiceField(choices=Promotion.Kind.choices)
    benefit = serializers.ChoiceField(choices=Promotion.Benefit.choices)
    value = _amount(min_value=0, required=False)
    everything = serializers.BooleanField(required=False)
    skus = serializers.CharField(max_length=20_000, required=False, allow_blank=True)
    category_ids = serializers.ListField(child=serializers.IntegerField(min_value=1), max_length=500, required=False)
    min_subtotal = _amount(min_value=0, required=False, allow_null=True)
    buy_quantity = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    get_quantity = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    max_applications = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    starts_at = serializers.DateTimeField(required=False, allow_null=True)
    ends_at = serializers.DateTimeField(required=False, allow_null=True)
    is_active = serializers.BooleanField(required=False)
    requires_voucher = serializers.BooleanField(required=False)
    exclusive = serializers.BooleanField(required=False)
    priority = serializers.IntegerField(min_value=-1000, max_value=1000, required=False)


class PromotionOutput(serializers.ModelSerializer[Promotion]):
    class Meta:
        model = Promotion
        fields = ["id", *PROMOTION_FIELDS, "created_at"]


class VoucherCreateInput(StrictInputSerializer):
    code = serializers.CharField(max_length=40)
    promotion = serializers.IntegerField(min_value=1)
    usage_limit = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    per_customer_limit = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    min_subtotal = _amount(min_value=0, required=False, allow_null=True)
    first_order_only = serializers.BooleanField(required=False)
    starts_at = serializers.DateTimeField(required=False, allow_null=True)
    ends_at = serializers.DateTimeField(required=False, allow_null=True)


class VoucherActiveInput(StrictInputSerializer):
    is_active = serializers.BooleanField()


class GenerateInput(StrictInputSerializer):
    promotion = serializers.IntegerField(min_value=1)
    count = serializers.IntegerField(min_value=1, max_value=MAX_GENERATED)
    prefix = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    usage_limit = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=1)
    per_customer_limit = serializers.IntegerField(min_value=1, required=False, allow_null=True)


class GenerateOutput(serializers.Serializer[Any]):
    batch = serializers.CharField(help_text="List them with GET …/vouchers/?batch=<this>.")
    count = serializers.IntegerField()


class VoucherOutput(serializers.ModelSerializer[Voucher]):
    class Meta:
        model = Voucher
        fields = [
            "code",
            "promotion",
            "usage_limit",
            "per_customer_limit",
            "used",
            "min_subtotal",
            "first_order_only",
            "starts_at",
            "ends_at",
            "is_active",
            "batch",
            "created_at",
        ]


class VoucherUseOutput(serializers.ModelSerializer[VoucherUse]):
    class Meta:
        model = VoucherUse
        fields = ["order_reference", "customer_id", "discount_amount", "created_at", "released_at"]


class VoucherListQuery(StrictQuerySerializer):
    batch = serializers.CharField(max_length=60, required=False)
    promotion = serializers.IntegerField(min_value=1, required=False)
    page = serializers.CharField(required=False)
    page_size = serializers.CharField(required=False)
