"""Behind a TLS-terminating proxy and inside a cluster, with the real production settings: a kubelet's
probe (the pod's IP as Host, plain HTTP, no ``X-Forwarded-Proto``) and another context's internal call
(the Service's name as Host) are answered, not refused (400) or redirected to https (301, which the
internal client does not follow), while every public path keeps its host check and HTTPS redirect."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.web.production import on_the_test_databases, production_env, python

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

POD = "10.244.1.17:8000"
SERVICE = "users.shop.svc.cluster.local:8000"
SCRIPT = """
import json
import django
django.setup()
from django.conf import settings
from django.test import Client
from shop.registry.transport import signing

body = b'{"user_id": 987654321}'
path = "/internal/users/get_user"
signed = signing.signed_headers(secret=settings.SHOP_INTERNAL_SECRET, method="POST", path=path, body=body)
requests = {
    "healthz": ("get", "/healthz", {"HTTP_HOST": "{pod}"}),
    "readyz": ("get", "/readyz", {"HTTP_HOST": "{pod}"}),
    "healthz_by_public_name": ("get", "/healthz", {"HTTP_HOST": "shop.example"}),
    "internal": ("post", path, {"HTTP_HOST": "{service}", "data": body, "content_type": "application/json",
                                 "headers": signed}),
    "public_by_pod_ip": ("get", "/api/v1/catalog/products/", {"HTTP_HOST": "{pod}"}),
    "public_plain_http": ("get", "/api/v1/catalog/products/", {"HTTP_HOST": "shop.example"}),
    "public_through_proxy": ("get", "/api/v1/catalog/products/",
                             {"HTTP_HOST": "shop.example", "HTTP_X_FORWARDED_PROTO": "https"}),
}
answers = {}
for name, (method, url, extra) in requests.items():
    response = getattr(Client(raise_request_exception=False), method)(url, **extra)
    try:
        body_json = json.loads(response.content)
    except ValueError:
        body_json = {}
    answers[name] = {"status": response.status_code, "location": response.get("Location"),
                     "state": body_json.get("status") if name == "readyz" else body_json.get("code")}
print(json.dumps(answers))
""".replace("{pod}", POD).replace("{service}", SERVICE)


def _answers(**env_overrides: str) -> dict[str, dict[str, Any]]:
    result = python(SCRIPT, env=production_env(**{**on_the_test_databases(), **env_overrides}))
    assert result.returncode == 0, result.stderr
    answers: dict[str, dict[str, Any]] = json.loads(result.stdout.strip().splitlines()[-1])
    return answers


def test_probes_and_internal_calls_work_from_inside_the_cluster() -> None:
    answers = _answers()

    assert answers["healthz"]["status"] == 200
    assert (answers["readyz"]["status"], answers["readyz"]["state"]) == (200, "ok")
    assert answers["healthz_by_public_name"]["status"] == 200  # plain HTTP: no redirect to https
    # The internal call ran: a business answer from the users context, not a 301 or a 400.
    assert (answers["internal"]["status"], answers["internal"]["state"]) == (404, "not_found")


def test_public_paths_keep_their_host_check_and_https_redirect() -> None:
    answers = _answers()

    assert answers["public_by_pod_ip"]["status"] == 400  # ALLOWED_HOSTS is not weakened
    assert answers["public_plain_http"]["status"] == 301
    assert answers["public_plain_http"]["location"] == "https://shop.example/api/v1/catalog/products/"
    assert answers["public_through_proxy"]["status"] == 200


def test_readyz_is_503_only_when_the_database_is_unreachable() -> None:
    answers = _answers(DATABASE_URL="postgres://postgres@127.0.0.1:1/shop")  # nothing listens on port 1

    assert answers["healthz"]["status"] == 200
    assert (answers["readyz"]["status"], answers["readyz"]["state"]) == (503, "unavailable")
