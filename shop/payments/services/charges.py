"""Charging and refunding: idempotent by key, no network call while a row lock is held.

Start: lock the order's payment (created on first use), claim the key, count the attempt, commit;
then ask the gateway (retried, behind the breaker); then settle what it answered under the lock
again. Concurrent calls with one key: the first claims the key, the others find it claimed and
answer with the payment as it stands, so the gateway is asked once. The gateway is also given the
key, so even our own retries of a lost answer cannot charge twice.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db import IntegrityError
from django.utils import timezone

from shop import registry
from shop.kernel import Money
from shop.payments import api, selectors
from shop.payments.adapters import calls
from shop.payments.adapters.gateways import get_gateway
from shop.payments.adapters.gateways.base import Charge, GatewayRejected
from shop.payments.models import Payment, PaymentKey
from shop.payments.services import settle

log = logging.getLogger(__name__)

MAX_TOKEN_CHARS = 255
MAX_KEY_CHARS = 255
_TOKEN = re.compile(r"^[A-Za-z0-9_\-]{3,255}$")


def _fingerprint(*parts: object) -> str:
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()


def _check_key(key: str) -> str:
    key = (key or "").strip()
    if not key or len(key) > MAX_KEY_CHARS or not key.isprintable():
        raise api.InvalidPaymentToken("An idempotency key (printable, at most 255 chars) is required.")
    return key


def _known_key(key: str, fingerprint: str) -> Payment | None:
    row = PaymentKey.objects.select_related("payment").filter(key=key).first()
    if row is None:
        return None
    if row.fingerprint != fingerprint:
        raise api.IdempotencyKeyReused()
    return row.payment


@dataclass(frozen=True, slots=True)
class Claim:
    """What ``_claim`` found: the payment, and whether this call claimed the key for a new attempt
    (``False``: a concurrent twin had claimed it; its answer is the payment as it stands)."""

    payment: Payment
    claimed: bool


def _claim(
    *, order_id: int, customer_id: int, amount: Money, key: str, fingerprint: str, gateway: str, order_number: str = ""
) -> Claim:
    """Under the payment's lock: refuse what cannot be charged, else claim the key for an attempt."""
    with registry.atomic("payments"):
        payment, _ = Payment.objects.get_or_create(
            order_id=order_id,
            defaults={
                "customer_id": customer_id,
                "amount_amount": amount.amount,
                "currency": amount.currency,
                "gateway": gateway,
                "idempotency_key": key,
                "order_number": order_number[:20],
            },
        )
        payment = settle.lock(payment.pk)
        if PaymentKey.objects.filter(key=key).exists():  # a concurrent twin claimed it while we waited
            again = _known_key(key, fingerprint)
            assert again is not None
            return Claim(payment=payment, claimed=False)
        if payment.customer_id != customer_id or payment.amount != amount:
            raise api.IdempotencyKeyReused("This order's payment was started for another customer or amount.")
        if settle.is_settled(payment):
            raise api.AlreadyPaid(payment_id=payment.pk)
        if payment.attempts and payment.status in (api.PENDING, api.REQUIRES_ACTION):
            raise api.PaymentInProgress(payment_status=payment.status, payment_id=payment.pk)
        PaymentKey.objects.create(key=key, payment=payment, purpose="charge", fingerprint=fingerprint)
        payment.attempts += 1
        payment.status = api.PENDING
        payment.gateway = gateway
        payment.gateway_reference = ""
        payment.idempotency_key = key
        payment.failure_code = payment.failure_message = payment.next_action_url = ""
        payment.save()
        return Claim(payment=payment, claimed=True)


def _apply(payment_id: int, charge: Charge) -> None:
    with registry.atomic("payments"):
        payment = settle.lock(payment_id)
        settle.to_status(
            payment,
            charge.status,
            reference=charge.reference,
            failure_code=charge.failure_code,
            failure_message=charge.failure_message,
            next_action_url=charge.next_action_url,
        )


def _fail(payment_id: int, *, code: str, message: str) -> None:
    with registry.atomic("payments"):
        settle.to_status(settle.lock(payment_id), api.FAILED, failure_code=code, failure_message=message)


def start_payment(
    *,
    order_id: int,
    customer_id: int,
    amount: Money,
    token: str,
    idempotency_key: str,
    return_url: str = "",
    order_number: str = "",
) -> api.Payment:
    key = _check_key(idempotency_key)
    if not isinstance(token, str) or not _TOKEN.match(token):
        raise api.InvalidPaymentToken("Send the token your payment form got from the gateway (never card data).")
    if amount.amount <= 0:
        raise api.InvalidPaymentToken("Nothing to pay.")
    fingerprint = _fingerprint("charge", order_id, customer_id, amount.amount, amount.currency)
    known = _known_key(key, fingerprint)
    if known is not None:
        return selectors.to_payment_dto(known)
    gateway = get_gateway()
    try:
        claim = _claim(
            order_id=order_id,
            customer_id=customer_id,
            amount=amount,
            key=key,
            fingerprint=fingerprint,
            gateway=gateway.name,
            order_number=order_number,
        )
    except IntegrityError:  # the twin created the key row between our check and our insert
        known = _known_key(key, fingerprint)
        if known is None:
            raise
        return selectors.to_payment_dto(known)
    payment = claim.payment
    if not claim.claimed:
        return selectors.to_payment_dto(payment)

    try:
        charge = calls.call(
            payment,
            kind=api.TransactionKind.CHARGE,
            key=key,
            amount=amount.amount,
            fn=lambda: gateway.create_payment(
                amount=amount,
                token=token,
                idempotency_key=key,
                metadata={"order_id": str(order_id), "customer_id": str(customer_id), "payment_id": str(payment.pk)},
                return_url=return_url,
            ),
        )
    except calls.Unavailable as exc:
        _fail(payment.pk, code="gateway_unavailable", message=f"The payment provider did not answer ({exc.reason}).")
        return selectors.to_payment_dto(Payment.objects.get(pk=payment.pk))
    except GatewayRejected as exc:
        calls.record(
            payment, kind=api.TransactionKind.CHARGE, outcome="rejected", key=key, amount=amount.amount, error=str(exc)
        )
        _fail(payment.pk, code="invalid_payment_token", message="The payment provider refused this token.")
        raise api.InvalidPaymentToken(str(exc) or None, payment_id=payment.pk) from exc
    calls.record(
        payment,
        kind=api.TransactionKind.CHARGE,
        outcome=charge.status,
        key=key,
        amount=amount.amount,
        reference=charge.reference,
        response=charge.raw,
    )
    _apply(payment.pk, charge)
    return selectors.to_payment_dto(Payment.objects.get(pk=payment.pk))


def refund(*, payment_id: int, amount: Money | None, reason: str, idempotency_key: str) -> api.Payment:
    key = _check_key(idempotency_key)
    fingerprint = _fingerprint("refund", payment_id, amount.amount if amount else "all")
    known = _known_key(key, fingerprint)
    if known is not None:
        return selectors.to_payment_dto(known)
    with registry.atomic("payments"):
        payment = settle.lock(payment_id)
        if payment.status not in (api.SUCCEEDED, api.PARTIALLY_REFUNDED):
            raise api.NotRefundable(payment_status=payment.status)
        left = payment.amount_amount - payment.refunded_amount
        wanted = amount.amount if amount is not None else left
        if amount is not None and amount.currency != payment.currency:
            raise api.RefundTooLarge("A refund is in the payment's currency.", refundable=str(left))
        if wanted <= 0 or wanted > left:
            raise api.RefundTooLarge(refundable=str(left))
        PaymentKey.objects.create(key=key, payment=payment, purpose="refund", fingerprint=fingerprint)
        refunded_before = payment.refunded_amount
    money = payment.money(wanted)
    gateway = get_gateway(payment.gateway)
    try:
        result = calls.call(
            payment,
            kind=api.TransactionKind.REFUND,
            key=key,
            amount=wanted,
            fn=lambda: gateway.refund(reference=payment.gateway_reference, amount=money, idempotency_key=key),
        )
    except (calls.Unavailable, GatewayRejected) as exc:
        PaymentKey.objects.filter(key=key).delete()  # nothing refunded: the same key may be retried
        if isinstance(exc, GatewayRejected):
            raise api.NotRefundable(str(exc) or None) from exc
        raise api.GatewayUnavailable(reason=exc.reason) from exc
    calls.record(
        payment,
        kind=api.TransactionKind.REFUND,
        outcome=result.status,
        key=key,
        amount=wanted,
        reference=result.reference,
        response=result.raw,
    )
    if result.status == "succeeded":
        with registry.atomic("payments"):
            locked = settle.lock(payment_id)
            refunded_here = sum(
                (
                    Decimal(t.amount_amount or 0)
                    for t in locked.transactions.filter(kind=api.TransactionKind.REFUND, outcome="succeeded")
                ),
                Decimal(0),
            )
            # At least what was refunded when we claimed plus this refund; the provider's webhook
            # (its own running total) raises it further if refunds were also made elsewhere.
            settle.refunded_to(locked, max(refunded_before + wanted, refunded_here), this_refund=wanted)
    return selectors.to_payment_dto(Payment.objects.get(pk=payment_id))


def reconcile(*, older_than_s: int, limit: int = 100) -> int:
    """Ask the gateway about payments stuck in pending / requires_action and settle them; one the
    gateway still calls unfinished after twice the window is failed ("abandoned"). Returns how many
    changed."""
    now = timezone.now()
    stuck = list(
        Payment.objects.filter(
            status__in=(api.PENDING, api.REQUIRES_ACTION), updated_at__lt=now - timedelta(seconds=older_than_s)
        ).order_by("updated_at")[:limit]
    )
    changed = 0
    for payment in stuck:
        before = payment.status
        if not payment.gateway_reference:
            _fail(payment.pk, code="interrupted", message="The payment was interrupted before the provider answered.")
        else:
            gateway = get_gateway(payment.gateway)
            try:
                charge = calls.call(
                    payment,
                    kind=api.TransactionKind.FETCH,
                    key="",
                    fn=functools.partial(gateway.fetch_payment, reference=payment.gateway_reference),
                )
            except (calls.Unavailable, GatewayRejected) as exc:
                log.warning("reconcile: gateway has no answer for payment %s: %s", payment.pk, exc)
                continue
            calls.record(
                payment,
                kind=api.TransactionKind.FETCH,
                outcome=charge.status,
                reference=charge.reference,
                response=charge.raw,
            )
            if charge.status in (api.PENDING, api.REQUIRES_ACTION):
                if payment.updated_at < now - timedelta(seconds=2 * older_than_s):
                    _fail(payment.pk, code="abandoned", message="The payment was not completed in time.")
            else:
                _apply(payment.pk, charge)
        changed += Payment.objects.filter(pk=payment.pk).exclude(status=before).exists()
    return changed
