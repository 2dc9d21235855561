"""Webhooks: verified on the raw body, stored once by event id, processed by a task.

``ingest`` is what the HTTP endpoint (and the simulator's "provider" page) call: it verifies
(``InvalidWebhook`` → nothing stored), stores the event with what it says unless its id is known,
and queues its processing. ``process`` applies one stored event through the status machine, so a
replayed or out-of-order event never moves a payment backwards. Events whose processing could not
be queued (broker down) are picked up by ``process_pending``, run by the reconciliation task.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError
from django.utils import timezone

from shop import registry
from shop.payments import api
from shop.payments.adapters import calls
from shop.payments.adapters.gateways import get_gateway
from shop.payments.adapters.gateways.base import InvalidWebhook
from shop.payments.models import Payment, WebhookEvent
from shop.payments.services import settle

log = logging.getLogger(__name__)
# By name: the task module imports this one (tasks are the entry points above services, import-linter C4).
PROCESS_TASK = "shop.payments.process_webhook_event"


@dataclass(frozen=True, kw_only=True, slots=True)
class Ingested:
    event_id: str
    duplicate: bool


def ingest(*, gateway_name: str, body: bytes, headers: Mapping[str, str]) -> Ingested:
    gateway = get_gateway(gateway_name)
    try:
        event = gateway.parse_webhook(body=body, headers=headers)
    except InvalidWebhook as exc:
        raise api.InvalidWebhook(str(exc) or None) from exc
    try:
        with registry.atomic("payments"):
            row = WebhookEvent.objects.create(
                gateway=gateway.name,
                event_id=event.event_id,
                kind=event.kind,
                reference=event.reference,
                failure_code=event.failure_code[:60],
                failure_message=event.failure_message[:255],
                amount_refunded=event.amount_refunded.amount if event.amount_refunded else None,
                currency=event.amount_refunded.currency if event.amount_refunded else "",
                raw_body=body.decode("utf-8", errors="replace"),
            )
    except IntegrityError:
        return Ingested(event_id=event.event_id, duplicate=True)
    try:
        registry.task(PROCESS_TASK).delay(row.pk)
    except Exception:  # stored: the reconciliation sweep processes it
        log.warning("could not queue webhook %s; the sweep will process it", row.event_id, exc_info=True)
    return Ingested(event_id=event.event_id, duplicate=False)


def process(*, webhook_id: int) -> str:
    """Apply one stored event (idempotent: a processed event is skipped). Returns what happened."""
    with registry.atomic("payments"):
        row = WebhookEvent.objects.select_for_update().filter(pk=webhook_id).first()
        if row is None or row.processed_at is not None:
            return "already processed"
        payment = Payment.objects.filter(gateway=row.gateway, gateway_reference=row.reference).first()
        result = "unknown payment"
        if payment is not None:
            locked = settle.lock(payment.pk)
            refusal = _contradiction(locked, row)
            if refusal:
                row.refused = True
                result = f"refused: {refusal}"
                calls.record(
                    locked,
                    kind=api.TransactionKind.WEBHOOK,
                    outcome="refused",
                    reference=row.reference,
                    response={"event": row.event_id},
                )
                log.error("webhook %s refused for payment %s: %s", row.event_id, locked.pk, refusal)
            else:
                result = _apply(locked, row)
        row.processed_at = timezone.now()
        row.result = result[:100]
        row.save(update_fields=["processed_at", "result", "refused"])
    return result


def _contradiction(payment: Payment, row: WebhookEvent) -> str:
    """Why a verified event cannot be true of this payment ("" when it can): a refund in another
    currency, or a refunded total above what was captured. Signed is not the same as right."""
    if row.kind != "payment.refunded" or row.amount_refunded is None:
        return ""
    if row.currency and row.currency != payment.currency:
        return f"refund in {row.currency}, the payment is in {payment.currency}"
    if row.amount_refunded > payment.amount_amount:
        return f"refunded {row.amount_refunded} exceeds the {payment.amount_amount} captured"
    return ""


def _apply(payment: Payment, row: WebhookEvent) -> str:
    moved = False
    if row.kind == "payment.succeeded":
        moved = settle.to_status(payment, api.SUCCEEDED)
    elif row.kind == "payment.failed":
        moved = settle.to_status(
            payment, api.FAILED, failure_code=row.failure_code or "declined", failure_message=row.failure_message
        )
    elif row.kind == "payment.refunded" and row.amount_refunded is not None:
        moved = settle.refunded_to(payment, row.amount_refunded)
    calls.record(
        payment,
        kind=api.TransactionKind.WEBHOOK,
        outcome=row.kind,
        reference=row.reference,
        response={"event": row.event_id},
    )
    return f"{row.kind}: {'applied' if moved else 'no change'} ({payment.status})"


def process_pending(*, older_than_s: int = 60, limit: int = 200) -> int:
    due = WebhookEvent.objects.filter(
        processed_at__isnull=True, received_at__lt=timezone.now() - timedelta(seconds=older_than_s)
    ).values_list("pk", flat=True)[:limit]
    return sum(1 for pk in list(due) if not process(webhook_id=pk).startswith("already"))
