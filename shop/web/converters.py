"""Path converters for identifiers with a documented shape (e.g. a SKU).

A route that takes ``<str:…>`` passes anything up to the next slash to its view: a NUL byte (which
PostgreSQL refuses in text: a 500), a megabyte, any script. A pattern converter matches only the
documented shape, so anything else is a 404 problem before a query runs, and drf-spectacular
documents the parameter with that pattern.
"""

from __future__ import annotations

from django.urls import register_converter
from django.urls.converters import get_converters


class PatternConverter:
    regex: str

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


def register_pattern(name: str, pattern: str) -> None:
    """Register ``<name:…>`` for ``pattern`` (idempotent: each context's urls may ask for it)."""
    existing = get_converters().get(name)
    if existing is not None:
        if existing.regex != pattern:
            raise ValueError(f"path converter {name!r} is already registered with another pattern")
        return
    register_converter(type(f"{name.title()}Converter", (PatternConverter,), {"regex": pattern}), name)
