"""OpenAPI generation for the edge: every error response is documented as problem+json.

The exception handler answers every failure with RFC 9457 problem+json, so the schema says so:
each 4xx/5xx response carries the ``Problem`` schema, and the errors the edge itself can produce
(401 from authentication, 429 from throttles, 400/413/415 from body parsing, 404 from a path
parameter naming nothing) are documented on every operation where they can happen, including
operations that later contexts add, without each view repeating them.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework import serializers

from shop.kernel.problems import PROBLEM_CONTENT_TYPE

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
    """drf-spectacular's AutoSchema plus the edge's error responses, documented as problem+json."""

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
