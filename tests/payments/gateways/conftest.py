"""One harness per gateway adapter, so ``test_gateway_contract`` runs the same tests against both.

A harness knows its provider's vocabulary (which token produces which outcome, what a decline code
looks like, how the provider's webhook events are shaped and signed) and how to make the provider
"do something" (complete 3-D Secure, settle a delayed payment). The simulator is driven through its
own helpers; Stripe through the local fake of its HTTP API (``stripe_fake``). Webhooks are signed
here, independently of the adapters, following each provider's documented scheme.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from shop.kernel import Money
from shop.payments.adapters.gateways import get_gateway
from shop.payments.adapters.gateways.base import Gateway
from shop.payments.adapters.gateways.simulated import SimulatedGateway
from tests.payments.gateways import stripe_fake
from tests.payments.gateways.stripe_fake import FakeStripe

TOLERANCE_S = 300
SCENARIOS = ("success", "decline", "insufficient_funds", "requires_action", "delayed", "transient")


@dataclass
class Harness(ABC):
    """What the contract tests need to know about one gateway besides the port itself."""

    name: str
    gateway: Gateway
    tokens: Mapping[str, str]  # scenario -> token
    decline_codes: Mapping[str, str]  # scenario -> the failure_code the adapter reports
    reference_prefix: str
    refund_prefix: str
    unknown_token: str
    secret: str
    extra: dict[str, Any] = field(default_factory=dict)

    @abstractmethod
    def charge_count(self) -> int:
        """Implemented per gateway."""

    @abstractmethod
    def complete_action(self, reference: str, *, approve: bool) -> None:
        """Implemented per gateway."""

    @abstractmethod
    def settle(self, reference: str) -> None:
        """Implemented per gateway."""

    @abstractmethod
    def event(
        self, *, kind: str, reference: str, amount_refunded: Money | None = None, failure_code: str = ""
    ) -> bytes:
        """The provider's webhook body saying ``kind`` (in the port's vocabulary) about ``reference``."""

    @abstractmethod
    def sign(self, body: bytes, *, timestamp: int | None = None, secret: str | None = None) -> dict[str, str]:
        """Implemented per gateway."""


class SimulatedHarness(Harness):
    def charge_count(self) -> int:
        assert isinstance(self.gateway, SimulatedGateway)
        return self.gateway.charge_count()

    def complete_action(self, reference: str, *, approve: bool) -> None:
        assert isinstance(self.gateway, SimulatedGateway)
        self.gateway.authenticate(reference, approve=approve)

    def settle(self, reference: str) -> None:
        assert isinstance(self.gateway, SimulatedGateway)
        self.gateway.settle(reference)

    def event(
        self, *, kind: str, reference: str, amount_refunded: Money | None = None, failure_code: str = ""
    ) -> bytes:
        data: dict[str, Any] = {"reference": reference, "failure_code": failure_code, "failure_message": ""}
        if amount_refunded is not None:
            data.update(amount_refunded_minor=amount_refunded.minor, currency=amount_refunded.currency)
        wire_kind = "payment.disputed" if kind == "other" else kind
        event = {"id": f"evt_{secrets.token_hex(8)}", "type": wire_kind, "created": int(time.time()), "data": data}
        return json.dumps(event).encode()

    def sign(self, body: bytes, *, timestamp: int | None = None, secret: str | None = None) -> dict[str, str]:
        t = int(time.time()) if timestamp is None else timestamp
        mac = hmac.new((secret or self.secret).encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
        return {"Content-Type": "application/json", "Shop-Simulated-Signature": f"t={t},v1={mac}"}


class StripeHarness(Harness):
    @property
    def fake(self) -> FakeStripe:
        fake: FakeStripe = self.extra["fake"]
        return fake

    def charge_count(self) -> int:
        return self.fake.charge_count

    def complete_action(self, reference: str, *, approve: bool) -> None:
        self.fake.complete_action(reference, approve=approve)

    def settle(self, reference: str) -> None:
        self.fake.settle(reference)

    def event(
        self, *, kind: str, reference: str, amount_refunded: Money | None = None, failure_code: str = ""
    ) -> bytes:
        intent: dict[str, Any] = {"id": reference, "object": "payment_intent", "status": "succeeded"}
        if kind == "payment.succeeded":
            stripe_type, obj = "payment_intent.succeeded", intent
        elif kind == "payment.failed":
            error = {"type": "card_error", "code": "card_declined", "decline_code": failure_code, "message": "Declined"}
            stripe_type, obj = "payment_intent.payment_failed", {**intent, "status": "requires_payment_method"}
            obj["last_payment_error"] = error
        elif kind == "payment.refunded":
            assert amount_refunded is not None
            stripe_type = "charge.refunded"
            obj = {
                "id": f"ch_{secrets.token_hex(8)}",
                "object": "charge",
                "payment_intent": reference,
                "amount_refunded": amount_refunded.minor,
                "currency": amount_refunded.currency.lower(),
                "refunded": True,
            }
        else:
            stripe_type, obj = "customer.created", {"id": f"cus_{secrets.token_hex(8)}", "object": "customer"}
        event = {
            "id": f"evt_{secrets.token_hex(12)}",
            "object": "event",
            "api_version": "2026-10-28.endive",
            "created": int(time.time()),
            "type": stripe_type,
            "data": {"object": obj},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
        }
        return json.dumps(event).encode()

    def sign(self, body: bytes, *, timestamp: int | None = None, secret: str | None = None) -> dict[str, str]:
        t = int(time.time()) if timestamp is None else timestamp
        signed = f"{t}.".encode() + body  # Stripe signs f"{t}.{payload}"
        mac = hmac.new((secret or self.secret).encode(), signed, hashlib.sha256).hexdigest()
        return {"Content-Type": "application/json", "Stripe-Signature": f"t={t},v1={mac}"}


@pytest.fixture
def fake_stripe(httpserver: HTTPServer, settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeStripe]:
    """The fake Stripe API on the local test server, with the adapter pointed at it."""
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")  # never route the fake through a proxy
    fake = FakeStripe()
    fake.install(httpserver)
    settings.SHOP_STRIPE_API_BASE = httpserver.url_for("").rstrip("/")
    settings.SHOP_STRIPE_SECRET_KEY = stripe_fake.API_KEY
    settings.SHOP_STRIPE_WEBHOOK_SECRET = stripe_fake.WEBHOOK_SECRET
    settings.SHOP_GATEWAY_TIMEOUT_S = 5.0
    settings.SHOP_WEBHOOK_TOLERANCE_S = TOLERANCE_S
    yield fake


@pytest.fixture
def simulated_harness(settings: Any) -> SimulatedHarness:
    settings.SHOP_SIMULATED_GATEWAY_TIMEOUTS = 1
    settings.SHOP_WEBHOOK_TOLERANCE_S = TOLERANCE_S
    settings.SHOP_SIMULATED_WEBHOOK_SECRET = "whsec_simulated_test"
    return SimulatedHarness(
        name="simulated",
        gateway=get_gateway("simulated"),
        tokens={scenario: f"tok_{scenario}" for scenario in SCENARIOS}
        | {"delayed": "tok_delayed_success", "transient": "tok_timeout"},
        decline_codes={"decline": "card_declined", "insufficient_funds": "insufficient_funds"},
        reference_prefix="sim_pay_",
        refund_prefix="sim_re_",
        unknown_token="tok_unknown_card",
        secret="whsec_simulated_test",
    )


@pytest.fixture
def stripe_harness(fake_stripe: FakeStripe) -> StripeHarness:
    return StripeHarness(
        name="stripe",
        gateway=get_gateway("stripe"),
        tokens={
            "success": stripe_fake.SUCCEEDS,
            "decline": stripe_fake.DECLINED,
            "insufficient_funds": stripe_fake.INSUFFICIENT_FUNDS,
            "requires_action": stripe_fake.REQUIRES_ACTION,
            "delayed": stripe_fake.PROCESSING,
            "transient": stripe_fake.UNAVAILABLE_ONCE,
        },
        decline_codes={"decline": "generic_decline", "insufficient_funds": "insufficient_funds"},
        reference_prefix="pi_",
        refund_prefix="re_",
        unknown_token="pm_does_not_exist",
        secret=stripe_fake.WEBHOOK_SECRET,
        extra={"fake": fake_stripe},
    )


@pytest.fixture(params=["simulated", "stripe"])
def gw(request: pytest.FixtureRequest) -> Harness:
    harness: Harness = request.getfixturevalue(f"{request.param}_harness")
    return harness
