"""Paying an order: the customer's gateway token, the order's total (never the client's), one
charge per ``Idempotency-Key`` — the same key rules as checkout (``services.idempotency``).

1. check the key; find the customer's order (another customer's is ``OrderNotFound``);
2. the key already answered → that answer again (the order as it stands, with its payment); the key
   used with another order or token → ``IdempotencyKeyReused``; still being answered →
   ``IdempotencyKeyInUse``; else claim it (``PayRequest``, committed before payments is asked);
3. an order past its payment window is expired now (cancelled, stock released) and refused with
   ``OrderExpired``, whether or not the periodic expiry has run yet; an order neither awaiting
   payment nor paid is ``IllegalTransition`` (a paid one goes on: payments answers ``already_paid``);
4. ``PaymentsAPI.start_payment`` under a key derived from the order and the customer's key, so a
   retry of a lost answer is the same charge; a success pays the order at once
   (``lifecycle.payment_succeeded``; the event that follows changes nothing more);
5. the claim is finished with the payment. Any refusal or failure releases it instead: nothing was
   decided that a retry with the same key must repeat (payments replays its own key if it had).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError
from django.utils import timezone

from shop import registry
from shop.kernel import ContextUnavailable
from shop.orders import api, selectors
from shop.orders.models import Order, PayRequest
from shop.orders.services import idempotency, lifecycle, status_page
from shop.payments.api import SUCCEEDED, Payment, PaymentsAPI

# A claim older than this was left by a request that died: the gateway calls are bounded well below it.
CLAIM_LEASE = timedelta(minutes=2)


@dataclass(frozen=True, kw_only=True, slots=True)
class Paid:
    order: api.Order
    payment: Payment | None  # None only on a replay while payments cannot answer


def pay(*, customer_id: int, order_id: int, idempotency_key: str, token: str) -> Paid:
    key = idempotency.check_key(idempotency_key)
    order = selectors.order_of(customer_id=customer_id, order_id=order_id)
    if order is None:
        raise api.OrderNotFound(order_id=order_id)
    request_fingerprint = idempotency.fingerprint({"order_id": order.pk, "token": token})
    claim = _claim(order=order, customer_id=customer_id, key=key, request_fingerprint=request_fingerprint)
    if claim is None:  # answered before: the same answer
        return Paid(order=_order(customer_id, order_id), payment=_payment_of(order.pk))
    try:
        payment = _charge(order=order, customer_id=customer_id, key=key, token=token)
    except BaseException:
        PayRequest.objects.filter(pk=claim.pk, finished_at__isnull=True).delete()
        raise
    PayRequest.objects.filter(pk=claim.pk).update(payment_id=payment.id, finished_at=timezone.now())
    return Paid(order=_order(customer_id, order_id), payment=payment)


def _claim(*, order: Order, customer_id: int, key: str, request_fingerprint: str) -> PayRequest | None:
    """This request's claim on the key, or ``None`` when the key already has an answer."""
    now = timezone.now()
    try:
        with registry.atomic("orders"):
            claim, created = PayRequest.objects.select_for_update().get_or_create(
                customer_id=customer_id,
                idempotency_key=key,
                defaults={"order": order, "request_fingerprint": request_fingerprint, "claimed_at": now},
            )
            if created:
                return claim
            if claim.request_fingerprint != request_fingerprint:
                raise api.IdempotencyKeyReused(
                    "This Idempotency-Key paid with another order or token; use a new key for a new payment."
                )
            if claim.finished_at is not None:
                return None
            if claim.claimed_at > now - CLAIM_LEASE:
                raise api.IdempotencyKeyInUse()
            claim.claimed_at = now  # abandoned by a request that died: take it over
            claim.save(update_fields=["claimed_at"])
            return claim
    except IntegrityError:  # a twin inserted the claim between our look and our insert
        raise api.IdempotencyKeyInUse() from None


def _charge(*, order: Order, customer_id: int, key: str, token: str) -> Payment:
    if lifecycle.is_overdue(order):
        try:
            lifecycle.expire(order_id=order.pk)
        except api.IllegalTransition:
            pass  # paid (or cancelled) meanwhile: decide on what it is now
        order = selectors.order_by_id(order_id=order.pk) or order
    if lifecycle.was_expired(order):
        raise api.OrderExpired(
            f"Order {order.number} was not paid in time and has been cancelled; its items went back to stock.",
            order_id=order.pk,
        )
    if order.status not in (api.PENDING_PAYMENT, api.PAID):  # paid: payments replays the key, or already_paid
        raise api.IllegalTransition(
            f"An order that is {order.status.replace('_', ' ')} cannot be paid.",
            from_status=order.status,
            to_status=api.PAID,
        )
    payment = registry.get(PaymentsAPI).start_payment(
        order_id=order.pk,
        customer_id=customer_id,
        amount=order.total,
        token=token,
        idempotency_key=payments_key(order_id=order.pk, key=key),
        order_number=order.number,
        return_url=status_page.status_page_url(order_id=order.pk),  # where 3-D Secure sends the customer back
    )
    if payment.status == SUCCEEDED:  # at once, not only when the event arrives (idempotent)
        lifecycle.payment_succeeded(order_id=order.pk, payment_id=payment.id)
    return payment


def payments_key(*, order_id: int, key: str) -> str:
    """The key payments gets: scoped to the order, and bounded whatever the customer's key (up to 255
    characters) is, so a retry of the same request is the same charge."""
    return f"order-{order_id}-{hashlib.sha256(key.encode()).hexdigest()[:40]}"


def _order(customer_id: int, order_id: int) -> api.Order:
    order = selectors.order_of(customer_id=customer_id, order_id=order_id)
    assert order is not None  # orders are never deleted
    return selectors.to_order_dto(order)


def _payment_of(order_id: int) -> Payment | None:
    try:
        return registry.get(PaymentsAPI).payment_for_order(order_id=order_id)
    except ContextUnavailable:
        return None
