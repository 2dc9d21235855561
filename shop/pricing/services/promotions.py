"""Which promotions apply to a basket, and how much each takes off where: one deterministic rule.

1. **Order.** Promotions are taken by ``priority`` (higher first), then by id (older first): ``ordered``.
2. **Items first.** Each line walks the catalogue promotions that cover it (its SKU, one of its categories or
   an ancestor of one, or everything) in that order. A percentage takes that share of what the line still
   costs; a fixed amount takes that much per unit; neither takes more than is left, so a line never goes
   below zero. An exclusive promotion applies only to a line nothing has discounted yet, and nothing
   applies after it. **Buy X get Y** looks at every unit it covers across the lines: each full group of X + Y
   units (at most ``max_applications`` groups) makes the Y cheapest units of the basket's covered units
   ``value`` % off (100: free), so "3 for 2" on six socks frees the two cheapest, never more.
3. **Then the order.** The order promotions whose threshold (``min_subtotal``) the goods meet after item
   discounts walk the same way over the order: a percentage of what the goods still cost, a fixed amount
   (at most that), or free shipping. Exclusive means alone among order promotions.
4. **Allocation.** An order discount is spread over the lines pro rata to what each still costs, in
   minor units rounded down; the cents left over go one by one to the lines that still cost the most
   (ties: the earlier line), never beyond what a line costs. Every line carries its share, so a refund of
   some lines gives back exactly what was paid for them.

Amounts are in the quote's price entry mode (gross or net); tax is computed afterwards on what is left.
Pure functions: the rules come in from ``selectors.running_promotions``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal

from shop.kernel import Money
from shop.pricing import api
from shop.pricing.selectors import Rule

CATALOGUE = "catalogue"
ORDER = "order"
PERCENTAGE = "percentage"
FIXED = "fixed"
FREE_SHIPPING = "free_shipping"
BUY_X_GET_Y = "buy_x_get_y"
HUNDRED = Decimal(100)


@dataclass(frozen=True, kw_only=True, slots=True)
class Target:
    """A line as promotions see it: what it is and what it costs before discounts (entry mode)."""

    sku: str
    quantity: int
    category_ids: Sequence[int]
    subtotal: Money


@dataclass(frozen=True, kw_only=True, slots=True)
class Applied:
    """The discounts of each line (in the order of the targets) and the free-shipping grant, if any."""

    lines: list[list[api.Discount]]
    free_shipping: Rule | None = None
    applied: list[int] = field(default_factory=list)  # ids of the promotions that took something


def ordered(rules: Sequence[Rule]) -> list[Rule]:
    """The one order promotions are considered in: higher priority first, then the older (lower id)."""
    return sorted(rules, key=lambda rule: (-rule.priority, rule.id))


def covers(rule: Rule, target: Target) -> bool:
    return rule.everything or target.sku in rule.skus or bool(rule.category_ids.intersection(target.category_ids))


def _discount(rule: Rule, amount: Money) -> api.Discount:
    return api.Discount(source=rule.source or f"promotion:{rule.id}", label=rule.label, amount=amount)


def _taken(rule: Rule, *, left: Money, quantity: int = 1) -> Money:
    """What ``rule`` takes off ``left`` (``quantity`` units for a fixed amount per unit), never more than ``left``."""
    if rule.benefit == PERCENTAGE:
        wanted = Money(left.amount * min(rule.value, HUNDRED) / HUNDRED, left.currency)
    else:
        wanted = Money(rule.value * quantity, left.currency)
    return min(wanted, left, key=lambda money: money.amount)


def allocate(amount: Money, weights: Sequence[Money]) -> list[Money]:
    """``amount`` spread over lines pro rata to ``weights`` (what each still costs), in minor units, the
    remainder cent by cent to the largest lines; no line gets more than its weight. ``amount`` must not
    exceed the weights' sum."""
    currency = amount.currency
    unit = Money.from_minor(1, currency).amount
    total = sum((w.amount for w in weights), Decimal(0))
    if total <= 0 or amount.amount <= 0:
        return [Money.zero(currency) for _ in weights]
    shares = [(amount.amount * w.amount / total).quantize(unit, rounding=ROUND_DOWN) for w in weights]
    left = amount.amount - sum(shares, Decimal(0))
    by_size = sorted(range(len(weights)), key=lambda i: (-weights[i].amount, i))
    while left > 0:
        for i in by_size:
            if left <= 0:
                break
            if shares[i] + unit <= weights[i].amount:
                shares[i] += unit
                left -= unit
    return [Money(share, currency) for share in shares]


def buy_x_get_y(rule: Rule, targets: Sequence[Target], left: Sequence[Money]) -> dict[int, Money]:
    """What buy-X-get-Y takes off each of ``targets`` (by index): the cheapest ``Y`` units of every full group
    of ``X + Y`` covered units, capped by ``max_applications``; never more than a line has left. Works on
    (price, count) runs, not on single units, so 100 000 units cost what 1 does."""
    group = rule.buy_quantity + rule.get_quantity
    if rule.buy_quantity < 1 or rule.get_quantity < 1 or not targets:
        return {}
    applications = sum(t.quantity for t in targets) // group
    if rule.max_applications is not None:
        applications = min(applications, rule.max_applications)
    to_discount = applications * rule.get_quantity
    runs = sorted(
        ((t.subtotal.amount / t.quantity, i) for i, t in enumerate(targets)), key=lambda run: (run[0], run[1])
    )
    taken: dict[int, Money] = {}
    for unit, i in runs:  # the cheapest units first
        if to_discount <= 0:
            break
        count = min(to_discount, targets[i].quantity)
        to_discount -= count
        currency = targets[i].subtotal.currency
        amount = min(Money(unit * count * min(rule.value, HUNDRED) / HUNDRED, currency), left[i], key=_amount)
        if amount.amount > 0:
            taken[i] = amount
    return taken


def _amount(money: Money) -> Decimal:
    return money.amount


def apply(rules: Sequence[Rule], targets: Sequence[Target], currency: str) -> Applied:
    """The rule of the module docstring, over ``rules`` (every running promotion) and the basket."""
    zero = Money.zero(currency)
    lines: list[list[api.Discount]] = [[] for _ in targets]
    left = [target.subtotal for target in targets]
    exclusive_line = [False for _ in targets]
    applied: list[int] = []
    rules = ordered(rules)
    for rule in (r for r in rules if r.kind == CATALOGUE):
        if rule.benefit == BUY_X_GET_Y:
            eligible = [
                i
                for i, target in enumerate(targets)
                if not exclusive_line[i] and covers(rule, target) and not (rule.exclusive and lines[i])
            ]
            for i, taken in buy_x_get_y(rule, [targets[i] for i in eligible], [left[i] for i in eligible]).items():
                index = eligible[i]
                lines[index].append(_discount(rule, taken))
                left[index] -= taken
                exclusive_line[index] = rule.exclusive
                if rule.id not in applied:
                    applied.append(rule.id)
            continue
        for i, target in enumerate(targets):
            if exclusive_line[i] or not covers(rule, target) or (rule.exclusive and lines[i]):
                continue
            taken = _taken(rule, left=left[i], quantity=target.quantity)
            if taken.amount <= 0:
                continue
            lines[i].append(_discount(rule, taken))
            left[i] -= taken
            exclusive_line[i] = rule.exclusive
            if rule.id not in applied:
                applied.append(rule.id)
    goods = sum(left, zero)
    free_shipping: Rule | None = None
    order_taken = False
    for rule in (r for r in rules if r.kind == ORDER):
        if rule.min_subtotal is not None and goods.amount < rule.min_subtotal:
            continue
        if rule.exclusive and order_taken:
            continue
        if rule.benefit == FREE_SHIPPING:
            if free_shipping is None:
                free_shipping = rule
                applied.append(rule.id)
                order_taken = True
        else:
            remaining = sum(left, zero)
            taken = _taken(rule, left=remaining)
            if taken.amount <= 0:
                continue
            for i, share in enumerate(allocate(taken, left)):
                if share.amount > 0:
                    lines[i].append(_discount(rule, share))
                    left[i] -= share
            applied.append(rule.id)
            order_taken = True
        if rule.exclusive:
            break
    return Applied(lines=lines, free_shipping=free_shipping, applied=applied)


def shipping_discount(rule: Rule, price: Money) -> list[api.Discount]:
    """Free shipping: the whole price of the chosen method (whatever it is) comes off."""
    return [_discount(rule, price)] if price.amount > 0 else []
