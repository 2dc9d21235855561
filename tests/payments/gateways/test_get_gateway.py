"""``get_gateway``: the configured adapter, always reflecting the current settings."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from shop.payments.adapters.gateways import GATEWAYS, get_gateway
from shop.payments.adapters.gateways.simulated import SimulatedGateway
from shop.payments.adapters.gateways.stripe import StripeGateway


def test_the_names() -> None:
    assert GATEWAYS == ("simulated", "stripe")


def test_the_configured_gateway_by_default(settings: Any) -> None:
    settings.SHOP_PAYMENT_GATEWAY = "simulated"
    assert isinstance(get_gateway(), SimulatedGateway)
    with override_settings(SHOP_PAYMENT_GATEWAY="stripe", SHOP_STRIPE_SECRET_KEY="sk_test_x"):
        assert isinstance(get_gateway(), StripeGateway)
    assert get_gateway().name == "simulated"


def test_by_name_whatever_is_configured(settings: Any) -> None:
    settings.SHOP_PAYMENT_GATEWAY = "simulated"
    gateway = get_gateway("stripe")
    assert isinstance(gateway, StripeGateway) and gateway.name == "stripe"


@pytest.mark.parametrize("name", ["paypal", "Stripe", " simulated"])
def test_an_unknown_gateway_is_a_configuration_error(settings: Any, name: str) -> None:
    with pytest.raises(ImproperlyConfigured):
        get_gateway(name)
    settings.SHOP_PAYMENT_GATEWAY = name
    with pytest.raises(ImproperlyConfigured):
        get_gateway()
