"""What a staff refund would do to each payment, worked out before anything moves, so the admin can
show it and ask first: the same rules ``charges.refund`` enforces (a succeeded payment, never more
than what is left of it). Nothing here changes anything."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from shop.kernel import Money
from shop.payments import api
from shop.payments.models import Payment

REFUNDABLE = (api.SUCCEEDED, api.PARTIALLY_REFUNDED)


@dataclass(frozen=True, kw_only=True, slots=True)
class Preview:
    """What a refund of one payment will send back (``refusal`` empty), or why nothing will happen."""

    payment_id: int
    refundable: Money  # what is left of the payment before this refund
    refund: Money | None = None
    refusal: str = ""

    @property
    def left_after(self) -> Money | None:
        return self.refundable - self.refund if self.refund is not None else None


def refund(payments: Sequence[Payment], amounts: Mapping[int, Money] | None = None) -> dict[int, Preview]:
    """Per payment: ``amounts[payment id]``, or (no amount) all that is left of it."""
    previews: dict[int, Preview] = {}
    for payment in payments:
        left = payment.amount - payment.refunded
        wanted = (amounts or {}).get(payment.pk)
        found = Preview(payment_id=payment.pk, refundable=left)
        if payment.status not in REFUNDABLE:
            why = f"it is {payment.get_status_display()}: only a succeeded payment is refunded."
            previews[payment.pk] = replace(found, refusal=why)
        elif left.amount <= 0:
            previews[payment.pk] = replace(found, refusal="nothing is left of it to refund.")
        elif wanted is not None and (wanted.currency != left.currency or wanted.amount > left.amount):
            previews[payment.pk] = replace(found, refusal=f"{wanted} is more than the {left} left of it.")
        else:
            previews[payment.pk] = replace(found, refund=wanted if wanted is not None else left)
    return previews
