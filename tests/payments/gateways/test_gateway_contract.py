"""The contract of the ``Gateway`` port, run against every adapter (``gw`` is parametrized).

The simulator is only worth having if it behaves like the real provider where the payments
service can tell: outcomes, idempotency, refunds and webhook verification. So both adapters pass
the same tests; only the vocabulary (tokens, decline codes, the wire format of webhooks) comes from
the per-gateway harness in ``conftest``.
"""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from shop.kernel import Money
from shop.payments.adapters.gateways.base import (
    Charge,
    GatewayRejected,
    InvalidWebhook,
    TransientGatewayError,
)
from tests.payments.gateways.conftest import TOLERANCE_S, Harness

AMOUNT = Money(Decimal("42.50"), "EUR")
META = {"order_id": "7", "customer_id": "3", "payment_id": "11"}


def pay(gw: Harness, scenario: str, *, key: str = "key-1", amount: Money = AMOUNT) -> Charge:
    return gw.gateway.create_payment(amount=amount, token=gw.tokens[scenario], idempotency_key=key, metadata=META)


# --- outcomes ---------------------------------------------------------------------------------------


def test_success(gw: Harness) -> None:
    charge = pay(gw, "success")
    assert charge.status == "succeeded"
    assert charge.reference.startswith(gw.reference_prefix)
    assert (charge.failure_code, charge.failure_message, charge.next_action_url) == ("", "", "")
    assert charge.raw  # the provider's answer, for the ledger


@pytest.mark.parametrize("scenario", ["decline", "insufficient_funds"])
def test_a_decline_is_a_failed_charge_with_its_code_not_an_error(gw: Harness, scenario: str) -> None:
    charge = pay(gw, scenario)
    assert charge.status == "failed"
    assert charge.failure_code == gw.decline_codes[scenario]
    assert charge.failure_message  # human-readable
    assert charge.reference.startswith(gw.reference_prefix)


def test_requires_action_points_the_customer_somewhere(gw: Harness) -> None:
    charge = pay(gw, "requires_action")
    assert charge.status == "requires_action"
    assert charge.next_action_url.startswith(("http://", "https://"))


def test_delayed_is_pending(gw: Harness) -> None:
    assert pay(gw, "delayed").status == "pending"


def test_a_transient_failure_raises_and_the_same_key_then_succeeds_once(gw: Harness) -> None:
    with pytest.raises(TransientGatewayError):
        pay(gw, "transient", key="flaky")
    assert gw.charge_count() == 0
    charge = pay(gw, "transient", key="flaky")
    assert charge.status == "succeeded"
    assert pay(gw, "transient", key="flaky").reference == charge.reference
    assert gw.charge_count() == 1


@pytest.mark.parametrize("token_of", ["unknown", "malformed"])
def test_a_token_the_provider_does_not_know_is_rejected(gw: Harness, token_of: str) -> None:
    token = gw.unknown_token if token_of == "unknown" else "4242 4242 4242 4242"
    with pytest.raises(GatewayRejected):
        gw.gateway.create_payment(amount=AMOUNT, token=token, idempotency_key="k", metadata=META)


# --- idempotency ------------------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", ["success", "decline", "requires_action", "delayed"])
def test_the_same_key_is_the_same_charge_and_charges_once(gw: Harness, scenario: str) -> None:
    first = pay(gw, scenario, key="same")
    again = pay(gw, scenario, key="same")
    assert again.reference == first.reference
    assert (again.status, again.failure_code) == (first.status, first.failure_code)
    assert gw.charge_count() == 1
    assert pay(gw, scenario, key="other").reference != first.reference
    assert gw.charge_count() == 2


def test_a_key_reused_with_another_amount_is_rejected(gw: Harness) -> None:
    pay(gw, "success", key="same")
    with pytest.raises(GatewayRejected):
        pay(gw, "success", key="same", amount=Money(Decimal("1.00"), "EUR"))
    assert gw.charge_count() == 1


def test_a_replay_answers_what_the_first_call_did_fetch_tells_what_happened_since(gw: Harness) -> None:
    first = pay(gw, "requires_action", key="3ds")
    gw.complete_action(first.reference, approve=True)
    assert pay(gw, "requires_action", key="3ds").status == "requires_action"  # as Stripe replays
    assert gw.gateway.fetch_payment(reference=first.reference).status == "succeeded"


# --- fetch --------------------------------------------------------------------------------------------


def test_fetch_reflects_the_payment_as_it_stands(gw: Harness) -> None:
    done = pay(gw, "success", key="a")
    fetched = gw.gateway.fetch_payment(reference=done.reference)
    assert (fetched.reference, fetched.status) == (done.reference, "succeeded")

    declined = pay(gw, "decline", key="b")
    fetched = gw.gateway.fetch_payment(reference=declined.reference)
    assert (fetched.status, fetched.failure_code) == ("failed", gw.decline_codes["decline"])

    waiting = pay(gw, "requires_action", key="c")
    assert gw.gateway.fetch_payment(reference=waiting.reference).status == "requires_action"
    gw.complete_action(waiting.reference, approve=True)
    assert gw.gateway.fetch_payment(reference=waiting.reference).status == "succeeded"

    refused = pay(gw, "requires_action", key="d")
    gw.complete_action(refused.reference, approve=False)
    fetched = gw.gateway.fetch_payment(reference=refused.reference)
    assert fetched.status == "failed" and fetched.failure_code

    delayed = pay(gw, "delayed", key="e")
    assert gw.gateway.fetch_payment(reference=delayed.reference).status == "pending"
    gw.settle(delayed.reference)
    assert gw.gateway.fetch_payment(reference=delayed.reference).status == "succeeded"


def test_fetching_an_unknown_payment_is_rejected(gw: Harness) -> None:
    with pytest.raises(GatewayRejected):
        gw.gateway.fetch_payment(reference=f"{gw.reference_prefix}doesnotexist")


# --- refunds ------------------------------------------------------------------------------------------


def test_a_full_refund(gw: Harness) -> None:
    charge = pay(gw, "success")
    refund = gw.gateway.refund(reference=charge.reference, amount=AMOUNT, idempotency_key="r1")
    assert refund.status == "succeeded"
    assert refund.amount == AMOUNT
    assert refund.reference.startswith(gw.refund_prefix)
    with pytest.raises(GatewayRejected):  # nothing left
        gw.gateway.refund(reference=charge.reference, amount=Money(Decimal("0.01"), "EUR"), idempotency_key="r2")


def test_partial_refunds_add_up_and_an_over_refund_is_rejected(gw: Harness) -> None:
    charge = pay(gw, "success")
    ten = Money(Decimal("10.00"), "EUR")
    first = gw.gateway.refund(reference=charge.reference, amount=ten, idempotency_key="r1")
    assert gw.gateway.refund(reference=charge.reference, amount=ten, idempotency_key="r1").reference == first.reference
    gw.gateway.refund(reference=charge.reference, amount=ten, idempotency_key="r2")
    with pytest.raises(GatewayRejected):  # 22.50 left, the replayed r1 refunded nothing more
        gw.gateway.refund(reference=charge.reference, amount=Money(Decimal("22.51"), "EUR"), idempotency_key="r3")
    last = gw.gateway.refund(reference=charge.reference, amount=Money(Decimal("22.50"), "EUR"), idempotency_key="r4")
    assert last.amount == Money(Decimal("22.50"), "EUR")


@pytest.mark.parametrize("scenario", ["decline", "requires_action", "delayed"])
def test_only_a_succeeded_payment_can_be_refunded(gw: Harness, scenario: str) -> None:
    charge = pay(gw, scenario)
    with pytest.raises(GatewayRejected):
        gw.gateway.refund(reference=charge.reference, amount=AMOUNT, idempotency_key="r1")


def test_refunding_an_unknown_payment_is_rejected(gw: Harness) -> None:
    with pytest.raises(GatewayRejected):
        gw.gateway.refund(reference=f"{gw.reference_prefix}doesnotexist", amount=AMOUNT, idempotency_key="r1")


# --- webhooks -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["payment.succeeded", "payment.failed", "payment.refunded", "other"])
def test_a_signed_event_is_parsed(gw: Harness, kind: str) -> None:
    refunded = Money(Decimal("12.34"), "EUR") if kind == "payment.refunded" else None
    body = gw.event(kind=kind, reference="pay_ref_1", amount_refunded=refunded, failure_code="insufficient_funds")
    event = gw.gateway.parse_webhook(body=body, headers=gw.sign(body))
    assert event.kind == kind
    assert event.event_id.startswith("evt_")
    assert event.raw
    if kind != "other":
        assert event.reference == "pay_ref_1"
    if kind == "payment.failed":
        assert event.failure_code == "insufficient_funds"
    assert event.amount_refunded == refunded


def test_the_signature_header_is_found_whatever_its_case(gw: Harness) -> None:
    body = gw.event(kind="payment.succeeded", reference="pay_ref_1")
    headers = {name.lower(): value for name, value in gw.sign(body).items()}
    assert gw.gateway.parse_webhook(body=body, headers=headers).kind == "payment.succeeded"


def test_a_wrong_secret_is_rejected(gw: Harness) -> None:
    body = gw.event(kind="payment.succeeded", reference="pay_ref_1")
    with pytest.raises(InvalidWebhook):
        gw.gateway.parse_webhook(body=body, headers=gw.sign(body, secret="whsec_someone_else"))


def test_a_tampered_body_is_rejected(gw: Harness) -> None:
    body = gw.event(kind="payment.failed", reference="pay_ref_1")
    headers = gw.sign(body)
    with pytest.raises(InvalidWebhook):
        gw.gateway.parse_webhook(body=body.replace(b"payment", b"pAyment", 1), headers=headers)


def test_a_stale_event_is_rejected(gw: Harness) -> None:
    body = gw.event(kind="payment.succeeded", reference="pay_ref_1")
    stale = int(time.time()) - TOLERANCE_S - 30
    with pytest.raises(InvalidWebhook):
        gw.gateway.parse_webhook(body=body, headers=gw.sign(body, timestamp=stale))


def test_a_slightly_old_event_is_accepted(gw: Harness) -> None:
    body = gw.event(kind="payment.succeeded", reference="pay_ref_1")
    recent = int(time.time()) - TOLERANCE_S + 30
    assert gw.gateway.parse_webhook(body=body, headers=gw.sign(body, timestamp=recent)).kind == "payment.succeeded"


@pytest.mark.parametrize("body", [b"not json", b"\xff\xfe\x00garbage", b"", b"[1, 2]", b'{"id": 1}'])
def test_a_correctly_signed_but_unreadable_body_is_rejected(gw: Harness, body: bytes) -> None:
    with pytest.raises(InvalidWebhook):
        gw.gateway.parse_webhook(body=body, headers=gw.sign(body))


@pytest.mark.parametrize("header", [None, "", "garbage", "t=,v1=", "v1=abc", "t=123"])
def test_a_missing_or_garbled_signature_header_is_rejected(gw: Harness, header: str | None) -> None:
    body = gw.event(kind="payment.succeeded", reference="pay_ref_1")
    (name,) = [n for n in gw.sign(body) if n != "Content-Type"]
    headers = {"Content-Type": "application/json"} | ({} if header is None else {name: header})
    with pytest.raises(InvalidWebhook):
        gw.gateway.parse_webhook(body=body, headers=headers)
