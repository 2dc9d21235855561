"""Stock and reservations: ``CatalogService`` (the in-process ``CatalogAPI``: ``get_variants``,
``reserve``, ``commit``, ``release``), the expiry of holds (``expire_reservations``) and staff's
``adjust_stock``.

How overselling is impossible: ``reserve`` locks the stock rows of every line (``SELECT … FOR
UPDATE``, in SKU order, so two baskets never deadlock), checks availability on those locked rows,
then raises ``reserved`` for all lines in one ``UPDATE``, all in one transaction on the catalog's
database: a single short line rolls back every line (``OutOfStock`` names each shortage). The
database's CHECK (reserved <= on_hand) is the last line of defence. A hold costs the same four
statements whatever the number of lines.

How a reservation id reserves once: its rows are inserted *before* the stock is locked, so a
concurrent call with the same id blocks on the unique index (reservation_id, variant) until the
first one commits (-> ``IntegrityError``, answered with the stored reservation) or rolls back.

Every change of ``on_hand`` or ``reserved`` writes a ``StockMovement`` with the values after it,
publishes ``StockLow`` when available stock crosses the threshold, and invalidates the read cache
after commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import ClassVar
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError
from django.db.models import Case, F, IntegerField, Value, When
from django.utils import timezone

from shop import registry
from shop.catalog import api
from shop.catalog.adapters.cache import invalidate_catalog
from shop.catalog.models import Reservation, Stock, StockMovement, Variant
from shop.catalog.selectors import variants as variant_selectors
from shop.kernel import Conflict, ValidationFailed
from shop.kernel import context as call_context

MAX_QUANTITY = 2_147_483_647  # the stock columns are PostgreSQL integers
STAFF_REASONS = frozenset(
    {StockMovement.Reason.ADJUST.value, StockMovement.Reason.RECEIVE.value, StockMovement.Reason.IMPORT.value}
)
ACTIVE = Reservation.State.ACTIVE
COMMITTED = Reservation.State.COMMITTED
RELEASED = Reservation.State.RELEASED


# --- validation -----------------------------------------------------------------------------------
def _merge_lines(lines: Sequence[api.Line]) -> dict[str, int]:
    """SKU -> total quantity; every problem of the request reported at once."""
    if isinstance(lines, str | bytes) or not lines:
        raise api.InvalidLines("A reservation needs at least one line.")
    merged: dict[str, int] = {}
    problems: list[str] = []
    for index, line in enumerate(lines):
        sku, quantity = line.sku, line.quantity
        if not isinstance(sku, str) or not sku.strip():
            problems.append(f"line {index}: the SKU is empty")
            continue
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 0 < quantity <= MAX_QUANTITY:
            problems.append(f"line {index} ({sku}): the quantity must be a positive whole number")
            continue
        merged[sku] = merged.get(sku, 0) + quantity
    if not problems and any(q > MAX_QUANTITY for q in merged.values()):
        problems.append("a merged quantity is too large")
    if len(merged) > api.MAX_SKUS_PER_CALL:
        problems.append(f"at most {api.MAX_SKUS_PER_CALL} distinct SKUs per reservation")
    if problems:
        raise api.InvalidLines("; ".join(problems), errors={"lines": problems})
    return merged


def _check_ttl(ttl_s: int) -> None:
    if isinstance(ttl_s, bool) or not isinstance(ttl_s, int) or not 0 < ttl_s <= api.MAX_RESERVATION_TTL_S:
        raise api.InvalidLines(
            f"ttl_s must be between 1 and {api.MAX_RESERVATION_TTL_S} seconds.",
            errors={"ttl_s": [f"between 1 and {api.MAX_RESERVATION_TTL_S}"]},
        )


def _sellable_variants(skus: Iterable[str]) -> dict[str, Variant]:
    """The variants to hold (one query); ``UnknownSku`` / ``InactiveProduct`` name every offending SKU."""
    wanted = list(skus)
    found = {v.sku: v for v in variant_selectors.variants_by_skus(skus=wanted)}
    unknown = [sku for sku in wanted if sku not in found]
    if unknown:
        raise api.UnknownSku(skus=unknown)
    inactive = [sku for sku in wanted if not (found[sku].is_active and found[sku].product.is_active)]
    if inactive:
        raise api.InactiveProduct(skus=inactive)
    return found


# --- the ledger -----------------------------------------------------------------------------------
def _acting_user() -> int | None:
    """Who caused a change made on a customer's behalf (set by the API edge and the internal transport)."""
    raw = call_context.acting_user_id.get()
    return int(raw) if raw and raw.isdigit() else None


def _stock_after(variant_ids: Iterable[int]) -> dict[int, Stock]:
    """Read back the rows this transaction just updated (and still locks): exact ``after`` values."""
    return {s.pk: s for s in Stock.objects.filter(pk__in=list(variant_ids))}


def _log(
    *,
    changes: Sequence[tuple[Variant, int, int]],
    reason: str,
    reference: str,
    actor_id: int | None,
    note: str = "",
) -> dict[int, Stock]:
    """One movement per (variant, on_hand_delta, reserved_delta); StockLow when a SKU crosses the threshold."""
    after = _stock_after(v.pk for v, _, _ in changes)
    threshold = settings.SHOP_STOCK_LOW_THRESHOLD
    StockMovement.objects.bulk_create(
        StockMovement(
            variant=variant,
            reason=reason,
            on_hand_delta=on_hand_delta,
            reserved_delta=reserved_delta,
            on_hand_after=after[variant.pk].on_hand,
            reserved_after=after[variant.pk].reserved,
            reference=reference,
            actor_id=actor_id,
            note=note[:255],
        )
        for variant, on_hand_delta, reserved_delta in changes
    )
    for variant, on_hand_delta, reserved_delta in changes:
        available = after[variant.pk].available
        before = available - on_hand_delta + reserved_delta
        if available <= threshold < before:
            registry.publish(api.StockLow(sku=variant.sku, available=available, threshold=threshold))
    invalidate_catalog()
    return after


def _move_reserved(rows: Sequence[Reservation], *, to: Reservation.State, reason: str) -> None:
    """Commit (on_hand and reserved both drop) or release (reserved drops) locked active rows."""
    sold = to == COMMITTED
    changes: list[tuple[Variant, int, int]] = []
    for row in sorted(rows, key=lambda r: r.variant.sku):
        quantity = row.quantity
        stock = Stock.objects.filter(pk=row.variant_id, reserved__gte=quantity)
        if sold:
            updated = stock.filter(on_hand__gte=quantity).update(
                on_hand=F("on_hand") - quantity, reserved=F("reserved") - quantity, updated_at=timezone.now()
            )
        else:
            updated = stock.update(reserved=F("reserved") - quantity, updated_at=timezone.now())
        if updated != 1:  # only a hand-edited ledger gets here: refuse loudly rather than go negative
            raise RuntimeError(f"stock of {row.variant.sku} does not cover reservation {row.reservation_id}")
        changes.append((row.variant, -quantity if sold else 0, -quantity))
    now = timezone.now()
    Reservation.objects.filter(pk__in=[r.pk for r in rows]).update(state=to, updated_at=now)
    for row in rows:
        row.state = to
        row.updated_at = now
    _log(changes=changes, reason=reason, reference=str(rows[0].reservation_id), actor_id=_acting_user())


def _locked_rows(reservation_id: UUID, *, skip_locked: bool = False) -> list[Reservation]:
    """Lock a reservation's rows (id order, like every other writer of them) for a state change."""
    return list(
        Reservation.objects.select_for_update(skip_locked=skip_locked, of=("self",))
        .filter(reservation_id=reservation_id)
        .select_related("variant")
        .order_by("id")
    )


# --- reservations ---------------------------------------------------------------------------------
def reserve(*, reservation_id: UUID, lines: Sequence[api.Line], ttl_s: int) -> api.Reservation:
    """Hold every line or nothing; a repeated ``reservation_id`` answers with what it holds."""
    wanted = _merge_lines(lines)
    _check_ttl(ttl_s)
    existing = variant_selectors.reservation_rows(reservation_id=reservation_id)
    if existing:
        return _replay(reservation_id, existing, wanted)
    variants = _sellable_variants(wanted)
    try:
        return _hold(reservation_id=reservation_id, wanted=wanted, variants=variants, ttl_s=ttl_s)
    except IntegrityError:
        # A concurrent call with the same id committed first (unique reservation_id + variant).
        existing = variant_selectors.reservation_rows(reservation_id=reservation_id)
        if not existing:
            raise
        return _replay(reservation_id, existing, wanted)


def _hold(
    *, reservation_id: UUID, wanted: Mapping[str, int], variants: Mapping[str, Variant], ttl_s: int
) -> api.Reservation:
    """Four statements whatever the number of lines: claim the id, lock the stock rows (in SKU
    order, the order every writer of stock uses, so two baskets sharing SKUs cannot deadlock), one
    ``UPDATE`` for every line, one movement insert. The row locks make the availability read
    authoritative; the table's CHECK (reserved <= on_hand) stands behind it."""
    expires_at = timezone.now() + timedelta(seconds=ttl_s)
    skus = sorted(wanted)
    quantity_of = {variants[sku].pk: wanted[sku] for sku in skus}
    with registry.atomic("catalog"):
        # Claim the id first: a concurrent duplicate waits here for this transaction to end.
        rows = Reservation.objects.bulk_create(
            Reservation(
                reservation_id=reservation_id, variant=variants[sku], quantity=wanted[sku], expires_at=expires_at
            )
            for sku in skus
        )
        locked = {
            stock.pk: stock
            for stock in Stock.objects.select_for_update(of=("self",))
            .filter(pk__in=list(quantity_of))
            .order_by("variant__sku")
        }
        shortages = [
            {"sku": sku, "requested": wanted[sku], "available": max(0, stock.available) if stock else 0}
            for sku in skus
            if (stock := locked.get(variants[sku].pk)) is None or stock.available < wanted[sku]
        ]
        if shortages:
            raise api.OutOfStock(shortages=shortages)  # rolls back the claim above
        Stock.objects.filter(pk__in=list(quantity_of)).update(
            reserved=F("reserved")
            + Case(*(When(pk=pk, then=Value(q)) for pk, q in quantity_of.items()), output_field=IntegerField()),
            updated_at=timezone.now(),
        )
        _log(
            changes=[(variants[sku], 0, wanted[sku]) for sku in skus],
            reason=StockMovement.Reason.RESERVE,
            reference=str(reservation_id),
            actor_id=_acting_user(),
        )
    return variant_selectors.to_reservation_dto(rows)


def _replay(reservation_id: UUID, rows: list[Reservation], wanted: Mapping[str, int]) -> api.Reservation:
    """The answer to a repeated ``reserve``: same lines -> the same reservation, as it stands now."""
    held = {row.variant.sku: row.quantity for row in rows}
    if held != dict(wanted):
        raise api.InvalidLines(
            "This reservation id was already used for other lines.", reservation_id=str(reservation_id)
        )
    state = variant_selectors.to_reservation_dto(rows)
    if state.state == ACTIVE and state.expires_at <= timezone.now():
        return commit_or_expire(reservation_id=reservation_id, commit=False)
    if state.state == RELEASED:
        raise api.ReservationExpired(reservation_id=str(reservation_id))
    return state


def commit(*, reservation_id: UUID) -> api.Reservation:
    """Held -> sold. A hold past its expiry is released instead (``ReservationExpired``)."""
    return commit_or_expire(reservation_id=reservation_id, commit=True)


def commit_or_expire(*, reservation_id: UUID, commit: bool) -> api.Reservation:
    """Under the reservation's row locks: expire it if it is past due, else commit it (``commit``) or
    leave it. The release of an expired hold is committed before ``ReservationExpired`` is raised."""
    expired = False
    with registry.atomic("catalog"):
        rows = _locked_rows(reservation_id)
        if not rows:
            raise api.ReservationNotFound(reservation_id=str(reservation_id))
        active = [r for r in rows if r.state == ACTIVE]
        if active and min(r.expires_at for r in active) <= timezone.now():
            _move_reserved(active, to=RELEASED, reason=StockMovement.Reason.EXPIRE)
            expired = True
        elif active and commit:
            _move_reserved(active, to=COMMITTED, reason=StockMovement.Reason.COMMIT)
        elif not active and not any(r.state == COMMITTED for r in rows):
            expired = True
    if expired:
        raise api.ReservationExpired(reservation_id=str(reservation_id))
    return variant_selectors.to_reservation_dto(rows)


def release(*, reservation_id: UUID) -> api.Reservation:
    """Held -> given back; releasing twice is a no-op. Sold stock is not "released" (that is a return)."""
    with registry.atomic("catalog"):
        rows = _locked_rows(reservation_id)
        if not rows:
            raise api.ReservationNotFound(reservation_id=str(reservation_id))
        active = [r for r in rows if r.state == ACTIVE]
        if active:
            _move_reserved(active, to=RELEASED, reason=StockMovement.Reason.RELEASE)
        elif any(r.state == COMMITTED for r in rows):
            raise Conflict(
                "The reservation was already committed; its stock is sold.", reservation_id=str(reservation_id)
            )
    return variant_selectors.to_reservation_dto(rows)


def expire_reservations(*, now: datetime | None = None, limit: int = 500) -> int:
    """Release up to ``limit`` active reservations past their expiry (reason EXPIRE); returns how many.

    One short transaction per reservation; a reservation another worker (or a commit) is holding is
    skipped (``SKIP LOCKED``) and picked up by the next run if still due.
    """
    now = now or timezone.now()
    due = list(
        Reservation.objects.filter(state=ACTIVE, expires_at__lte=now)  # the partial index on active expiries
        .values_list("reservation_id", flat=True)
        .order_by()
        .distinct()[: max(limit, 0)]
    )
    released = 0
    for reservation_id in due:
        with registry.atomic("catalog"):
            rows = _locked_rows(reservation_id, skip_locked=True)
            if len(rows) != Reservation.objects.filter(reservation_id=reservation_id).count():
                continue  # partly locked by someone else: all lines move together, so not now
            active = [r for r in rows if r.state == ACTIVE]
            if not active or any(r.expires_at > now for r in active):
                continue  # committed, released or extended since the scan
            _move_reserved(active, to=RELEASED, reason=StockMovement.Reason.EXPIRE)
            released += 1
    return released


# --- staff ----------------------------------------------------------------------------------------
def adjusted_on_hand(stock: Stock, *, sku: str, on_hand_delta: int | None, set_on_hand: int | None) -> int:
    """What on hand an adjustment of ``stock`` leads to, or the error it is refused with: the rule
    ``adjust_stock`` applies under the row lock, and the admin shows before staff confirm."""
    new = set_on_hand if set_on_hand is not None else stock.on_hand + (on_hand_delta or 0)
    if new > MAX_QUANTITY:
        raise ValidationFailed("That is more stock than a SKU can hold.", errors={"on_hand": [str(new)]})
    if new < stock.reserved:
        raise api.StockBelowReserved(
            f"On hand would be {new}, below the {stock.reserved} reserved for customers.",
            sku=sku,
            on_hand=new,
            reserved=stock.reserved,
        )
    return new


def adjust_stock(
    *,
    sku: str,
    on_hand_delta: int | None = None,
    set_on_hand: int | None = None,
    reason: str = "adjust",
    actor_id: int | None = None,
    note: str = "",
) -> int:
    """Change on-hand stock by ``on_hand_delta`` or to ``set_on_hand`` (a count); returns the new on hand.

    Refuses to go below what customers hold (``StockBelowReserved``): lower the stock only after
    releasing holds. A change of zero writes nothing.
    """
    if (on_hand_delta is None) == (set_on_hand is None):
        raise ValidationFailed("Give exactly one of on_hand_delta and set_on_hand.")
    if reason not in STAFF_REASONS:
        raise ValidationFailed(f"reason must be one of {sorted(STAFF_REASONS)}.", errors={"reason": [reason]})
    with registry.atomic("catalog"):
        variant = Variant.objects.filter(sku=sku).first()
        if variant is None:
            raise api.UnknownSku(skus=[sku])
        Stock.objects.get_or_create(variant=variant)
        stock = Stock.objects.select_for_update().get(pk=variant.pk)
        new = adjusted_on_hand(stock, sku=sku, on_hand_delta=on_hand_delta, set_on_hand=set_on_hand)
        delta = new - stock.on_hand
        if delta:
            Stock.objects.filter(pk=variant.pk).update(on_hand=new, updated_at=timezone.now())
            _log(
                changes=[(variant, delta, 0)],
                reason=reason,
                reference="",
                actor_id=actor_id if actor_id is not None else _acting_user(),
                note=note,
            )
    return new


# --- the public service ---------------------------------------------------------------------------
class CatalogService:
    """In-process implementation of ``api.CatalogAPI``."""

    context: ClassVar[str] = api.CatalogAPI.context

    def get_variants(self, *, skus: Sequence[str]) -> list[api.Variant]:
        if isinstance(skus, str | bytes):
            raise api.InvalidLines("skus must be a list of SKUs, not one string.")
        if len(set(skus)) > api.MAX_SKUS_PER_CALL:
            raise api.InvalidLines(f"At most {api.MAX_SKUS_PER_CALL} SKUs per call.")
        return [variant_selectors.to_variant_dto(v) for v in variant_selectors.variants_by_skus(skus=skus)]

    def reserve(self, *, reservation_id: UUID, lines: Sequence[api.Line], ttl_s: int) -> api.Reservation:
        return reserve(reservation_id=reservation_id, lines=lines, ttl_s=ttl_s)

    def commit(self, *, reservation_id: UUID) -> api.Reservation:
        return commit(reservation_id=reservation_id)

    def release(self, *, reservation_id: UUID) -> api.Reservation:
        return release(reservation_id=reservation_id)
