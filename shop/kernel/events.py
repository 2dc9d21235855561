"""The base of every integration event. Events are part of the publisher's public contract
(they live in its ``api`` module) and travel as JSON, so fields stay JSON-native."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import ClassVar
from uuid import UUID, uuid4


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, kw_only=True, slots=True)
class Event:
    """Identity (for inbox dedup), time, and a schema version subscribers can branch on."""

    version: ClassVar[int] = 1
    event_id: UUID = field(default_factory=uuid4)
    occurred_at: datetime = field(default_factory=_now)

    @classmethod
    def topic(cls) -> str:
        """``<context>.<EventName>``: derived from the module, so it cannot drift from the code."""
        parts = cls.__module__.split(".")
        context = parts[1] if len(parts) > 2 and parts[0] == "shop" else parts[0]
        return f"{context}.{cls.__name__}"
