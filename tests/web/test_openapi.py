"""The OpenAPI document is valid, lists the API and documents its errors; the docs UI works offline."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from drf_spectacular.validation import validate_schema

from shop.kernel.problems import PROBLEM_CONTENT_TYPE

pytestmark = pytest.mark.django_db

USERS_PATHS = {
    "/api/v1/auth/register/": {"post"},
    "/api/v1/auth/token/": {"post"},
    "/api/v1/auth/token/refresh/": {"post"},
    "/api/v1/auth/logout/": {"post"},
    "/api/v1/auth/password-reset/": {"post"},
    "/api/v1/auth/password-reset/confirm/": {"post"},
    "/api/v1/users/me/": {"get", "patch"},
    "/api/v1/users/me/password/": {"post"},
    "/api/v1/users/me/addresses/": {"get", "post"},
    "/api/v1/users/me/addresses/{address_id}/": {"get", "patch", "delete"},
}
HTTP_METHODS = {"get", "put", "post", "patch", "delete", "head", "options", "trace"}


@pytest.fixture(scope="module")
def openapi(django_db_blocker: Any) -> dict[str, Any]:
    with django_db_blocker.unblock():
        response = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    document: dict[str, Any] = response.json()
    return document


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]


def test_the_schema_is_a_valid_openapi_3_document(openapi: dict[str, Any]) -> None:
    assert openapi["openapi"].startswith("3.")
    validate_schema(openapi)  # raises on any violation of the OpenAPI JSON schema


def test_the_schema_lists_every_users_operation(openapi: dict[str, Any]) -> None:
    for path, methods in USERS_PATHS.items():
        assert path in openapi["paths"], path
        assert methods <= set(openapi["paths"][path]), path


def test_only_the_versioned_public_api_is_documented(openapi: dict[str, Any]) -> None:
    """Internal transport, admin and health endpoints are not part of the public contract."""
    assert all(path.startswith("/api/v1/") for path in openapi["paths"])


def test_operation_ids_are_unique(openapi: dict[str, Any]) -> None:
    ids = [operation["operationId"] for _, _, operation in _operations(openapi)]
    assert len(ids) == len(set(ids))


def test_jwt_bearer_auth_is_documented_and_required_where_the_api_requires_it(openapi: dict[str, Any]) -> None:
    assert openapi["components"]["securitySchemes"]["jwtAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }
    me = openapi["paths"]["/api/v1/users/me/"]["get"]
    assert me["security"] == [{"jwtAuth": []}]  # no anonymous alternative
    login = openapi["paths"]["/api/v1/auth/token/"]["post"]
    assert {} in login.get("security", [{}])


def test_every_error_response_is_documented_as_problem_json(openapi: dict[str, Any]) -> None:
    problem = openapi["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "code"}
    for path, method, operation in _operations(openapi):
        responses = operation["responses"]
        for status, response in responses.items():
            if status[0] in "45":
                assert list(response["content"]) == [PROBLEM_CONTENT_TYPE], (path, method, status)
        assert "429" in responses, (path, method)  # every operation is throttled
        if any("jwtAuth" in requirement for requirement in operation.get("security", [])):
            assert "401" in responses, (path, method)
        if "requestBody" in operation:
            assert {"400", "415"} <= set(responses), (path, method)


def test_hand_paged_lists_document_the_page_envelope_and_parameters(openapi: dict[str, Any]) -> None:
    operation = openapi["paths"]["/api/v1/users/me/addresses/"]["get"]
    assert {p["name"] for p in operation["parameters"] if p["in"] == "query"} >= {"page", "page_size"}
    ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    envelope = openapi["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert set(envelope["required"]) == {"count", "next", "previous", "results"}


def test_swagger_ui_is_served_from_local_static_files_only() -> None:
    response = Client().get("/api/docs/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()

    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(asset.endswith("swagger-ui-bundle.js") for asset in assets)
    assert any(asset.endswith("swagger-ui.css") for asset in assets)
    for asset in assets:
        assert asset.startswith("/static/drf_spectacular_sidecar/"), asset
        assert finders.find(asset.removeprefix("/static/")), f"{asset} is not shipped by collectstatic"
    assert not re.search(r"cdn\.jsdelivr|unpkg\.com|cdnjs|https?://(?!localhost|testserver)", html)
    assert "/api/schema/" in html


def _descriptions(document: dict[str, Any]) -> list[str]:
    texts = [c.get("description", "") for c in document["components"]["schemas"].values()]
    for _, _, operation in _operations(document):
        texts.append(operation.get("description", ""))
        texts += [p.get("description", "") for p in operation.get("parameters", [])]
    return [text for text in texts if text]


def test_descriptions_are_written_for_clients_not_inherited_from_the_edges_base_classes(
    openapi: dict[str, Any],
) -> None:
    """Every request body was described by ``StrictInputSerializer``'s docstring, a note to developers."""
    bodies = [c["description"] for name, c in openapi["components"]["schemas"].items() if "description" in c]
    bodies = [text for text in bodies if "Enum" not in text and not text.startswith("* `")]
    assert len(bodies) == len(set(bodies)), "two schemas share a description: one inherited it"
    for text in _descriptions(openapi):
        for internal in ("InputSerializer", "mass assignment", "kernel.", "partial=True", "ProductPriceChanged"):
            assert internal not in text, text
    for path, item in openapi["paths"].items():  # a POST used to show its GET's description
        described = [op["description"] for method, op in item.items() if method in HTTP_METHODS and "description" in op]
        assert len(described) == len(set(described)), path


def test_the_pay_endpoint_documents_its_own_idempotency_key(openapi: dict[str, Any]) -> None:
    def key_of(path: str) -> str:
        (param,) = [p for p in openapi["paths"][path]["post"]["parameters"] if p["name"] == "Idempotency-Key"]
        assert param["required"] is True
        return str(param["description"])

    pay, checkout = key_of("/api/v1/orders/{order_id}/pay/"), key_of("/api/v1/orders/")
    assert "checkout" not in pay.lower() and "payment" in pay and "order it placed" in checkout
    for rule in ("idempotency_key_required", "idempotency_key_reused", "idempotency_key_in_use"):
        assert rule in pay and rule in checkout  # one rule, documented on both
