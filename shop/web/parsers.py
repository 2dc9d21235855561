"""The API's JSON body parser: bounded in size and depth before anything is decoded.

``json.loads`` recurses once per nesting level, so a 2 KB body nested 1000 deep exhausts the
interpreter's stack (``RecursionError``: a 500), and DRF's parser reads whatever the client sends.
Here the body is read up to ``SHOP_MAX_BODY_BYTES`` and its nesting measured (a linear scan, no
recursion) before it is parsed; every refusal is a problem+json with a stable code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from itertools import accumulate
from typing import IO, Any

from django.conf import settings
from rest_framework.parsers import BaseParser

from shop.kernel.errors import DomainError

# A JSON string (escapes included): brackets inside strings are text, not nesting.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_DELTA = {"[": 1, "{": 1, "]": -1, "}": -1}


class MalformedBody(DomainError):
    code = "malformed_request"
    status = 400
    title = "The request body could not be parsed"


class BodyTooDeep(DomainError):
    code = "body_too_deep"
    status = 400
    title = "The request body is nested too deeply"


class BodyTooLarge(DomainError):
    code = "body_too_large"
    status = 413
    title = "The request body is too large"


def json_depth(text: str) -> int:
    """How deeply arrays and objects nest in ``text``, measured without parsing (and so without
    recursion): the running sum of opening (+1) and closing (-1) brackets outside strings."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(map(_DELTA.__getitem__, brackets)), default=0)


def parse_json_body(raw: bytes, *, encoding: str = "utf-8") -> Any:
    """``raw`` as JSON, refused with a ``DomainError`` if too large, too deep or malformed."""
    if len(raw) > settings.SHOP_MAX_BODY_BYTES:
        raise BodyTooLarge(f"A request body holds at most {settings.SHOP_MAX_BODY_BYTES} bytes.")
    try:
        text = raw.decode(encoding)
    except (LookupError, UnicodeDecodeError) as exc:
        raise MalformedBody(f"The body is not valid {encoding}.") from exc
    if json_depth(text) > settings.SHOP_MAX_JSON_DEPTH:
        raise BodyTooDeep(f"Arrays and objects nest at most {settings.SHOP_MAX_JSON_DEPTH} levels deep.")
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except ValueError as exc:
        raise MalformedBody(f"JSON parse error: {exc}") from exc


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # NaN and Infinity: Python's json accepts them, JSON does not


class BoundedJSONParser(BaseParser):
    """``application/json`` for every DRF view (``DEFAULT_PARSER_CLASSES``)."""

    media_type = "application/json"

    def parse(
        self, stream: IO[bytes] | None, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> Any:
        encoding = (parser_context or {}).get("encoding") or settings.DEFAULT_CHARSET
        raw = stream.read(settings.SHOP_MAX_BODY_BYTES + 1) if stream is not None else b""
        return parse_json_body(raw, encoding=encoding)
