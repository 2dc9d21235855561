"""Payments over HTTP: a customer reads their own payment; gateways post webhooks; the
simulated gateway's stand-in for a bank's 3-D Secure page."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_http_methods
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from shop.payments import api, selectors
from shop.payments.adapters.gateways import GATEWAYS
from shop.payments.adapters.gateways.base import GatewayRejected
from shop.payments.serializers import PaymentOutput, SimulatedAuthenticationInput, WebhookAcceptedOutput
from shop.payments.services import simulator, webhooks
from shop.web.pages import error_page, render_page
from shop.web.throttles import WebhookRateThrottle

PROBLEM = OpenApiResponse(description="problem+json with a stable `code`")


class PaymentDetailView(APIView):
    """Another customer's payment is a 404, exactly like a missing one."""

    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="payments_detail", responses={200: PaymentOutput, 404: PROBLEM}, tags=["payments"])
    def get(self, request: Request, payment_id: int) -> Response:
        user_id = request.user.pk
        assert isinstance(user_id, int)
        payment = selectors.payment_of(customer_id=user_id, payment_id=payment_id)
        if payment is None:
            raise api.PaymentNotFound()
        return Response(PaymentOutput(selectors.to_payment_dto(payment)).data)


class WebhookView(APIView):
    """Signed by the gateway, not by a user: no authentication, no throttling, raw body verified."""

    permission_classes = [AllowAny]
    authentication_classes: list[type] = []
    throttle_classes = [WebhookRateThrottle]

    @extend_schema(
        operation_id="payments_webhook",
        request=None,
        responses={200: WebhookAcceptedOutput, 400: PROBLEM, 404: PROBLEM},
        tags=["payments"],
    )
    def post(self, request: Request, gateway: str) -> Response:
        if gateway not in GATEWAYS:
            raise Http404
        ingested = webhooks.ingest(gateway_name=gateway, body=request.body, headers=request.headers)
        return Response({"received": True, "duplicate": ingested.duplicate})


class SimulatedAuthenticationView(APIView):
    """Development only: the JSON form of the simulated bank's 3-D Secure page (for scripts and
    tests); a second decision is 409 ``authentication_already_decided``."""

    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="payments_simulated_authenticate",
        request=SimulatedAuthenticationInput,
        responses={200: WebhookAcceptedOutput, 400: PROBLEM, 404: PROBLEM, 409: PROBLEM},
        tags=["payments"],
    )
    def post(self, request: Request, reference: str) -> Response:
        if not simulator.is_on():
            raise Http404
        data = SimulatedAuthenticationInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            ingested = simulator.decide(reference=reference, approve=data.validated_data["approve"])
        except simulator.AlreadyDecided as exc:
            raise api.AuthenticationAlreadyDecided(str(exc)) from exc
        except GatewayRejected as exc:  # no such payment
            raise api.PaymentNotFound(str(exc)) from exc
        return Response({"received": True, "duplicate": ingested.duplicate})


# --- the simulated bank's 3-D Secure page (HTML) ----------------------------------------------------
@require_http_methods(["GET", "POST"])
def authentication_page(request: HttpRequest, reference: str) -> HttpResponse:
    """What ``next_action_url`` opens: the amount and the merchant, Approve and Decline (a CSRF-protected
    form), then the answer and the way back to the order. A second decision is "already decided"."""
    if not simulator.is_on():
        return error_page(request, 404, "3-D Secure is simulated only with the simulated payment gateway.")
    payment = simulator.authentication(reference=reference)
    if payment is None:
        return error_page(request, 404, "There is no payment waiting for a security check at this address.")
    context = {"payment": payment, "merchant": settings.SHOP_NAME}
    if request.method == "GET":
        state = "ask" if payment.status == "requires_action" else "already_decided"
        return render_page(request, "payments/authenticate.html", {**context, "state": state})
    decision = request.POST.get("decision")
    if decision not in ("approve", "decline"):
        return render_page(request, "payments/authenticate.html", {**context, "state": "ask"}, status=400)
    try:
        simulator.decide(reference=reference, approve=decision == "approve")
    except simulator.AlreadyDecided:
        refreshed = simulator.authentication(reference=reference) or payment
        return render_page(
            request,
            "payments/authenticate.html",
            {**context, "payment": refreshed, "state": "already_decided"},
            status=409,
        )
    state = "approved" if decision == "approve" else "declined"
    return render_page(request, "payments/authenticate.html", {**context, "state": state})
