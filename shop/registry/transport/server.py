"""The server side of the internal transport: ``POST /internal/<context>/<method>``.

Exposes exactly the Protocol's methods of the contexts this process implements, decodes
arguments strictly from the type hints, answers DTOs as JSON and domain errors as problem+json.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import msgspec
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from shop.kernel import context as call_context
from shop.kernel.errors import DomainError
from shop.kernel.problems import PROBLEM_CONTENT_TYPE, problem, problem_for_domain_error
from shop.registry.contexts import CONTEXTS
from shop.registry.transport import codec, replay, signing
from shop.registry.transport.lookup import local_by_name, protocol_for

logger = logging.getLogger(__name__)


def _problem_response(body: dict[str, Any], *, domain: bool = False) -> HttpResponse:
    response = HttpResponse(json.dumps(body, default=str), status=body["status"], content_type=PROBLEM_CONTENT_TYPE)
    if domain:
        # Tells the client this is a business answer to re-raise, not a refusal by the transport.
        response[signing.DOMAIN_ERROR_HEADER] = "1"
    return response


def served_contexts() -> list[str]:
    served = settings.SHOP_SERVE
    return [c for c in CONTEXTS if not served or c in served]


@csrf_exempt
def internal_call(request: HttpRequest, context: str, method: str) -> HttpResponse:
    if request.method != "POST":
        response = _problem_response(problem(status=405, code="method_not_allowed", title="Internal calls are POST"))
        response["Allow"] = "POST"
        return response
    body = request.body
    acting_user = request.headers.get(signing.ACTING_USER_HEADER, "")
    secrets = [settings.SHOP_INTERNAL_SECRET, settings.SHOP_INTERNAL_SECRET_PREVIOUS]
    timestamp = request.headers.get(signing.TIMESTAMP_HEADER, "")
    nonce = request.headers.get(signing.NONCE_HEADER, "")
    if not signing.verify(
        secrets=secrets,
        method=request.method,
        path=request.path,
        timestamp=timestamp,
        nonce=nonce,
        provided=request.headers.get(signing.SIGNATURE_HEADER),
        body=body,
        acting_user=acting_user,
    ):
        return _problem_response(
            problem(status=401, code="bad_signature", title="Unsigned, stale or wrongly signed internal call")
        )
    if context not in served_contexts():
        return _problem_response(problem(status=404, code="unknown_context", title=f"No context {context!r} here"))
    protocol = protocol_for(context)
    if method not in codec.public_methods(protocol):
        return _problem_response(problem(status=404, code="unknown_method", title=f"No method {method!r}"))
    try:
        kwargs = codec.decode_arguments(protocol, method, body)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        return _problem_response(
            problem(status=400, code="invalid_arguments", title="Arguments do not match the contract", detail=str(exc))
        )
    if not replay.first_use(context=context, nonce=nonce, timestamp=int(timestamp)):
        return _problem_response(
            problem(status=401, code="replayed_call", title="This signed internal call was already received")
        )
    token = call_context.acting_user_id.set(acting_user or None)
    try:
        result = getattr(local_by_name(context), method)(**kwargs)
    except DomainError as exc:
        return _problem_response(problem_for_domain_error(exc), domain=True)
    finally:
        call_context.acting_user_id.reset(token)
    return HttpResponse(codec.encoder.encode(result), content_type="application/json")
