"""Staff's writes to promotions and vouchers, for the admin and the staff API alike: one set of rules for
what a quote could apply (``check_promotion``), so neither door lets in a promotion the rule cannot use."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shop import registry
from shop.kernel import ValidationFailed
from shop.pricing import api
from shop.pricing.models import Promotion, Voucher
from shop.pricing.services.vouchers import CODE_RE, normalised

CATALOGUE, ORDER = Promotion.Kind.CATALOGUE, Promotion.Kind.ORDER
BXGY = Promotion.Benefit.BUY_X_GET_Y


def promotion_problems(fields: Mapping[str, Any]) -> dict[str, list[str]]:
    """What makes these fields (a whole promotion) one the quote could not apply: field → messages."""
    problems: dict[str, list[str]] = {}

    def say(field: str, message: str) -> None:
        problems.setdefault(field, []).append(message)

    kind, benefit, value = fields.get("kind"), fields.get("benefit"), fields.get("value") or 0
    scoped = fields.get("everything") or str(fields.get("skus") or "").strip() or fields.get("category_ids")
    if kind == CATALOGUE:
        if not scoped:
            say("everything", "An items promotion covers everything, some SKUs or some categories.")
        if fields.get("min_subtotal") is not None:
            say("min_subtotal", "A threshold belongs to order promotions.")
        if benefit == Promotion.Benefit.FREE_SHIPPING:
            say("benefit", "Free shipping is an order promotion.")
    elif scoped:
        say("skus", "An order promotion covers the whole order: leave SKUs and categories empty.")
    if value < 0:
        say("value", "A value is never negative.")
    if benefit in (Promotion.Benefit.PERCENTAGE, BXGY) and value > 100:
        say("value", "A percentage is at most 100.")
    if benefit == BXGY:
        if kind != CATALOGUE:
            say("benefit", "Buy X get Y is an items promotion.")
        if not (fields.get("buy_quantity") and fields.get("get_quantity")):
            say("buy_quantity", "Buy X get Y needs both X and Y (at least 1).")
    elif any(fields.get(name) is not None for name in ("buy_quantity", "get_quantity", "max_applications")):
        say("buy_quantity", "X, Y and the cap belong to buy X get Y promotions.")
    ids = fields.get("category_ids") or []
    if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) and i > 0 for i in ids):
        say("category_ids", "A list of category ids, e.g. [3, 7].")
    starts, ends = fields.get("starts_at"), fields.get("ends_at")
    if starts and ends and ends <= starts:
        say("ends_at", "The end comes after the start.")
    return problems


def _checked(fields: Mapping[str, Any]) -> None:
    if problems := promotion_problems(fields):
        raise ValidationFailed("This promotion could not be applied as given.", errors=problems)


def create_promotion(**fields: Any) -> Promotion:
    _checked(fields)
    with registry.atomic("pricing"):
        return Promotion.objects.create(**fields)


def update_promotion(*, promotion_id: int, **changes: Any) -> Promotion:
    """Change some fields; the promotion they make together is checked whole."""
    with registry.atomic("pricing"):
        promotion = Promotion.objects.select_for_update().filter(pk=promotion_id).first()
        if promotion is None:
            raise api.PromotionNotFound()
        for name, value in changes.items():
            setattr(promotion, name, value)
        _checked({field.name: getattr(promotion, field.name) for field in Promotion._meta.concrete_fields})
        if changes:
            promotion.save(update_fields=list(changes))
        return promotion


def create_voucher(*, code: str, promotion_id: int, **fields: Any) -> Voucher:
    code = normalised(code)
    if not CODE_RE.match(code):
        raise ValidationFailed("Letters, digits and dashes, at most 40.", errors={"code": ["Not a voucher code."]})
    with registry.atomic("pricing"):
        if not Promotion.objects.filter(pk=promotion_id, requires_voucher=True).exists():
            raise ValidationFailed("A promotion that requires a voucher.", errors={"promotion": ["Not one."]})
        if Voucher.objects.filter(code=code).exists():
            raise api.VoucherCodeTaken(voucher=code)
        return Voucher.objects.create(code=code, promotion_id=promotion_id, **fields)


def set_voucher_active(*, code: str, is_active: bool) -> Voucher:
    """Switch a code on or off; orders already placed keep their discount and their use."""
    with registry.atomic("pricing"):
        updated = Voucher.objects.filter(code=normalised(code)).update(is_active=is_active)
        if not updated:
            raise api.VoucherUnknown("No such voucher.", voucher=normalised(code))
        return Voucher.objects.get(code=normalised(code))
