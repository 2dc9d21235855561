"""Integration events name their topic after the context that publishes them, so it cannot drift."""

from __future__ import annotations

from dataclasses import FrozenInstanceError

import pytest

from shop.kernel.events import Event
from shop.orders.api import OrderPlaced


def test_a_context_event_is_named_after_its_context_module() -> None:
    assert OrderPlaced.topic() == "orders.OrderPlaced"


def test_each_event_has_its_own_identity_and_time_and_is_immutable() -> None:
    first, second = Event(), Event()
    assert first.event_id != second.event_id
    assert first.occurred_at.tzinfo is not None
    with pytest.raises(FrozenInstanceError):
        first.event_id = second.event_id  # type: ignore[misc]
