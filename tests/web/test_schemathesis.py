"""Property-based conformance of the whole public API against its own OpenAPI schema.

The schema is loaded from the running app (``/api/schema/`` through WSGI, in-process), so every
operation a context adds later is fuzzed here without touching this file. Each operation runs
twice: anonymously and with a valid bearer token of a real user owning a few objects. Required:
no 5xx, every response documented (status and content type) and matching its schema.
"""

from __future__ import annotations

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
    response_schema_conformance,
    status_code_conformance,
)

from shop.users.models import User
from shop.wsgi import application
from tests.factories import AddressFactory

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Bounded: ~15 generated cases per operation and mode (plus schemathesis' explicit/coverage cases).
FUZZ = settings(max_examples=15, deadline=None, database=None, suppress_health_check=list(HealthCheck))
OWNED_OBJECTS = 3

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


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
