"""Inventory as staff and operations see it: the stock ledger, StockLow, staff adjustments, expiry,
and the read cache's invalidation. (The caller-facing contract is in tests/contracts/catalog/.)"""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any
from uuid import UUID, uuid4

import pytest
from django.conf import settings
from django.utils import timezone

from shop.catalog.adapters.cache import cached
from shop.catalog.api import Line, OutOfStock, ReservationExpired, StockBelowReserved, UnknownSku
from shop.catalog.models import Reservation, Stock, StockMovement, Variant
from shop.catalog.services import CatalogService, inventory
from shop.catalog.tasks import release_expired_reservations
from shop.kernel import ValidationFailed
from shop.kernel import context as call_context
from tests.catalog.factories import VariantFactory
from tests.helpers import connection_of, outbox

pytestmark = pytest.mark.django_db

TTL = 600
service = CatalogService()


def _reserve(rid: UUID, **quantities: int) -> None:
    service.reserve(reservation_id=rid, lines=[Line(sku=s, quantity=q) for s, q in quantities.items()], ttl_s=TTL)


def _ledger(variant: Variant) -> list[tuple[str, int, int, int, int, str]]:
    """A SKU's movements, oldest first: (reason, on_hand_delta, reserved_delta, on_hand_after, reserved_after, ref)."""
    return list(
        StockMovement.objects.filter(variant=variant)
        .order_by("id")
        .values_list("reason", "on_hand_delta", "reserved_delta", "on_hand_after", "reserved_after", "reference")
    )


def _stock(variant: Variant) -> tuple[int, int]:
    stock = Stock.objects.get(pk=variant.pk)
    return stock.on_hand, stock.reserved


def _stock_low() -> list[dict[str, Any]]:
    return [
        {k: e.payload[k] for k in ("sku", "available", "threshold")}
        for e in outbox("catalog").filter(topic="catalog.StockLow").order_by("created_at")
    ]


# --- the ledger ---------------------------------------------------------------------------------------
def test_every_reservation_step_writes_a_movement_with_deltas_and_afters() -> None:
    a = VariantFactory.create(sku="A", stock=10)
    b = VariantFactory.create(sku="B", stock=4)
    sold, dropped = uuid4(), uuid4()

    _reserve(sold, A=3, B=1)
    _reserve(dropped, A=2)
    service.commit(reservation_id=sold)
    service.release(reservation_id=dropped)

    assert _ledger(a) == [
        ("reserve", 0, 3, 10, 3, str(sold)),
        ("reserve", 0, 2, 10, 5, str(dropped)),
        ("commit", -3, -3, 7, 2, str(sold)),
        ("release", 0, -2, 7, 0, str(dropped)),
    ]
    assert _ledger(b) == [("reserve", 0, 1, 4, 1, str(sold)), ("commit", -1, -1, 3, 0, str(sold))]
    assert (_stock(a), _stock(b)) == ((7, 0), (3, 0))


def test_repeated_calls_write_no_extra_movements() -> None:
    variant = VariantFactory.create(sku="A", stock=10)
    rid = uuid4()

    _reserve(rid, A=2)
    _reserve(rid, A=2)
    service.commit(reservation_id=rid)
    service.commit(reservation_id=rid)

    assert [m[0] for m in _ledger(variant)] == ["reserve", "commit"]


def test_a_failed_reservation_writes_nothing() -> None:
    a = VariantFactory.create(sku="A", stock=10)
    b = VariantFactory.create(sku="B", stock=0)

    with pytest.raises(OutOfStock):
        _reserve(uuid4(), A=1, B=1)

    assert (_ledger(a), _ledger(b)) == ([], [])
    assert not Reservation.objects.exists()
    assert not outbox("catalog").exists()


def test_movements_record_the_acting_user() -> None:
    variant = VariantFactory.create(sku="A")
    token = call_context.acting_user_id.set("42")
    try:
        _reserve(uuid4(), A=1)
    finally:
        call_context.acting_user_id.reset(token)

    assert StockMovement.objects.get(variant=variant).actor_id == 42


# --- StockLow -------------------------------------------------------------------------------------------
def test_stock_low_is_published_once_when_available_crosses_the_threshold(settings: Any) -> None:
    settings.SHOP_STOCK_LOW_THRESHOLD = 5
    VariantFactory.create(sku="A", stock=8)
    first, second, third = uuid4(), uuid4(), uuid4()

    _reserve(first, A=2)  # 6 left: above
    assert _stock_low() == []
    _reserve(second, A=1)  # 5 left: crosses
    _reserve(third, A=1)  # 4 left: already below, no repeat
    assert _stock_low() == [{"sku": "A", "available": 5, "threshold": 5}]

    service.release(reservation_id=second)
    service.release(reservation_id=third)  # back to 6
    inventory.adjust_stock(sku="A", on_hand_delta=-3)  # 3 left: crosses again
    assert _stock_low() == [
        {"sku": "A", "available": 5, "threshold": 5},
        {"sku": "A", "available": 3, "threshold": 5},
    ]


def test_the_threshold_comes_from_settings() -> None:
    assert settings.SHOP_STOCK_LOW_THRESHOLD == 5  # the documented default (env SHOP_STOCK_LOW_THRESHOLD)
    assert settings.SHOP_RESERVATION_TTL_S > 0


# --- staff adjustments ----------------------------------------------------------------------------------
def test_adjust_stock_by_delta_and_by_count_logs_who_and_why() -> None:
    variant = VariantFactory.create(sku="A", stock=10, reserved=3)

    assert inventory.adjust_stock(sku="A", on_hand_delta=5, reason="receive", actor_id=7, note="PO-1") == 15
    assert inventory.adjust_stock(sku="A", set_on_hand=12, actor_id=7, note="stocktake") == 12

    assert _stock(variant) == (12, 3)
    movements = list(
        StockMovement.objects.filter(variant=variant)
        .order_by("id")
        .values_list("reason", "on_hand_delta", "reserved_delta", "on_hand_after", "reserved_after", "actor_id", "note")
    )
    assert movements == [("receive", 5, 0, 15, 3, 7, "PO-1"), ("adjust", -3, 0, 12, 3, 7, "stocktake")]


def test_adjust_stock_cannot_go_below_what_customers_hold() -> None:
    variant = VariantFactory.create(sku="A", stock=10, reserved=4)

    with pytest.raises(StockBelowReserved) as caught:
        inventory.adjust_stock(sku="A", on_hand_delta=-7)
    with pytest.raises(StockBelowReserved):
        inventory.adjust_stock(sku="A", set_on_hand=0)

    assert caught.value.code == "stock_below_reserved" and caught.value.status == 409
    assert caught.value.extra == {"sku": "A", "on_hand": 3, "reserved": 4}
    assert _stock(variant) == (10, 4)
    assert _ledger(variant) == []
    assert inventory.adjust_stock(sku="A", set_on_hand=4) == 4  # down to exactly what is held is fine


def test_adjust_stock_refuses_bad_requests() -> None:
    variant = VariantFactory.create(sku="A", stock=10)

    with pytest.raises(UnknownSku) as caught:
        inventory.adjust_stock(sku="NOPE", on_hand_delta=1)
    assert caught.value.extra == {"skus": ["NOPE"]}
    for kwargs in ({}, {"on_hand_delta": 1, "set_on_hand": 1}, {"on_hand_delta": 1, "reason": "reserve"}):
        with pytest.raises(ValidationFailed):
            inventory.adjust_stock(sku="A", **kwargs)
    assert _stock(variant) == (10, 0)


def test_a_change_of_nothing_writes_nothing() -> None:
    variant = VariantFactory.create(sku="A", stock=10)

    assert inventory.adjust_stock(sku="A", set_on_hand=10) == 10
    assert inventory.adjust_stock(sku="A", on_hand_delta=0) == 10

    assert _ledger(variant) == []


def test_adjust_stock_creates_a_missing_stock_row() -> None:
    variant = VariantFactory.create(sku="A")
    Stock.objects.filter(pk=variant.pk).delete()

    assert inventory.adjust_stock(sku="A", on_hand_delta=3, reason="import") == 3
    assert _stock(variant) == (3, 0)
    assert _ledger(variant) == [("import", 3, 0, 3, 0, "")]


# --- expiry ---------------------------------------------------------------------------------------------
def _age(rid: UUID, seconds: int) -> None:
    Reservation.objects.filter(reservation_id=rid).update(expires_at=timezone.now() - timedelta(seconds=seconds))


def test_the_task_releases_only_expired_active_reservations() -> None:
    a = VariantFactory.create(sku="A", stock=10)
    b = VariantFactory.create(sku="B", stock=10)
    due, fresh, sold, gone = uuid4(), uuid4(), uuid4(), uuid4()
    _reserve(due, A=2, B=1)
    _reserve(fresh, A=1)
    _reserve(sold, B=3)
    _reserve(gone, A=4)
    service.commit(reservation_id=sold)
    service.release(reservation_id=gone)
    for rid in (due, sold, gone):
        _age(rid, 60)

    assert release_expired_reservations.apply().get(disable_sync_subtasks=False) == 1

    states = dict(Reservation.objects.values_list("reservation_id", "state").distinct())
    assert states == {due: "released", fresh: "active", sold: "committed", gone: "released"}
    assert (_stock(a), _stock(b)) == ((10, 1), (7, 0))
    expired = StockMovement.objects.filter(reason="expire").order_by("variant__sku")
    assert list(expired.values_list("variant__sku", "reserved_delta", "reserved_after", "reference")) == [
        ("A", -2, 1, str(due)),
        ("B", -1, 0, str(due)),
    ]
    assert release_expired_reservations.apply().get(disable_sync_subtasks=False) == 0  # nothing left to do
    with pytest.raises(ReservationExpired):
        service.commit(reservation_id=due)


def test_expire_reservations_honours_now_and_limit() -> None:
    VariantFactory.create(sku="A", stock=10)
    rids = [uuid4() for _ in range(3)]
    for rid in rids:
        _reserve(rid, A=1)

    assert inventory.expire_reservations() == 0  # none is due yet
    later = timezone.now() + timedelta(seconds=TTL + 1)
    assert inventory.expire_reservations(now=later, limit=2) == 2
    assert inventory.expire_reservations(now=later, limit=2) == 1
    assert Stock.objects.get(variant__sku="A").reserved == 0


def test_the_expiry_task_is_scheduled_every_minute() -> None:
    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == release_expired_reservations.name)
    assert release_expired_reservations.name == "shop.catalog.release_expired_reservations"
    assert entry["schedule"] == 60.0


# --- cache invalidation ---------------------------------------------------------------------------------
def test_stock_writes_invalidate_the_read_cache_on_commit_only(django_capture_on_commit_callbacks: Any) -> None:
    """A cached read built before a stock write is not served after it commits; a rolled-back write
    schedules no invalidation. (Asserted through ``cached`` rather than version numbers, so a parallel
    test run flushing the shared Redis database cannot fake a pass or a failure.)"""
    VariantFactory.create(sku="A", stock=1)
    rid = uuid4()
    builds: list[int] = []

    def build() -> int:
        builds.append(1)
        return len(builds)

    def read() -> int:
        return cached("test:inventory:probe", build)

    on_catalog_commit = partial(django_capture_on_commit_callbacks, using=connection_of("catalog").alias, execute=True)
    with on_catalog_commit() as scheduled, pytest.raises(OutOfStock):
        _reserve(uuid4(), A=2)
    assert scheduled == []  # rolled back: nothing to invalidate

    for write in (
        lambda: _reserve(rid, A=1),
        lambda: service.commit(reservation_id=rid),
        lambda: inventory.adjust_stock(sku="A", on_hand_delta=1),
    ):
        before = read()
        with on_catalog_commit():
            write()
        assert read() > before  # rebuilt, not the stale entry
