"""Input and output shapes of the users API. Inputs never carry ids, staff flags or dates."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer, TokenRefreshSerializer

from shop.users.models import Address, User
from shop.web.serializers import StrictInputSerializer, country_field


class UserOutput(serializers.ModelSerializer[User]):
    class Meta:
        model = User
        fields = ["id", "email", "full_name", "date_joined"]
        read_only_fields = fields


class RegisterInput(StrictInputSerializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, write_only=True, trim_whitespace=False)
    full_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")


class ProfileInput(StrictInputSerializer):
    full_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=254, required=False)
    current_password = serializers.CharField(max_length=128, required=False, write_only=True, trim_whitespace=False)


class ChangePasswordInput(StrictInputSerializer):
    current_password = serializers.CharField(max_length=128, trim_whitespace=False)
    new_password = serializers.CharField(max_length=128, trim_whitespace=False)


class LoginInput(StrictInputSerializer, TokenObtainPairSerializer):
    """simplejwt's login, refusing unknown fields like every other input."""


class RefreshInput(StrictInputSerializer, TokenRefreshSerializer):
    """simplejwt's refresh, refusing unknown fields like every other input."""


class TokenPairOutput(serializers.Serializer[Any]):
    access = serializers.CharField()
    refresh = serializers.CharField()


class LogoutInput(StrictInputSerializer):
    refresh = serializers.CharField(max_length=2000)


class PasswordResetRequestInput(StrictInputSerializer):
    email = serializers.EmailField(max_length=254)


class PasswordResetConfirmInput(StrictInputSerializer):
    uid = serializers.CharField(max_length=64)
    token = serializers.CharField(max_length=128)
    new_password = serializers.CharField(max_length=128, trim_whitespace=False)


class AcceptedOutput(serializers.Serializer[Any]):
    detail = serializers.CharField()


ADDRESS_FIELDS = [
    "label",
    "full_name",
    "line1",
    "line2",
    "city",
    "postal_code",
    "region",
    "country",
    "phone",
    "is_default",
]


class AddressOutput(serializers.ModelSerializer[Address]):
    class Meta:
        model = Address
        fields = ["id", *ADDRESS_FIELDS, "created_at"]
        read_only_fields = fields


class AddressInput(StrictInputSerializer):
    # Popped from the class by DRF's metaclass, so it does not clash with ``Field.label`` at runtime.
    label = serializers.CharField(max_length=50, required=False, allow_blank=True)  # type: ignore[assignment]
    full_name = serializers.CharField(max_length=150)
    line1 = serializers.CharField(max_length=200)
    line2 = serializers.CharField(max_length=200, required=False, allow_blank=True)
    city = serializers.CharField(max_length=100)
    postal_code = serializers.CharField(max_length=20)
    region = serializers.CharField(max_length=100, required=False, allow_blank=True)
    country = country_field()
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    is_default = serializers.BooleanField(required=False)
