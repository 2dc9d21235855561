"""Payments over HTTP: a customer reads their own payment; gateways post webhooks; the
simulated gateway's stand-in for a bank's 3-D Secure page."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from shop.payments import api, selectors
from shop.payments.serializers import PaymentOutput, SimulatedAuthenticationInput, WebhookAcceptedOutput
from shop.payments.services import webhooks
from shop.payments.services.gateways import GATEWAYS, get_gateway
from shop.payments.services.gateways.base import GatewayRejected
from shop.payments.services.gateways.simulated import SimulatedGateway
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
    """Development only: plays the bank's 3-D Secure page for ``tok_requires_action`` payments.
    Approving makes the simulated provider send its signed webhook, through the real endpoint's code."""

    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="payments_simulated_authenticate",
        request=SimulatedAuthenticationInput,
        responses={200: WebhookAcceptedOutput, 400: PROBLEM, 404: PROBLEM},
        tags=["payments"],
    )
    def post(self, request: Request, reference: str) -> Response:
        if settings.SHOP_PAYMENT_GATEWAY != "simulated":
            raise Http404
        data = SimulatedAuthenticationInput(data=request.data)
        data.is_valid(raise_exception=True)
        gateway = get_gateway("simulated")
        assert isinstance(gateway, SimulatedGateway)
        try:
            body, headers = gateway.authenticate(reference=reference, approve=data.validated_data["approve"])
        except GatewayRejected as exc:  # no such payment waiting for authentication
            raise api.PaymentNotFound(str(exc)) from exc
        ingested = webhooks.ingest(gateway_name="simulated", body=body, headers=headers)
        return Response({"received": True, "duplicate": ingested.duplicate})
