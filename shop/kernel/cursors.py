"""Keyset cursors: the one encoder and decoder of every cursor-paged list.

A cursor is the position of a row in a list's sort order: the order's name, the direction, and the
row's sort-key values, as base64url JSON. The client treats it as opaque, but it comes back from the
client, so ``decode`` trusts nothing: every value is checked against the kind its key is declared
with, and a cursor of another order, a forged value or a truncated string is ``InvalidCursor`` (400
``invalid_cursor``), never a value that reaches a query.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from shop.kernel.errors import DomainError

Kind = Literal["int", "str", "decimal", "datetime"]
MAX_CURSOR_CHARS = 1000
MAX_VALUE_CHARS = 300
_MAX_INT = 2**63 - 1  # PostgreSQL's bigint
_MAX_DECIMAL = Decimal("1e12")


class InvalidCursor(DomainError):
    """The cursor was not made by us for this list's sort order (tampered, truncated or stale)."""

    code = "invalid_cursor"
    status = 400
    title = "The cursor is not valid for this list"


@dataclass(frozen=True, kw_only=True, slots=True)
class Position:
    order: str  # names the sort order, so a cursor of one order is refused by another
    backwards: bool  # True: the page *before* ``values``; False: the page after
    values: tuple[Any, ...]


def encode(position: Position, kinds: Sequence[Kind]) -> str:
    payload = {
        "o": position.order,
        "b": position.backwards,
        "v": [_encode_value(kind, value) for kind, value in zip(kinds, position.values, strict=True)],
    }
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")


def decode(cursor: str, *, order: str, kinds: Sequence[Kind]) -> Position:
    """The position ``cursor`` names in ``order``, or ``InvalidCursor``."""
    if len(cursor) > MAX_CURSOR_CHARS:
        raise InvalidCursor("The cursor is too long.")
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise InvalidCursor("Not a cursor: use the next or previous link of a page.") from exc
    if not isinstance(raw, dict) or raw.get("o") != order or not isinstance(raw.get("b"), bool):
        raise InvalidCursor("Not a cursor of this list's sort order.")
    values = raw.get("v")
    if not isinstance(values, list) or len(values) != len(kinds):
        raise InvalidCursor("Not a cursor of this list's sort order.")
    decoded = tuple(_decode_value(kind, value) for kind, value in zip(kinds, values, strict=True))
    return Position(order=order, backwards=raw["b"], values=decoded)


def _encode_value(kind: Kind, value: Any) -> Any:
    if kind == "datetime":
        return value.isoformat()
    if kind == "decimal":
        return str(value)
    return value


def _decode_value(kind: Kind, raw: Any) -> Any:
    if kind == "int":
        if type(raw) is not int or not -_MAX_INT <= raw <= _MAX_INT:
            raise InvalidCursor("The cursor holds a bad number.")
        return raw
    if not isinstance(raw, str) or "\x00" in raw or len(raw) > MAX_VALUE_CHARS or not _is_unicode(raw):
        raise InvalidCursor("The cursor holds a bad value.")
    if kind == "str":
        return raw
    if kind == "decimal":
        try:
            number = Decimal(raw)
        except InvalidOperation as exc:
            raise InvalidCursor("The cursor holds a bad number.") from exc
        if not number.is_finite() or abs(number) >= _MAX_DECIMAL:
            raise InvalidCursor("The cursor holds a bad number.")
        return number
    try:
        moment = datetime.fromisoformat(raw)
        if moment.tzinfo is None:
            raise ValueError("naive")
        return moment.astimezone(UTC)  # the database compares in UTC: year 1 at +14:00 is out of range
    except (ValueError, OverflowError) as exc:
        raise InvalidCursor("The cursor holds a bad time.") from exc


def _is_unicode(text: str) -> bool:
    """JSON can carry lone surrogates (``"\\ud800"``) that no database text column accepts."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True
