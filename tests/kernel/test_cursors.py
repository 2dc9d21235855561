"""The one cursor codec: what it encodes it decodes to the same position; anything else a client sends
is ``InvalidCursor`` (400 ``invalid_cursor``), never another exception and never a value for a query."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shop.kernel import cursors
from shop.kernel.cursors import InvalidCursor, Position

KINDS: tuple[cursors.Kind, ...] = ("decimal", "datetime", "str", "int")


def raw(payload: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


positions = st.builds(
    lambda backwards, price, at, name, pk: Position(order="price", backwards=backwards, values=(price, at, name, pk)),
    st.booleans(),
    st.decimals(min_value=-(10**11), max_value=10**11, places=2, allow_nan=False, allow_infinity=False),
    st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(9999, 1, 1), timezones=st.just(UTC)),
    st.text(alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=50),
    st.integers(min_value=-(2**63) + 1, max_value=2**63 - 1),
)


@given(position=positions)
def test_what_is_encoded_decodes_to_the_same_position(position: Position) -> None:
    cursor = cursors.encode(position, KINDS)
    assert cursors.decode(cursor, order="price", kinds=KINDS) == position


@given(text=st.text(max_size=1200))
def test_any_text_is_a_position_or_invalid_cursor(text: str) -> None:
    try:
        cursors.decode(text, order="price", kinds=KINDS)
    except InvalidCursor:
        pass


@given(payload=st.recursive(st.none() | st.booleans() | st.integers() | st.text(), st.lists, max_leaves=20))
def test_any_json_is_a_position_or_invalid_cursor(payload: Any) -> None:
    try:
        cursors.decode(raw({"o": "price", "b": False, "v": payload}), order="price", kinds=KINDS)
    except InvalidCursor:
        pass


@pytest.mark.parametrize(
    "cursor",
    [
        "cD0xZTMwOQ==",  # the strings that gave 500 before (issue 12 item 5)
        "cD0lMDA=",
        "cj0xJnA9bm90YWRhdGU=",
        raw({"o": "name", "b": False, "v": ["1", "2020-01-01T00:00:00+00:00", "a", 1]}),  # another order
        raw({"o": "price", "b": 0, "v": ["1", "2020-01-01T00:00:00+00:00", "a", 1]}),  # not a boolean
        raw({"o": "price", "b": False, "v": ["1", "2020-01-01T00:00:00+00:00", "a"]}),  # one value short
        raw({"o": "price", "b": False, "v": ["1e30", "2020-01-01T00:00:00+00:00", "a", 1]}),  # out of range
        raw({"o": "price", "b": False, "v": ["NaN", "2020-01-01T00:00:00+00:00", "a", 1]}),
        raw({"o": "price", "b": False, "v": ["1", "2020-01-01T00:00:00", "a", 1]}),  # a naive time
        raw({"o": "price", "b": False, "v": ["1", "2020-01-01T00:00:00+00:00", "a\x00", 1]}),
        raw({"o": "price", "b": False, "v": ["1", "2020-01-01T00:00:00+00:00", "\ud800", 1]}),
        raw({"o": "price", "b": False, "v": ["1", "2020-01-01T00:00:00+00:00", "a", 2**63]}),
        raw({"o": "price", "b": False, "v": ["1", "2020-01-01T00:00:00+00:00", "a", True]}),
        "x" * 1001,
    ],
)
def test_a_cursor_we_did_not_make_for_this_order_is_refused(cursor: str) -> None:
    with pytest.raises(InvalidCursor) as refused:
        cursors.decode(cursor, order="price", kinds=KINDS)
    assert (refused.value.code, refused.value.status) == ("invalid_cursor", 400)


def test_times_come_back_in_utc() -> None:
    at = datetime(2026, 1, 1, 12, tzinfo=timezone(timedelta(hours=2)))
    cursor = cursors.encode(Position(order="t", backwards=True, values=(at,)), ("datetime",))
    (decoded,) = cursors.decode(cursor, order="t", kinds=("datetime",)).values
    assert decoded == at and decoded.tzinfo == UTC


def test_decimals_keep_their_exact_value() -> None:
    cursor = cursors.encode(Position(order="p", backwards=False, values=(Decimal("19.90"),)), ("decimal",))
    (value,) = cursors.decode(cursor, order="p", kinds=("decimal",)).values
    assert value == Decimal("19.90") and isinstance(value, Decimal)
