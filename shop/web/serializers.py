"""Serializer bases for the edge: inputs reject fields they do not know (no mass assignment)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


class StrictInputSerializer(serializers.Serializer[Any]):
    """An ``InputSerializer`` that refuses unknown fields instead of silently dropping them,
    so ``{"is_staff": true}`` is a clear 400, never a silent no-op or, worse, a write."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown or read-only field."] for name in unknown})
        return super().to_internal_value(data)


class MoneyOutput(serializers.Serializer[Any]):
    """An amount of money, in the same shape everywhere in the API: ``amount`` is a decimal string in
    the currency's minor unit (never a float), ``currency`` its ISO 4217 code."""

    amount = serializers.CharField(help_text='Decimal string in the currency\'s minor unit, e.g. "12.50".')
    currency = serializers.CharField(help_text="ISO 4217 code, e.g. EUR.")

    class Meta:
        ref_name = "Money"
