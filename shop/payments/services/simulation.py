"""The simulated provider's clock: a ``tok_delayed_success`` payment clears on its own.

A real provider settles a delayed payment (a bank transfer, a card under review) by itself and
tells us with a webhook. The simulator has no process of its own, so the periodic job
``settle-simulated-payments`` plays that part: each simulated payment still pending
``SHOP_SIMULATED_SETTLE_AFTER_S`` after its attempt is cleared at the simulator, and the signed
webhook the simulator answers with goes through ``webhooks.ingest`` — the code a real provider's
webhook goes through, so the payment moves by the same status machine and events.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.utils import timezone

from shop.payments import api
from shop.payments.adapters.gateways.base import GatewayRejected
from shop.payments.adapters.gateways.simulated import SimulatedGateway
from shop.payments.models import Payment
from shop.payments.services import webhooks

log = logging.getLogger(__name__)


def settle_delayed_payments(*, older_than_s: float, limit: int = 100) -> int:
    """Clear the simulated payments pending at least ``older_than_s``; returns how many webhooks came in."""
    gateway = SimulatedGateway()
    references = list(
        Payment.objects.filter(
            gateway=gateway.name,
            status=api.PENDING,
            updated_at__lte=timezone.now() - timedelta(seconds=older_than_s),
        )
        .exclude(gateway_reference="")  # the call is still in flight: nothing to clear yet
        .order_by("updated_at")
        .values_list("gateway_reference", flat=True)[:limit]
    )
    settled = 0
    for reference in references:
        try:
            body, headers = gateway.settle(reference)
        except GatewayRejected as exc:  # decided already (its webhook is on its way), or unknown to the simulator
            log.info("simulated settlement skipped for %s: %s", reference, exc)
            continue
        webhooks.ingest(gateway_name=gateway.name, body=body, headers=headers)
        settled += 1
    return settled
