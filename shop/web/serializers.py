"""Serializer bases for the edge: inputs accept exactly what the OpenAPI schema documents.

DRF is lenient by design: unknown fields are dropped, ``"12"`` and ``12.0`` pass as integers, ``0``
and ``"yes"`` as booleans, ``12`` as a string, and in a query string ``?status=`` means "no status".
Each leniency is a place where the server accepts what its own schema calls invalid, so the input
bases here refuse all of them (400 ``validation_error`` naming the field).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from django.http import QueryDict
from django_countries import countries
from rest_framework import serializers

_BOOLEAN_WORDS = {"true": True, "false": False}
_INTEGER = re.compile(r"^-?[0-9]{1,30}$")
# ISO 3166-1 alpha-2, from a maintained list (django-countries), not "two capital letters": "AA" is no country.
COUNTRY_CODES: tuple[str, ...] = tuple(sorted(code for code, _ in countries))


# What DRF strips from a ``CharField`` (``str.strip``): a value of only these is blank. Documented as a
# pattern (explicit code points, read the same by Python's and JSON Schema's regex engines).
_WHITESPACE = "".join(f"\\u{ord(ch):04x}" for ch in map(chr, range(0x10000)) if ch.isspace())
NOT_BLANK_PATTERN = f"[^{_WHITESPACE}]"


def country_field(**kwargs: Any) -> serializers.ChoiceField:
    return serializers.ChoiceField(choices=COUNTRY_CODES, help_text="ISO 3166-1 alpha-2 code, e.g. DE.", **kwargs)


def decimal_pattern(field: serializers.DecimalField) -> str:
    """The decimal strings ``field`` accepts, as a regex the schema documents and the server enforces:
    digits within ``max_digits``/``decimal_places``, a sign only where negatives are allowed."""
    places = field.decimal_places or 0
    whole = f"{{1,{field.max_digits - places}}}" if field.max_digits is not None else "+"
    sign = "" if field.min_value is not None and field.min_value >= 0 else "-?"
    fraction = rf"(\.[0-9]{{1,{places}}})?" if places else ""
    return rf"^{sign}[0-9]{whole}{fraction}$"


def _wire_type_error(field: serializers.Field[Any, Any, Any, Any], value: Any) -> str | None:
    """Why ``value`` (decoded JSON) is not of the JSON type the schema gives ``field``; None if it is."""
    if value is None:
        return None if field.allow_null else "This field may not be null."
    expected: tuple[type, ...]
    if isinstance(field, serializers.BooleanField):
        expected, name = (bool,), "true or false"
    elif isinstance(field, serializers.IntegerField):
        expected, name = (int,), "a whole number"
    elif isinstance(field, serializers.FloatField):
        expected, name = (int, float), "a number"
    elif isinstance(field, serializers.CharField | serializers.DecimalField | serializers.DateTimeField):
        expected, name = (str,), "a string"  # decimals travel as strings ("12.50"), never as floats
    elif isinstance(field, serializers.ChoiceField):
        expected, name = tuple({type(choice) for choice in field.choices} or {str}), "one of the choices"
    elif isinstance(field, serializers.ListField | serializers.ListSerializer):
        expected, name = (list,), "a list"
    elif isinstance(field, serializers.DictField | serializers.Serializer):
        expected, name = (dict,), "an object"
    else:
        return None
    if (isinstance(value, bool) and bool not in expected) or not isinstance(value, expected):
        return f"Must be {name}."
    if isinstance(field, serializers.DecimalField) and not re.fullmatch(decimal_pattern(field), str(value)):
        return 'Must be a decimal string within the documented digits, e.g. "12.50".'
    return None


class StrictInputSerializer(serializers.Serializer[Any]):
    """An input serializer that refuses unknown fields instead of silently dropping them, so
    ``{"is_staff": true}`` is a clear 400, never a silent no-op or, worse, a write; and refuses a
    value whose JSON type is not the field's (documented as ``additionalProperties: false`` and
    strict types in the schema). ``exactly_one_of`` names fields of which a body gives exactly one
    (documented as ``oneOf``)."""

    exactly_one_of: ClassVar[tuple[str, ...]] = ()

    def get_fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = super().get_fields()
        for field in fields.values():
            for each in (field, getattr(field, "child", None)):
                if isinstance(each, serializers.RegexField):
                    # The documented pattern applies to the value as sent; stripping it first would
                    # refuse "a:\t" that the pattern allows (and accept " a" that it refuses).
                    each.trim_whitespace = False
        return fields

    def validate(self, attrs: Any) -> Any:
        if self.exactly_one_of and sum(name in attrs for name in self.exactly_one_of) != 1:
            raise serializers.ValidationError(f"Give exactly one of {', '.join(self.exactly_one_of)}.")
        return super().validate(attrs)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping) and not isinstance(data, QueryDict):
            errors: dict[str, list[str]] = {}
            for name in sorted(set(data) - set(self.fields)):
                errors[name] = ["Unknown or read-only field."]
            for name, field in self.fields.items():
                if name in data and not field.read_only and (problem := _wire_type_error(field, data[name])):
                    errors[name] = [problem]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class StrictQuerySerializer(StrictInputSerializer):
    """Query parameters, read the way the schema documents them: ``?sort=`` is an empty value (refused
    unless the field allows blank), not an absent parameter as in DRF's HTML-form reading; a repeated
    parameter is refused unless the field is a list; booleans are exactly ``true`` or ``false``."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, QueryDict):
            data = self._as_json(data)
        return super().to_internal_value(data)

    def _as_json(self, query: QueryDict) -> dict[str, Any]:
        values: dict[str, Any] = {}
        errors: dict[str, list[str]] = {}
        for name, given in query.lists():
            field = self.fields.get(name)
            if isinstance(field, serializers.ListField):
                values[name] = given
            elif len(given) > 1:
                errors[name] = ["Give this parameter once."]
            elif isinstance(field, serializers.BooleanField):
                values[name] = _BOOLEAN_WORDS.get(given[0], given[0])  # anything else: "Must be true or false."
            elif isinstance(field, serializers.IntegerField) and _INTEGER.match(given[0]):
                values[name] = int(given[0])
            else:
                values[name] = given[0]
        if errors:
            raise serializers.ValidationError(errors)
        return values


class MoneyOutput(serializers.Serializer[Any]):
    """An amount of money, in the same shape everywhere in the API: ``amount`` is a decimal string in
    the currency's minor unit (never a float), ``currency`` its ISO 4217 code."""

    amount = serializers.CharField(help_text='Decimal string in the currency\'s minor unit, e.g. "12.50".')
    currency = serializers.CharField(help_text="ISO 4217 code, e.g. EUR.")

    class Meta:
        ref_name = "Money"
