"""Property-based conformance of the whole public API against its own OpenAPI schema.

The schema is loaded from the running app (``/api/schema/`` through WSGI, in-process), so every
operation a context adds later is fuzzed here without touching this file. Each operation runs
twice, with a fixed seed: anonymously and with a valid bearer token of a real user owning a few
objects. Required, for every generated request, positive (schema-valid) and negative alike:

- no 5xx; every response documented (status, content type, headers) and matching its schema;
- schema-invalid input is refused (``negative_data_rejection``), a missing required header is a
  400, an undocumented method a 405;
- schema-valid input is never refused as *malformed* (``validation_error``, ``malformed_request``,
  ``unsupported_media_type``…): where the server and the schema disagree on what a valid request is,
  one of them is wrong. A business refusal of well-formed input (``weak_password``,
  ``invalid_reset_token``, ``quantity_out_of_range``…) is an answer, not a disagreement, so
  schemathesis' own ``positive_data_acceptance`` (which counts every 400 as one) is replaced by
  this narrower check.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from rest_framework.throttling import SimpleRateThrottle
from rest_framework_simplejwt.tokens import AccessToken
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    missing_required_header,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from shop.users.models import User
from shop.wsgi import application
from tests.factories import AddressFactory

# Fixed, so a run is reproducible; another seed explores other inputs (SHOP_SCHEMATHESIS_SEED=n).
SEED = int(os.environ.get("SHOP_SCHEMATHESIS_SEED", "20260412"))
# Bounded: ~15 generated cases per operation and mode (plus schemathesis' explicit/coverage cases).
FUZZ = settings(max_examples=15, deadline=None, database=None, suppress_health_check=list(HealthCheck))
OWNED_OBJECTS = 3
# Codes that say "your request does not have the documented shape": the schema promised otherwise.
SHAPE_CODES = {"validation_error", "malformed_request", "body_too_deep", "unsupported_media_type", "not_acceptable"}

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
schema.config.seed = SEED


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(map(_holds_nul, value))
    return False


def schema_valid_input_is_not_refused_as_malformed(ctx: Any, response: Any, case: schemathesis.Case) -> bool | None:
    if case.meta is None or not case.meta.generation.mode.is_positive or not 400 <= response.status_code < 500:
        return None
    try:
        code = json.loads(response.content).get("code")
    except (ValueError, AttributeError):
        code = None
    # Text never holds NUL here (DRF refuses it in every string, PostgreSQL in every column).
    sent = (case.body, case.query, case.path_parameters, case.headers)
    if code in SHAPE_CODES and not any(_holds_nul(part) for part in sent):
        raise AssertionError(
            f"A schema-valid request was refused as {code!r}: the schema documents a shape the server "
            f"does not accept.\n{response.status_code} {response.content[:600]!r}"
        )
    return None


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    missing_required_header,
    unsupported_method,
    ignored_auth,
    schema_valid_input_is_not_refused_as_malformed,
]


def _small_ids(path_parameters: dict[str, Any] | None) -> dict[str, Any] | None:
    if not path_parameters:
        return path_parameters
    return {
        name: value % (OWNED_OBJECTS + 1) if isinstance(value, int) and not isinstance(value, bool) else value
        for name, value in path_parameters.items()
    }


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> st.SearchStrategy[Any]:
    """Half of the ids hit objects the user owns (ids 1..3 after a sequence reset), so detail
    endpoints are exercised on their success path too, not only on 404."""
    return st.sampled_from([path_parameters, _small_ids(path_parameters)])


@pytest.fixture(autouse=True)
def _no_throttling(monkeypatch: pytest.MonkeyPatch) -> None:
    """Throttles would turn the fuzzing into a 429 test; DRF reads the rates once, at import."""
    rates = dict.fromkeys(SimpleRateThrottle.THROTTLE_RATES, "1000000/min")
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)


@pytest.fixture
def bearer(make_user: Callable[..., User]) -> Callable[[], dict[str, str]]:
    """A fresh token per request: a fuzzed password or email change revokes older tokens."""
    user = make_user()
    AddressFactory.create_batch(OWNED_OBJECTS, user=user)

    def header() -> dict[str, str]:
        return {"Authorization": f"Bearer {AccessToken.for_user(User.objects.get(pk=user.pk))}"}

    return header


@pytest.mark.django_db(transaction=True, reset_sequences=True)
@schema.parametrize()
@FUZZ
def test_anonymous_client_gets_only_documented_non_5xx_answers(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS)


@pytest.mark.django_db(transaction=True, reset_sequences=True)
@schema.parametrize()
@FUZZ
def test_authenticated_client_gets_only_documented_non_5xx_answers(
    case: schemathesis.Case, bearer: Callable[[], dict[str, str]]
) -> None:
    case.call_and_validate(headers=bearer(), checks=CHECKS)


def test_the_fuzzed_schema_lists_the_users_api() -> None:
    """Guards against fuzzing nothing: an empty or unreachable schema would pass vacuously."""
    paths = set(schema.raw_schema["paths"])
    assert {"/api/v1/auth/token/", "/api/v1/users/me/", "/api/v1/users/me/addresses/{address_id}/"} <= paths
