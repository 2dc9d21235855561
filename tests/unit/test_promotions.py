"""The promotions rule (``shop.pricing.services.promotions``), pure: which promotions apply, in what order,
how they stack, and how an order discount is spread over lines. Peers' bugs this guards against: two
promotions driving a line below zero (Medusa #14899), an order discount not carried by the lines (refunds
then give back the wrong amount), a different outcome for the same promotions listed in another order."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from shop.kernel import Money
from shop.pricing.selectors import Rule
from shop.pricing.services.promotions import Target, allocate, apply, ordered

EUR = "EUR"
CENT = Decimal("0.01")


def eur(amount: str) -> Money:
    return Money(Decimal(amount), EUR)


def target(sku: str, subtotal: str, *, quantity: int = 1, categories: tuple[int, ...] = ()) -> Target:
    return Target(sku=sku, quantity=quantity, category_ids=categories, subtotal=eur(subtotal))


def rule(rule_id: int, kind: str = "catalogue", benefit: str = "percentage", value: str = "10", **kw: object) -> Rule:
    defaults: dict[str, object] = {"everything": kind == "catalogue" and "skus" not in kw and "category_ids" not in kw}
    return Rule(
        id=rule_id, label=f"promo {rule_id}", kind=kind, benefit=benefit, value=Decimal(value), **{**defaults, **kw}
    )  # type: ignore[arg-type]


def taken(applied: list[list[object]]) -> list[list[str]]:
    return [[str(d.amount.amount) for d in line] for line in applied]  # type: ignore[attr-defined]


# --- worked cases ----------------------------------------------------------------------------------------
def test_a_percentage_covers_skus_and_categories_with_their_descendants() -> None:
    lines = [target("TEE", "20.00", categories=(1, 5)), target("MUG", "10.00", categories=(2,)), target("HAT", "8.00")]
    by_category = rule(1, category_ids=frozenset({1}), value="50")  # category 1 is TEE's ancestor
    by_sku = rule(2, skus=frozenset({"HAT"}), value="25")

    result = apply([by_category, by_sku], lines, EUR)

    assert taken(result.lines) == [["10.00"], [], ["2.00"]]
    assert result.applied == [1, 2]


def test_combinable_promotions_apply_in_turn_and_never_below_zero() -> None:
    """20 % then 15.00 per unit off a 20.00 line: 4.00, then only the 16.00 left — never negative."""
    lines = [target("TEE", "20.00")]

    result = apply([rule(1, value="20", priority=2), rule(2, benefit="fixed", value="15", priority=1)], lines, EUR)

    assert taken(result.lines) == [["4.00", "15.00"]]
    result = apply([rule(1, value="20", priority=1), rule(2, benefit="fixed", value="30", priority=2)], lines, EUR)
    assert taken(result.lines) == [["20.00"]]  # the fixed 30 takes all 20; the 20 % finds nothing left


def test_an_exclusive_promotion_applies_alone() -> None:
    lines = [target("TEE", "100.00"), target("MUG", "100.00")]
    first = rule(1, value="10", priority=5)
    exclusive = rule(2, value="30", exclusive=True, priority=1, skus=frozenset({"MUG"}))
    after = rule(3, value="5", priority=0)

    result = apply([after, exclusive, first], lines, EUR)

    # TEE: 10 % then 5 %; MUG: the 10 % came first, so the exclusive 30 % is skipped, the 5 % applies.
    assert taken(result.lines) == [["10.00", "4.50"], ["10.00", "4.50"]]
    alone = apply([exclusive.__class__(**{**_fields(exclusive), "priority": 9}), first, after], lines, EUR)
    assert taken(alone.lines) == [["10.00", "4.50"], ["30.00"]]  # first on MUG: nothing after it


def _fields(r: Rule) -> dict[str, object]:
    return {name: getattr(r, name) for name in r.__slots__}  # type: ignore[attr-defined]


def test_an_order_discount_needs_its_threshold_after_item_discounts_and_is_spread_over_lines() -> None:
    lines = [target("TEE", "60.00"), target("MUG", "30.00"), target("PEN", "10.00")]
    item = rule(1, skus=frozenset({"TEE"}), value="50")  # goods: 30 + 30 + 10 = 70
    over_80 = rule(2, kind="order", benefit="fixed", value="10", min_subtotal=Decimal("80"))
    over_50 = rule(3, kind="order", benefit="fixed", value="10", min_subtotal=Decimal("50"))

    result = apply([item, over_80, over_50], lines, EUR)

    assert result.applied == [1, 3]
    # 10 x 30/70 = 4.2857 -> 4.28 twice, 10 x 10/70 -> 1.42: 9.98; the 2 cents left go to the two largest lines.
    assert taken(result.lines) == [["30.00", "4.29"], ["4.29"], ["1.42"]]
    assert sum((d.amount for line in result.lines for d in line if d.source == "promotion:3"), eur("0")) == eur("10")


def test_free_shipping_is_granted_once_above_its_threshold() -> None:
    lines = [target("TEE", "45.00")]
    free = rule(1, kind="order", benefit="free_shipping", value="0", min_subtotal=Decimal("40"))

    assert apply([free], lines, EUR).free_shipping == free
    assert apply([free], [target("TEE", "39.99")], EUR).free_shipping is None


def test_three_for_two_frees_the_cheapest_units_once_per_group() -> None:
    socks = [target("SOCK-A", "15.00", quantity=3), target("SOCK-B", "12.00", quantity=3)]  # 5.00 and 4.00 a pair
    three_for_two = rule(1, benefit="buy_x_get_y", value="100", buy_quantity=2, get_quantity=1)

    assert taken(apply([three_for_two], socks, EUR).lines) == [[], ["8.00"]]  # 6 pairs: the 2 cheapest free
    capped = rule(1, benefit="buy_x_get_y", value="100", buy_quantity=2, get_quantity=1, max_applications=1)
    assert taken(apply([capped], socks, EUR).lines) == [[], ["4.00"]]


def test_buy_x_get_y_over_many_single_unit_lines_is_not_applied_too_often() -> None:
    """Medusa #14432: ten lines of one unit, "buy 2 get 1": three groups, so the three cheapest units only."""
    lines = [target(f"S{price}", f"{price}.00") for price in range(1, 11)]
    promo = rule(1, benefit="buy_x_get_y", value="100", buy_quantity=2, get_quantity=1)

    result = apply([promo], lines, EUR)

    assert taken(result.lines) == [["1.00"], ["2.00"], ["3.00"], *[[] for _ in range(7)]]
    half = rule(1, benefit="buy_x_get_y", value="50", buy_quantity=2, get_quantity=1)
    assert taken(apply([half], lines[:3], EUR).lines) == [["0.50"], [], []]


def test_a_huge_quantity_costs_what_one_unit_does() -> None:
    lines = [target("BOLT", "10000.00", quantity=100_000)]  # 0.10 a bolt
    promo = rule(1, benefit="buy_x_get_y", value="100", buy_quantity=9, get_quantity=1)

    assert taken(apply([promo], lines, EUR).lines) == [["1000.00"]]  # 10 000 free bolts


def test_allocation_gives_the_remainder_cent_by_cent_to_the_largest_lines() -> None:
    assert allocate(eur("0.10"), [eur("1.00"), eur("1.00"), eur("1.00")]) == [eur("0.04"), eur("0.03"), eur("0.03")]
    assert allocate(eur("3.00"), [eur("1.00"), eur("2.00")]) == [eur("1.00"), eur("2.00")]  # all of it
    assert allocate(eur("1.00"), [eur("0"), eur("5.00")]) == [eur("0"), eur("1.00")]


# --- properties ------------------------------------------------------------------------------------------
def _benefit(kind: str, benefit: str) -> str:
    """Draws that cannot exist (the model's constraints): free shipping on items, buy X get Y on the order."""
    if kind == "catalogue" and benefit == "free_shipping":
        return "percentage"
    if kind == "order" and benefit == "buy_x_get_y":
        return "fixed"
    return benefit


amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999.99"), places=2)
targets = st.lists(
    st.builds(
        lambda i, amount, qty, cats: Target(
            sku=f"S{i}", quantity=qty, category_ids=tuple(cats), subtotal=Money(amount, EUR)
        ),
        st.integers(0, 5),
        amounts,
        st.integers(1, 5),
        st.lists(st.integers(1, 4), max_size=2),
    ),
    min_size=1,
    max_size=6,
    unique_by=lambda t: t.sku,
)
rules = st.lists(
    st.builds(
        lambda rid, kind, benefit, value, cats, exclusive, priority, threshold: Rule(
            id=rid,
            label=f"p{rid}",
            kind=kind,
            benefit=_benefit(kind, benefit),
            value=value,
            everything=not cats,
            category_ids=frozenset(cats),
            min_subtotal=threshold if kind == "order" else None,
            exclusive=exclusive,
            priority=priority,
            buy_quantity=(rid % 3) + 1,
            get_quantity=(rid % 2) + 1,
            max_applications=None if rid % 4 else 1,
        ),
        st.integers(1, 10_000),
        st.sampled_from(["catalogue", "order"]),
        st.sampled_from(["percentage", "fixed", "free_shipping", "buy_x_get_y"]),
        st.decimals(min_value=Decimal(0), max_value=Decimal(100), places=2),
        st.lists(st.integers(1, 4), max_size=2),
        st.booleans(),
        st.integers(-2, 2),
        st.none() | amounts,
    ),
    max_size=6,
    unique_by=lambda r: r.id,
)


@given(targets, rules)
def test_no_line_is_discounted_below_zero_and_every_amount_is_in_cents(lines: list[Target], promos: list[Rule]) -> None:
    result = apply(promos, lines, EUR)

    for line, discounts in zip(lines, result.lines, strict=True):
        total = sum((d.amount for d in discounts), eur("0"))
        assert eur("0") <= total <= line.subtotal
        for discount in discounts:
            assert discount.amount.amount > 0
            assert discount.amount.amount == discount.amount.amount.quantize(CENT)


@given(targets, rules, st.randoms(use_true_random=False))
def test_the_outcome_does_not_depend_on_the_order_promotions_are_listed_in(
    lines: list[Target], promos: list[Rule], random: object
) -> None:
    shuffled = list(promos)
    random.shuffle(shuffled)  # type: ignore[attr-defined]

    assert apply(promos, lines, EUR) == apply(shuffled, lines, EUR)
    assert ordered(promos) == ordered(shuffled)


# Lines as quotes make them: a unit price in cents times a quantity.
priced_lines = st.lists(
    st.builds(
        lambda i, unit, qty: Target(sku=f"S{i}", quantity=qty, category_ids=(), subtotal=Money(unit * qty, EUR)),
        st.integers(0, 5),
        amounts,
        st.integers(1, 5),
    ),
    min_size=1,
    max_size=6,
    unique_by=lambda t: t.sku,
)


@given(priced_lines, st.integers(1, 3), st.integers(1, 3), st.none() | st.integers(0, 3))
def test_buy_x_get_y_discounts_at_most_y_units_per_full_group(
    lines: list[Target], buy: int, get: int, cap: int | None
) -> None:
    promo = rule(1, benefit="buy_x_get_y", value="100", buy_quantity=buy, get_quantity=get, max_applications=cap)
    groups = sum(line.quantity for line in lines) // (buy + get)
    allowed_units = (groups if cap is None else min(groups, cap)) * get
    cheapest = sorted(
        (line.subtotal.amount / line.quantity for line in lines for _ in range(line.quantity)), key=lambda u: u
    )

    result = apply([promo], lines, EUR)

    total = sum((d.amount.amount for line in result.lines for d in line), Decimal(0))
    assert total == sum(cheapest[:allowed_units], Decimal(0)).quantize(CENT)


@given(amounts, st.lists(amounts, min_size=1, max_size=8))
def test_an_allocation_adds_up_and_never_exceeds_a_line(amount: Decimal, weights: list[Decimal]) -> None:
    lines = [Money(w, EUR) for w in weights]
    total = sum(weights, Decimal(0))
    spread = Money(min(amount, total), EUR)

    shares = allocate(spread, lines)

    assert sum((s.amount for s in shares), Decimal(0)) == spread.amount
    for share, weight in zip(shares, lines, strict=True):
        assert Decimal(0) <= share.amount <= weight.amount
        assert abs(share.amount - spread.amount * weight.amount / total) < Decimal(len(lines)) * CENT
