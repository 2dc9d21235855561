"""Every parsed body is bounded in size and depth: a hostile body is a 4xx problem, never a 500.

A 2 KB body nested 1000 deep used to exhaust ``json.loads``' recursion (a 500), and the parser read
bodies of any size. Unit-level properties of the parser are fuzzed with hypothesis; the HTTP tests
go through the real endpoints a guest can reach.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.test import Client, override_settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from shop.kernel.errors import DomainError
from shop.registry.transport import signing
from shop.web.parsers import json_depth, parse_json_body
from tests.helpers import assert_problem

pytestmark = pytest.mark.django_db

PUBLIC_BODY_ENDPOINTS = ["/api/v1/auth/token/", "/api/v1/auth/password-reset/", "/api/v1/cart/lines/"]


def _post_raw(url: str, body: bytes | str, content_type: str = "application/json") -> Any:
    return Client(raise_request_exception=False).post(url, body, content_type=content_type)


@pytest.mark.parametrize("url", PUBLIC_BODY_ENDPOINTS)
@pytest.mark.parametrize("opening", ["[", '{"a":'])
def test_a_body_nested_1000_deep_is_400_body_too_deep(url: str, opening: str) -> None:
    closing = "]" if opening == "[" else "}"
    body = assert_problem(_post_raw(url, opening * 1000 + "1" + closing * 1000), 400, "body_too_deep")
    assert str(settings.SHOP_MAX_JSON_DEPTH) in body["detail"]


def test_nesting_up_to_the_limit_is_parsed_and_judged_by_the_view() -> None:
    limit = settings.SHOP_MAX_JSON_DEPTH
    nested: Any = "x"
    for _ in range(limit - 1):
        nested = [nested]
    response = _post_raw("/api/v1/auth/password-reset/", json.dumps({"email": nested}))
    assert_problem(response, 400, "validation_error")  # parsed: the serializer refuses the value


def test_brackets_inside_strings_are_text_not_nesting() -> None:
    deep_looking = "[" * 5000 + '\\"{' * 100
    response = _post_raw("/api/v1/auth/password-reset/", json.dumps({"email": deep_looking}))
    assert_problem(response, 400, "validation_error")


@override_settings(SHOP_MAX_BODY_BYTES=1024)
@pytest.mark.parametrize("url", PUBLIC_BODY_ENDPOINTS)
def test_a_body_over_the_size_limit_is_413_body_too_large(url: str) -> None:
    body = json.dumps({"email": "a@example.com", "padding": "x" * 2000})
    assert_problem(_post_raw(url, body), 413, "body_too_large")


@pytest.mark.parametrize(
    "raw",
    [b'{"email": NaN}', b'{"email": Infinity}', b"\xff\xfe{}", b'{"email": "a@example.com"', b"   "],
)
def test_malformed_bodies_are_400_malformed_request(raw: bytes) -> None:
    assert_problem(_post_raw("/api/v1/auth/password-reset/", raw), 400, "malformed_request")


def test_the_schema_documents_413_on_every_operation_with_a_body(api_client: APIClient) -> None:
    schema = api_client.get("/api/schema/?format=json").json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if "requestBody" in operation:
                assert "413" in operation["responses"], f"{method.upper()} {path}"


def test_the_internal_transport_refuses_a_deep_body_with_a_problem_not_a_500() -> None:
    """Its arguments are decoded by msgspec against the method's types: a deep body is refused at
    the first level that does not match, without recursing into it."""
    path = "/internal/users/get_user"
    body = b'{"user_id":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    headers = signing.signed_headers(
        secret=settings.SHOP_INTERNAL_SECRET, method="POST", path=path, body=body, acting_user=""
    )
    response = Client(raise_request_exception=False).post(path, body, content_type="application/json", headers=headers)
    assert_problem(response, 400, "invalid_arguments")


# --- the parser itself, fuzzed -------------------------------------------------------------------------

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=30,
)
FUZZ = hypothesis_settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    return 0


@FUZZ
@given(_json_values)
def test_json_depth_is_the_nesting_of_any_json_document(value: Any) -> None:
    assert json_depth(json.dumps(value)) == _depth(value)


@FUZZ
@given(_json_values)
def test_any_json_document_within_the_limits_parses_to_itself(value: Any) -> None:
    if _depth(value) <= settings.SHOP_MAX_JSON_DEPTH:
        assert parse_json_body(json.dumps(value).encode()) == value


@FUZZ
@given(
    st.binary(max_size=3000)
    | st.text(alphabet='[]{}",:\\0a ', max_size=3000).map(str.encode)
    | st.integers(min_value=1, max_value=50_000).map(lambda n: b"[" * n + b"]" * n)
)
def test_any_bytes_either_parse_or_raise_a_domain_error(raw: bytes) -> None:
    try:
        parse_json_body(raw)
    except DomainError as exc:
        assert exc.code in {"malformed_request", "body_too_deep", "body_too_large"}
        assert 400 <= exc.status < 500


@hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    raw=st.binary(max_size=2000)
    | st.integers(min_value=1, max_value=20_000).map(lambda n: b"[" * n + b"]" * n)
    | _json_values.map(lambda value: json.dumps(value).encode())
)
def test_no_body_makes_a_public_endpoint_answer_5xx(raw: bytes, throttle_rates: Callable[..., None]) -> None:
    throttle_rates(anon="1000000/min", login="1000000/min", login_identity="1000000/min")
    for url in PUBLIC_BODY_ENDPOINTS:
        response = _post_raw(url, raw)
        assert response.status_code < 500, (url, raw[:80], response.content[:300])
        if response.status_code >= 400:
            assert response["Content-Type"] == "application/problem+json"
