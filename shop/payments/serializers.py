"""Wire shapes of the payments API: what a customer may read about their payment. There is no
input for card data anywhere: paying takes a gateway token, on the order (``/orders/{id}/pay/``)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from shop.payments import api
from shop.web.serializers import MoneyOutput, StrictInputSerializer


class PaymentOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    order_id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=list(api.STATUSES))
    amount = MoneyOutput()
    refunded = MoneyOutput()
    attempts = serializers.IntegerField()
    failure_code = serializers.CharField(
        help_text="Why it failed (card_declined, insufficient_funds, …); empty otherwise."
    )
    failure_message = serializers.CharField()
    next_action_url = serializers.CharField(help_text="requires_action: where the customer completes the check.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class WebhookAcceptedOutput(serializers.Serializer[Any]):
    received = serializers.BooleanField()
    duplicate = serializers.BooleanField()


class SimulatedAuthenticationInput(StrictInputSerializer):
    approve = serializers.BooleanField(help_text="Pass or fail the simulated 3-D Secure check.")
