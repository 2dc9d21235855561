"""A small, stateful fake of the three Stripe endpoints the adapter calls, served by pytest-httpserver.

It speaks Stripe's wire format (form-encoded requests, JSON objects and error envelopes, the
``Idempotency-Key`` header) so the real SDK runs unmodified against it. Payment methods choose the
outcome, mirroring the simulator's tokens (the ``pm_card_*`` ids are Stripe's own test ids; the
``pm_fake_*`` ones exist only here). Like Stripe, it replays the stored answer (402s included) for a
known key, refuses a key reused with other parameters, and stores nothing for a 5xx.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

API_KEY = "sk_test_fake_0123456789"
WEBHOOK_SECRET = "whsec_fake_0123456789abcdef"

SUCCEEDS = "pm_card_visa"
DECLINED = "pm_card_chargeDeclined"
INSUFFICIENT_FUNDS = "pm_card_chargeDeclinedInsufficientFunds"
REQUIRES_ACTION = "pm_card_authenticationRequired"
PROCESSING = "pm_fake_processing"
UNAVAILABLE_ONCE = "pm_fake_unavailable_once"  # 503 the first time per idempotency key, then succeeds

_DECLINES = {
    DECLINED: ("generic_decline", "Your card was declined."),
    INSUFFICIENT_FUNDS: ("insufficient_funds", "Your card has insufficient funds."),
}
_METADATA = re.compile(r"^metadata\[(.+)\]$")

Answer = tuple[int, dict[str, Any]]


@dataclass
class FakeStripe:
    intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, str], dict[str, str]]] = field(default_factory=list)
    scripted: list[Answer] = field(default_factory=list)  # answered, in order, before any real handling
    delay_s: float = 0.0
    _replays: dict[tuple[str, str], tuple[dict[str, str], int, str]] = field(default_factory=dict)  # a snapshot
    _unavailable_seen: set[str] = field(default_factory=set)

    def install(self, server: HTTPServer) -> None:
        server.expect_request("/v1/payment_intents", method="POST").respond_with_handler(self._create_intent)
        server.expect_request(re.compile(r"^/v1/payment_intents/[^/]+$"), method="GET").respond_with_handler(
            self._get_intent
        )
        server.expect_request("/v1/refunds", method="POST").respond_with_handler(self._create_refund)

    # --- what tests look at or drive ---------------------------------------------------------------

    @property
    def charge_count(self) -> int:
        return len(self.intents)

    def fail_next(self, status: int, error_type: str = "api_error", code: str | None = None) -> None:
        self.scripted.append((status, {"error": {"type": error_type, "code": code, "message": f"scripted {status}"}}))

    def complete_action(self, intent_id: str, *, approve: bool) -> None:
        """The customer finishes (or fails) 3-D Secure on Stripe's page."""
        intent = self.intents[intent_id]
        assert intent["status"] == "requires_action"
        intent["next_action"] = None
        if approve:
            self._succeed(intent)
        else:
            intent["status"] = "requires_payment_method"
            intent["last_payment_error"] = {
                "type": "card_error",
                "code": "payment_intent_authentication_failure",
                "message": "The provided PaymentMethod has failed authentication.",
            }

    def settle(self, intent_id: str) -> None:
        intent = self.intents[intent_id]
        assert intent["status"] == "processing"
        self._succeed(intent)

    # --- endpoints ---------------------------------------------------------------------------------

    def _create_intent(self, request: Request) -> Response:
        return self._handle(request, self._new_intent)

    def _get_intent(self, request: Request) -> Response:
        intent_id = request.path.rsplit("/", 1)[1]
        return self._handle(request, lambda _form: self._existing_intent(intent_id))

    def _create_refund(self, request: Request) -> Response:
        return self._handle(request, self._new_refund)

    def _handle(self, request: Request, answer: Any) -> Response:
        form = {key: request.form[key] for key in request.form}
        self.requests.append((request.method, request.path, form, dict(request.headers)))
        if self.delay_s:
            time.sleep(self.delay_s)
        if request.headers.get("Authorization") != f"Bearer {API_KEY}":
            return _json(401, _error("invalid_request_error", "Invalid API Key provided."))
        if self.scripted:
            return _json(*self.scripted.pop(0))
        key = request.headers.get("Idempotency-Key") if request.method == "POST" else None
        if key is not None and (request.path, key) in self._replays:
            first_form, status, text = self._replays[(request.path, key)]
            if first_form != form:
                message = (
                    "Keys for idempotent requests can only be used with the same parameters they were first used with."
                )
                return _json(400, _error("idempotency_error", message))
            return _json(status, text, replayed=True)
        status, body = answer(form) if key is None else self._maybe_unavailable(key, form, answer)
        if key is not None and status < 500:
            self._replays[(request.path, key)] = (form, status, json.dumps(body))
        return _json(status, body)

    def _maybe_unavailable(self, key: str, form: dict[str, str], answer: Any) -> Answer:
        if form.get("payment_method") == UNAVAILABLE_ONCE and key not in self._unavailable_seen:
            self._unavailable_seen.add(key)
            return 503, _error("api_error", "Stripe is temporarily unavailable.")
        result: Answer = answer(form)
        return result

    def _new_intent(self, form: dict[str, str]) -> Answer:
        method = form.get("payment_method", "")
        if method not in (SUCCEEDS, REQUIRES_ACTION, PROCESSING, UNAVAILABLE_ONCE, *_DECLINES):
            return 400, _error("invalid_request_error", f"No such PaymentMethod: '{method}'", code="resource_missing")
        intent_id = f"pi_{secrets.token_hex(12)}"
        intent: dict[str, Any] = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": int(form["amount"]),
            "amount_received": 0,
            "currency": form["currency"],
            "status": "processing",
            "payment_method": method,
            "confirmation_method": "automatic",
            "client_secret": f"{intent_id}_secret_{secrets.token_hex(8)}",
            "metadata": {m.group(1): v for k, v in form.items() if (m := _METADATA.match(k))},
            "next_action": None,
            "last_payment_error": None,
            "latest_charge": None,
            "cancellation_reason": None,
            "created": int(time.time()),
            "livemode": False,
        }
        self.intents[intent_id] = intent
        if method in _DECLINES:
            decline_code, message = _DECLINES[method]
            error = {"type": "card_error", "code": "card_declined", "decline_code": decline_code, "message": message}
            intent.update(status="requires_payment_method", last_payment_error=error)
            return 402, {"error": {**error, "payment_intent": intent}}
        if method == REQUIRES_ACTION:
            intent["status"] = "requires_action"
            intent["next_action"] = {
                "type": "redirect_to_url",
                "redirect_to_url": {
                    "url": f"https://hooks.stripe.com/3d_secure_2/hosted?payment_intent={intent_id}",
                    "return_url": form.get("return_url"),
                },
            }
        elif method != PROCESSING:
            self._succeed(intent)
        return 200, intent

    def _existing_intent(self, intent_id: str) -> Answer:
        intent = self.intents.get(intent_id)
        if intent is None:
            return 404, _error(
                "invalid_request_error", f"No such payment_intent: '{intent_id}'", code="resource_missing"
            )
        return 200, intent

    def _new_refund(self, form: dict[str, str]) -> Answer:
        intent = self.intents.get(form.get("payment_intent", ""))
        if intent is None:
            return 404, _error("invalid_request_error", "No such payment_intent", code="resource_missing")
        if intent["status"] != "succeeded":
            return 400, _error(
                "invalid_request_error", "This PaymentIntent does not have a successful charge to refund."
            )
        refunded = sum(r["amount"] for r in self.refunds.values() if r["payment_intent"] == intent["id"])
        left = intent["amount"] - refunded
        amount = int(form.get("amount", left))
        if amount > left:
            message = f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})"
            return 400, _error("invalid_request_error", message, code="amount_too_large")
        refund = {
            "id": f"re_{secrets.token_hex(12)}",
            "object": "refund",
            "amount": amount,
            "currency": intent["currency"],
            "payment_intent": intent["id"],
            "charge": intent["latest_charge"],
            "status": "succeeded",
            "created": int(time.time()),
        }
        self.refunds[refund["id"]] = refund
        return 200, refund

    @staticmethod
    def _succeed(intent: dict[str, Any]) -> None:
        intent.update(status="succeeded", amount_received=intent["amount"], latest_charge=f"ch_{secrets.token_hex(12)}")


def _error(error_type: str, message: str, *, code: str | None = None) -> dict[str, Any]:
    return {"error": {"type": error_type, "code": code, "message": message}}


def _json(status: int, body: dict[str, Any] | str, *, replayed: bool = False) -> Response:
    text = body if isinstance(body, str) else json.dumps(body)
    headers = {"Request-Id": f"req_{secrets.token_hex(8)}"}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(text, status=status, headers=headers, content_type="application/json")
