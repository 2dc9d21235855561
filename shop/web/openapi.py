"""OpenAPI generation for the edge: every error response is documented as problem+json.

The exception handler answers every failure with RFC 9457 problem+json, so the schema says so:
each 4xx/5xx response carries the ``Problem`` schema, and the errors the edge itself can produce
(401 from authentication, 429 from throttles, 400/413/415 from body parsing, 404 from a path
parameter naming nothing) are documented on every operation where they can happen, including
operations that later contexts add, without each view repeating them.
"""

from __future__ import annotations

from typing import Any

from django.core.validators import RegexValidator
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import force_instance, is_serializer
from rest_framework import serializers

from shop.kernel.problems import PROBLEM_CONTENT_TYPE
from shop.web.serializers import COUNTRY_CODES, NOT_BLANK_PATTERN, StrictInputSerializer, decimal_pattern

_BODY_METHODS = {"POST", "PUT", "PATCH"}


class ProblemSerializer(serializers.Serializer[Any]):
    """RFC 9457 problem details (members beyond these may appear, e.g. ``context``)."""

    type = serializers.CharField(help_text="A URI naming the problem type.")
    title = serializers.CharField()
    status = serializers.IntegerField()
    code = serializers.CharField(help_text="Stable, machine-readable error code.")
    detail = serializers.CharField(required=False)

    class Meta:
        ref_name = "Problem"

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        # Not a class attribute: it would shadow ``Serializer.errors``.
        fields["errors"] = serializers.JSONField(required=False, help_text="Per-field messages (validation_error).")
        return fields


_EDGE_ERRORS: dict[str, str] = {
    "400": "`malformed_request`, `body_too_deep` or `validation_error`",
    "401": "`not_authenticated` or `authentication_failed` (see `WWW-Authenticate`)",
    "404": "`not_found`",
    "413": "`body_too_large`",
    "415": "`unsupported_media_type`",
    "429": "`throttled` (see `Retry-After`)",
}


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's AutoSchema plus the edge's error responses, documented as problem+json, and
    inputs documented exactly as the server validates them (``shop.web.serializers``): strict bodies
    forbid additional properties, ``exactly_one_of`` is a ``oneOf``, decimals carry the pattern the
    server enforces, and a PATCH body is partial only where the view validates it partially."""

    def _map_serializer(self, serializer: Any, direction: Any, bypass_extensions: bool = False) -> dict[str, Any]:
        schema: dict[str, Any] = super()._map_serializer(serializer, direction, bypass_extensions)
        if direction == "request" and isinstance(serializer, StrictInputSerializer):
            schema["additionalProperties"] = False
            if serializer.exactly_one_of:
                schema["oneOf"] = [{"required": [name]} for name in serializer.exactly_one_of]
        return schema

    def _map_serializer_field(self, field: Any, direction: Any, bypass_extensions: bool = False) -> dict[str, Any]:
        schema: dict[str, Any] = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, serializers.DecimalField) and schema.get("type") == "string":
            schema["pattern"] = decimal_pattern(field)
        if (
            direction == "request"
            and isinstance(field, serializers.CharField)
            and field.trim_whitespace
            and not field.allow_blank
            and schema.get("type") == "string"
            and "format" not in schema
            and not any(isinstance(validator, RegexValidator) for validator in field.validators)  # their own pattern
        ):
            schema["pattern"] = NOT_BLANK_PATTERN  # DRF strips the value first: whitespace alone is blank
        if direction == "response" and schema.get("format") == "email":
            # An answer holds the address as registered. RFC 5322 allows characters (``}@x.test``) that
            # some validators' ``email`` format refuses, so the format is a promise only about inputs.
            del schema["format"]
        if isinstance(field, serializers.ChoiceField) and tuple(field.choices) == COUNTRY_CODES:
            schema["description"] = field.help_text  # not one line per country: the enum lists them
        return schema

    def _get_request_for_media_type(self, serializer: Any, direction: Any = "request") -> Any:
        instance = force_instance(serializer)
        if self.method == "PATCH" and is_serializer(instance) and not instance.partial:
            # drf-spectacular documents every PATCH body as partial; this view validates it whole.
            self.method = "PUT"
            try:
                schema, required = super()._get_request_for_media_type(instance, direction)
            finally:
                self.method = "PATCH"
        else:
            schema, required = super()._get_request_for_media_type(serializer, direction)
        # A body that must name one of several fields is required even though no single field is.
        return schema, required or bool(getattr(instance, "exactly_one_of", ()))

    def _edge_error_codes(self) -> list[str]:
        codes: list[str] = []
        if self.method in _BODY_METHODS and self.view.parser_classes:
            codes += ["400", "413", "415"]
        if self.view.authentication_classes:
            codes.append("401")  # a bad token is refused even where anonymous access is allowed
        if "{" in self.path:
            codes.append("404")
        if self.view.throttle_classes:
            codes.append("429")
        return codes

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        for code in self._edge_error_codes():
            responses.setdefault(code, {"description": _EDGE_ERRORS[code]})
        problem = self._get_response_for_code(ProblemSerializer, "400", [PROBLEM_CONTENT_TYPE], direction)
        for code, response in responses.items():
            if code[0] in "45" and not response.get("content"):
                response["content"] = problem["content"]
        return dict(sorted(responses.items()))


def lib_doc_excludes() -> list[type]:
    """drf-spectacular's ``GET_LIB_DOC_EXCLUDES``: its own list, plus the edge's base classes. A class
    without a docstring inherits its bases' in Python, and spectacular shows that as the description
    of the API element: the docstring of ``StrictInputSerializer`` (a note to developers about mass
    assignment) was the description of every request body. A base class here describes nothing in
    the API; each serializer or view that needs a description gives its own."""
    from drf_spectacular.plumbing import get_lib_doc_excludes

    from shop.web.serializers import StrictInputSerializer

    return [*get_lib_doc_excludes(), StrictInputSerializer]
