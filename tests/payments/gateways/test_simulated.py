"""What only the simulator does: play the provider (3-D Secure, settlement, any webhook), keep its
state in the shared cache, and honour its own settings."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest

from shop.kernel import Money
from shop.payments.adapters.gateways.base import GatewayRejected, InvalidWebhook, TransientGatewayError
from shop.payments.adapters.gateways.simulated import AlreadyDecided, SimulatedGateway
from tests.payments.gateways.conftest import SimulatedHarness

AMOUNT = Money(Decimal("19.99"), "EUR")


@pytest.fixture
def sim(simulated_harness: SimulatedHarness) -> SimulatedGateway:
    gateway = simulated_harness.gateway
    assert isinstance(gateway, SimulatedGateway)
    return gateway


def pay(sim: SimulatedGateway, token: str, key: str = "key-1") -> Any:
    return sim.create_payment(amount=AMOUNT, token=token, idempotency_key=key, metadata={"order_id": "1"})


def test_the_authentication_url_is_on_the_public_url(sim: SimulatedGateway, settings: Any) -> None:
    settings.SHOP_PUBLIC_URL = "https://shop.example"
    charge = pay(sim, "tok_requires_action")
    assert charge.next_action_url == f"https://shop.example/payments/authenticate/{charge.reference}/"  # a page


@pytest.mark.parametrize(
    ("approve", "kind", "status", "code"),
    [(True, "payment.succeeded", "succeeded", ""), (False, "payment.failed", "failed", "authentication_failed")],
)
def test_authenticate_decides_and_returns_the_signed_webhook(
    sim: SimulatedGateway, approve: bool, kind: str, status: str, code: str
) -> None:
    charge = pay(sim, "tok_requires_action")
    body, headers = sim.authenticate(charge.reference, approve=approve)
    event = sim.parse_webhook(body=body, headers=headers)
    assert (event.kind, event.reference, event.failure_code) == (kind, charge.reference, code)
    fetched = sim.fetch_payment(reference=charge.reference)
    assert (fetched.status, fetched.failure_code, fetched.next_action_url) == (status, code, "")
    with pytest.raises(AlreadyDecided):  # decided once
        sim.authenticate(charge.reference, approve=True)


@pytest.mark.parametrize(("succeed", "kind"), [(True, "payment.succeeded"), (False, "payment.failed")])
def test_settle_decides_a_delayed_payment_and_returns_the_signed_webhook(
    sim: SimulatedGateway, succeed: bool, kind: str
) -> None:
    charge = pay(sim, "tok_delayed_success")
    body, headers = sim.settle(charge.reference, succeed=succeed)
    event = sim.parse_webhook(body=body, headers=headers)
    assert (event.kind, event.reference) == (kind, charge.reference)
    assert sim.fetch_payment(reference=charge.reference).status == ("succeeded" if succeed else "failed")


def test_only_a_waiting_payment_can_be_authenticated_or_settled(sim: SimulatedGateway) -> None:
    done = pay(sim, "tok_success")
    with pytest.raises(GatewayRejected):
        sim.authenticate(done.reference, approve=True)
    with pytest.raises(GatewayRejected):
        sim.settle(done.reference)
    with pytest.raises(GatewayRejected):
        sim.settle("sim_pay_unknown")


def test_signed_webhook_builds_any_event_in_the_documented_shape(sim: SimulatedGateway) -> None:
    body, headers = sim.signed_webhook(
        kind="payment.refunded", reference="sim_pay_x", event_id="evt_fixed", amount_refunded_minor=1999, currency="EUR"
    )
    wire = json.loads(body)
    assert wire["id"] == "evt_fixed" and wire["type"] == "payment.refunded" and isinstance(wire["created"], int)
    assert wire["data"] == {"reference": "sim_pay_x", "amount_refunded_minor": 1999, "currency": "EUR"}
    assert headers["Shop-Simulated-Signature"].startswith(f"t={wire['created']},v1=")
    event = sim.parse_webhook(body=body, headers=headers)
    assert (event.event_id, event.amount_refunded) == ("evt_fixed", AMOUNT)


def test_an_event_from_the_future_beyond_the_tolerance_is_rejected(sim: SimulatedGateway) -> None:
    body, headers = sim.signed_webhook(kind="payment.succeeded", reference="r", timestamp=int(time.time()) + 3600)
    with pytest.raises(InvalidWebhook):
        sim.parse_webhook(body=body, headers=headers)


@pytest.mark.parametrize(
    "data",
    [
        {"amount_refunded_minor": "1999", "currency": "EUR"},
        {"amount_refunded_minor": 1999, "currency": "XXX"},
        {"amount_refunded_minor": 1999},
    ],
)
def test_a_refund_event_without_a_readable_amount_is_rejected(sim: SimulatedGateway, data: dict[str, Any]) -> None:
    body, headers = sim.signed_webhook(kind="payment.refunded", reference="r", **data)
    with pytest.raises(InvalidWebhook):
        sim.parse_webhook(body=body, headers=headers)


def test_a_payment_event_without_a_reference_is_rejected(sim: SimulatedGateway) -> None:
    body, headers = sim.signed_webhook(kind="payment.succeeded", reference="")
    with pytest.raises(InvalidWebhook):
        sim.parse_webhook(body=body, headers=headers)


def test_a_rotating_secret_may_carry_several_signatures(sim: SimulatedGateway) -> None:
    body, headers = sim.signed_webhook(kind="payment.succeeded", reference="r")
    t, v1 = headers["Shop-Simulated-Signature"].split(",")
    headers["Shop-Simulated-Signature"] = f"{t},v1={'0' * 64},{v1}"
    assert sim.parse_webhook(body=body, headers=headers).kind == "payment.succeeded"


def test_a_non_ascii_signature_is_rejected_not_crashing(sim: SimulatedGateway) -> None:
    body, headers = sim.signed_webhook(kind="payment.succeeded", reference="r")
    t = headers["Shop-Simulated-Signature"].split(",")[0]
    with pytest.raises(InvalidWebhook):
        sim.parse_webhook(body=body, headers={"Shop-Simulated-Signature": f"{t},v1=é"})


def test_webhooks_are_refused_without_a_secret(sim: SimulatedGateway, settings: Any) -> None:
    body, headers = sim.signed_webhook(kind="payment.succeeded", reference="r")
    settings.SHOP_SIMULATED_WEBHOOK_SECRET = ""
    with pytest.raises(InvalidWebhook):
        sim.parse_webhook(body=body, headers=headers)


def test_state_is_shared_through_the_cache(sim: SimulatedGateway) -> None:
    charge = pay(sim, "tok_requires_action", key="shared")
    other = SimulatedGateway()  # another process, as far as the simulator can tell
    assert other.fetch_payment(reference=charge.reference).status == "requires_action"
    assert pay(other, "tok_requires_action", key="shared").reference == charge.reference
    other.authenticate(charge.reference, approve=True)
    assert sim.fetch_payment(reference=charge.reference).status == "succeeded"
    other.refund(reference=charge.reference, amount=AMOUNT, idempotency_key="re")
    with pytest.raises(GatewayRejected):  # the first instance sees the refund too
        sim.refund(reference=charge.reference, amount=AMOUNT, idempotency_key="re-2")
    assert sim.charge_count() == other.charge_count() == 1
    assert sim.fetch_payment(reference=charge.reference).raw["amount_refunded_minor"] == AMOUNT.minor


@pytest.mark.parametrize("timeouts", [0, 1, 3])
def test_tok_timeout_times_out_as_often_as_configured_per_key(
    sim: SimulatedGateway, settings: Any, timeouts: int
) -> None:
    settings.SHOP_SIMULATED_GATEWAY_TIMEOUTS = timeouts
    for _ in range(timeouts):
        with pytest.raises(TransientGatewayError):
            pay(sim, "tok_timeout", key="a")
    assert pay(sim, "tok_timeout", key="a").status == "succeeded"
    if timeouts:  # another key starts its own count
        with pytest.raises(TransientGatewayError):
            pay(sim, "tok_timeout", key="b")


def test_a_refund_in_another_currency_is_rejected(sim: SimulatedGateway) -> None:
    charge = pay(sim, "tok_success")
    with pytest.raises(GatewayRejected):
        sim.refund(reference=charge.reference, amount=Money(Decimal("1.00"), "USD"), idempotency_key="r")


def test_a_refund_key_reused_for_another_amount_is_rejected(sim: SimulatedGateway) -> None:
    charge = pay(sim, "tok_success")
    sim.refund(reference=charge.reference, amount=Money(Decimal("1.00"), "EUR"), idempotency_key="r")
    with pytest.raises(GatewayRejected):
        sim.refund(reference=charge.reference, amount=Money(Decimal("2.00"), "EUR"), idempotency_key="r")


@pytest.mark.parametrize("key", ["", "x" * 1000])
def test_idempotency_keys_are_required_and_may_be_long(sim: SimulatedGateway, key: str) -> None:
    if not key:
        with pytest.raises(GatewayRejected):
            pay(sim, "tok_success", key=key)
    else:
        assert pay(sim, "tok_success", key=key).reference == pay(sim, "tok_success", key=key).reference


def test_a_non_positive_amount_is_rejected(sim: SimulatedGateway) -> None:
    with pytest.raises(GatewayRejected):
        sim.create_payment(amount=Money.zero("EUR"), token="tok_success", idempotency_key="k", metadata={})


def test_concurrent_calls_with_one_key_charge_once(sim: SimulatedGateway) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        references = set(pool.map(lambda _: pay(SimulatedGateway(), "tok_success", key="race").reference, range(8)))
    assert len(references) == 1
    assert sim.charge_count() == 1


def test_concurrent_refunds_never_refund_more_than_was_paid(sim: SimulatedGateway) -> None:
    charge = pay(sim, "tok_success")  # 19.99: room for three refunds of 5.00

    def refund(i: int) -> bool:
        try:
            SimulatedGateway().refund(
                reference=charge.reference, amount=Money(Decimal("5.00"), "EUR"), idempotency_key=f"r{i}"
            )
        except GatewayRejected:
            return False
        return True

    with ThreadPoolExecutor(max_workers=6) as pool:
        assert sum(pool.map(refund, range(6))) == 3
    assert sim.fetch_payment(reference=charge.reference).raw["amount_refunded_minor"] == 1500
