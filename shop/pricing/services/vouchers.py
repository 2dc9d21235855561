"""Vouchers: codes that unlock a promotion, and their uses, counted so that limits hold under concurrency.

**When a use counts.** A quote only checks a code (a cart may show it to many). Checkout *holds* a use for the
order before the order is written (``redeem``: all codes or none, compensated by ``release`` when the order then
fails); a use that took nothing off (zero discount) is not held. The order's cancellation or expiry gives the use
back (``release``, from the orders context's own ``OrderCancelled`` handler, so a lost call is retried by the
bus); payment does not change it. So ``Voucher.used`` = uses held by placed orders that are not cancelled.

**Why it holds.** ``redeem`` takes the vouchers' row locks (in id order: no deadlock between two checkouts with
the same two codes), re-checks the per-customer count under the lock, and raises ``used`` with one conditional
``UPDATE … WHERE used < usage_limit``; a database constraint (``used <= usage_limit``) backs it up. The check in a
quote is advice; the one in ``redeem`` decides (unlike django-oscar #4580, where the check and the count were
apart and concurrent checkouts all passed the check).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from datetime import datetime

from django.db.models import F, Q
from django.utils import timezone

from shop import registry
from shop.kernel import Money, ValidationFailed
from shop.pricing import api, selectors
from shop.pricing.models import Voucher, VoucherUse
from shop.pricing.selectors import Rule, VoucherRecord

CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,39}$")
MAX_CODES = 5


def normalised(code: str) -> str:
    """Codes compare without case or surrounding spaces ("summer-10 " is "SUMMER-10")."""
    return str(code).strip().upper()


def checked_codes(codes: Sequence[str]) -> list[str]:
    """The codes, normalised and once each; a malformed one is simply unknown (no hint for guessers)."""
    if isinstance(codes, str | bytes) or len(codes) > MAX_CODES:
        raise ValidationFailed(f"At most {MAX_CODES} voucher codes.", errors={"voucher_codes": ["Too many."]})
    result = []
    for given in codes:
        code = normalised(given)
        if not CODE_RE.match(code):
            raise api.VoucherUnknown("No such voucher.", voucher=code[:40])
        if code not in result:
            result.append(code)
    return result


def _check(record: VoucherRecord | None, code: str, *, now: datetime, first_order: bool | None) -> VoucherRecord:
    if record is None or not record.is_active:
        raise api.VoucherUnknown("No such voucher.", voucher=code)
    if not record.promotion_running or (record.starts_at and record.starts_at > now):
        raise api.VoucherExpired("This voucher is not valid yet.", voucher=code)
    if record.ends_at and record.ends_at <= now:
        raise api.VoucherExpired("This voucher has expired.", voucher=code)
    if record.first_order_only and first_order is False:
        raise api.VoucherNotApplicable("This voucher is for a first order only.", voucher=code)
    return record


def unlocked_rules(
    codes: Sequence[str], *, customer_id: int | None, first_order: bool | None, goods: Money, now: datetime
) -> list[Rule]:
    """The promotions ``codes`` unlock for this basket (``goods``: what the items cost before discounts), each
    code checked as a quote can: known, running, within its limits (advice: ``redeem`` decides), minimum met."""
    codes = checked_codes(codes)
    if not codes:
        return []
    records = selectors.vouchers_by_codes(codes, now=now)
    checked = [_check(records.get(code), code, now=now, first_order=first_order) for code in codes]
    held = selectors.uses_held_by(customer_id, [r.id for r in checked]) if customer_id else {}
    rules: list[Rule] = []
    for record in checked:
        if record.usage_limit is not None and record.used >= record.usage_limit:
            raise api.VoucherExhausted("This voucher has been used up.", voucher=record.code, limit="total")
        if record.per_customer_limit is not None and held.get(record.id, 0) >= record.per_customer_limit:
            raise api.VoucherExhausted(
                "You have used this voucher as often as you may.", voucher=record.code, limit="customer"
            )
        if record.min_subtotal is not None and goods.amount < record.min_subtotal:
            raise api.VoucherMinSubtotal(
                f"This voucher needs goods of at least {record.min_subtotal}.",
                voucher=record.code,
                min_subtotal=str(record.min_subtotal),
            )
        if any(rule.id == record.rule.id for rule in rules):
            raise api.VoucherNotApplicable("Another code already unlocks this promotion.", voucher=record.code)
        rules.append(record.rule)
    return rules


def applied(rules: Sequence[Rule], discounts: Sequence[api.Discount], currency: str) -> list[api.VoucherApplied]:
    """What each code took off in all (lines and shipping), zero included."""
    return [
        api.VoucherApplied(
            code=rule.source.removeprefix("voucher:"),
            label=rule.label,
            discount=sum((d.amount for d in discounts if d.source == rule.source), Money.zero(currency)),
        )
        for rule in rules
    ]


def redeem(*, customer_id: int, order_reference: str, uses: Sequence[api.VoucherUse]) -> None:
    """Hold the uses for the order, all or none (see the module docstring for why the limits hold)."""
    wanted = {normalised(use.code): use for use in uses if use.discount.amount > 0}
    if not wanted:
        return
    now = timezone.now()
    with registry.atomic("pricing"):
        locked = {v.code: v for v in Voucher.objects.select_for_update().filter(code__in=wanted).order_by("pk")}
        done = set(
            VoucherUse.objects.filter(voucher__code__in=wanted, order_reference=order_reference).values_list(
                "voucher__code", flat=True
            )
        )
        for code in sorted(wanted):
            if code in done:
                continue  # this order holds it already: a retried redemption
            voucher = locked.get(code)
            if voucher is None or not voucher.is_active:
                raise api.VoucherUnknown("No such voucher.", voucher=code)
            if (voucher.starts_at and voucher.starts_at > now) or (voucher.ends_at and voucher.ends_at <= now):
                raise api.VoucherExpired("This voucher is not valid now.", voucher=code)
            if voucher.per_customer_limit is not None:
                held = VoucherUse.objects.filter(voucher=voucher, customer_id=customer_id, released_at__isnull=True)
                if held.count() >= voucher.per_customer_limit:
                    raise api.VoucherExhausted(
                        "You have used this voucher as often as you may.", voucher=code, limit="customer"
                    )
            raised = (
                Voucher.objects.filter(pk=voucher.pk)
                .filter(Q(usage_limit__isnull=True) | Q(used__lt=F("usage_limit")))
                .update(used=F("used") + 1)
            )
            if not raised:
                raise api.VoucherExhausted("This voucher has been used up.", voucher=code, limit="total")
            VoucherUse.objects.create(
                voucher=voucher,
                customer_id=customer_id,
                order_reference=order_reference,
                discount_amount=wanted[code].discount.amount,
            )


def release(*, order_reference: str) -> None:
    """Give back what the order holds; a second call finds nothing to give back."""
    with registry.atomic("pricing"):
        held = list(
            VoucherUse.objects.select_for_update().filter(order_reference=order_reference, released_at__isnull=True)
        )
        now = timezone.now()
        for use in held:
            VoucherUse.objects.filter(pk=use.pk).update(released_at=now)
            Voucher.objects.filter(pk=use.voucher_id, used__gt=0).update(used=F("used") - 1)


ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"  # no 0/O, 1/I/L, U: read out and typed without mistakes
MAX_GENERATED = 100_000


def generate(
    *,
    promotion_id: int,
    count: int,
    prefix: str = "",
    usage_limit: int | None = 1,
    per_customer_limit: int | None = None,
    batch: str = "",
) -> str:
    """``count`` new unique codes for the promotion (``PREFIX-XXXXXXXX``, 40 random bits each), in one batch
    whose name it returns; codes that happen to exist already are drawn again, so exactly ``count`` are made."""
    if not 1 <= count <= MAX_GENERATED:
        raise ValidationFailed(f"Between 1 and {MAX_GENERATED} codes at once.", errors={"count": ["Out of range."]})
    prefix = normalised(prefix).strip("-")
    if (prefix and not CODE_RE.match(prefix)) or len(prefix) > 30:
        raise ValidationFailed("A prefix of letters, digits and dashes.", errors={"prefix": ["Not a code prefix."]})
    batch = batch or f"{prefix or 'batch'}-{timezone.now():%Y%m%d-%H%M%S}"
    with registry.atomic("pricing"):
        existing = Voucher.objects.filter(batch=batch).count()  # a batch name reused: count only the new ones
        made = 0
        while made < count:
            codes = {_code(prefix) for _ in range(count - made)}
            rows = [
                Voucher(
                    code=code,
                    promotion_id=promotion_id,
                    usage_limit=usage_limit,
                    per_customer_limit=per_customer_limit,
                    batch=batch,
                )
                for code in codes
            ]
            before = Voucher.objects.filter(batch=batch).count()
            Voucher.objects.bulk_create(rows, ignore_conflicts=True, batch_size=2000)
            made = Voucher.objects.filter(batch=batch).count() - existing
            if made + existing == before:  # nothing new could be inserted: the prefix space is exhausted
                raise ValidationFailed("Could not make that many distinct codes.", errors={"count": ["Too many."]})
    return batch


def _code(prefix: str) -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return f"{prefix}-{body}" if prefix else body
