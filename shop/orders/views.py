"""The customer orders API: checkout, own orders (list, detail), cancel. Every lookup is scoped to
``request.user``: another customer's order is a 404, exactly like a missing one."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet, Sum
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from shop import registry
from shop.kernel import ContextUnavailable
from shop.orders import api, selectors
from shop.orders.models import Order
from shop.orders.serializers import (
    CheckoutInput,
    OrderListQuery,
    OrderOutput,
    OrderSummaryOutput,
    PayInput,
    PaymentSummaryOutput,
)
from shop.orders.services import checkout, lifecycle
from shop.payments.api import PaymentsAPI
from shop.web.pagination import KeysetPagination, cursor_page_schema

PROBLEM = OpenApiResponse(description="problem+json with a stable `code`")
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="Unique per checkout attempt (e.g. a UUID). A retry with the same key and body returns the same order.",
)


def _customer_id(request: Request) -> int:
    user_id = request.user.pk
    assert isinstance(user_id, int)  # IsAuthenticated
    return user_id


class NewestOrdersFirst(KeysetPagination):
    ordering = ("-placed_at", "-id")


class OrderListView(APIView):
    query_parameters = ("status", *KeysetPagination.query_parameters)
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="orders_list",
        **{
            **cursor_page_schema(OrderSummaryOutput),
            "parameters": [OpenApiParameter("status", OpenApiTypes.STR, enum=list(api.STATUSES))]
            + cursor_page_schema(OrderSummaryOutput)["parameters"],
        },
        tags=["orders"],
    )
    def get(self, request: Request) -> Response:
        """Your orders, newest first, in cursor pages (optionally one ``status``)."""
        query = OrderListQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        qs: QuerySet[Order] = selectors.orders_of(
            customer_id=_customer_id(request), status=query.validated_data.get("status")
        ).annotate(item_count=Sum("lines__quantity"))
        paginator = NewestOrdersFirst()
        page = paginator.paginate_queryset(qs, request, view=self)
        rows = [
            {
                "id": o.pk,
                "number": o.number,
                "status": o.status,
                "total": o.total,
                "item_count": o.item_count or 0,
                "placed_at": o.placed_at,
            }
            for o in page
        ]
        return paginator.get_paginated_response(OrderSummaryOutput(rows, many=True).data)

    @extend_schema(
        operation_id="orders_checkout",
        parameters=[IDEMPOTENCY_KEY],
        request=CheckoutInput,
        responses={
            201: OrderOutput,
            200: OpenApiResponse(OrderOutput, description="A replay: the order this key already placed."),
            400: PROBLEM,
            404: PROBLEM,
            409: PROBLEM,
            422: PROBLEM,
            503: PROBLEM,
        },
        tags=["orders"],
    )
    def post(self, request: Request) -> Response:
        """Check out the cart: stock is held, the order waits for payment until ``payment_due_by``."""
        data = CheckoutInput(data=request.data)
        data.is_valid(raise_exception=True)
        address: dict[str, Any] | None = data.validated_data.get("shipping_address")
        placed = checkout.checkout(
            customer_id=_customer_id(request),
            idempotency_key=request.headers.get("Idempotency-Key", ""),
            request_fingerprint=checkout.fingerprint(data.validated_data),
            shipping_address=api.ShippingAddress(**address) if address is not None else None,
            address_id=data.validated_data.get("address_id"),
        )
        return Response(
            OrderOutput(placed.order).data, status=status.HTTP_201_CREATED if placed.created else status.HTTP_200_OK
        )


def _with_payment(order: api.Order) -> dict[str, Any]:
    """The order as the customer sees it, with its payment (one call to payments; ``null`` when
    payments cannot answer now, so an order page never fails because of it)."""
    body = dict(OrderOutput(order).data)
    try:
        payment = registry.get(PaymentsAPI).payment_for_order(order_id=order.id)
    except ContextUnavailable:
        payment = None
    body["payment"] = PaymentSummaryOutput(payment).data if payment is not None else None
    return body


class OrderDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="orders_detail", responses={200: OrderOutput, 404: PROBLEM}, tags=["orders"])
    def get(self, request: Request, order_id: int) -> Response:
        order = selectors.order_of(customer_id=_customer_id(request), order_id=order_id)
        if order is None:
            raise api.OrderNotFound()
        return Response(_with_payment(selectors.to_order_dto(order)))


class OrderPayView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="orders_pay",
        parameters=[IDEMPOTENCY_KEY],
        request=PayInput,
        responses={200: OrderOutput, 400: PROBLEM, 404: PROBLEM, 409: PROBLEM, 422: PROBLEM, 503: PROBLEM},
        tags=["orders"],
    )
    def post(self, request: Request, order_id: int) -> Response:
        """Pay the order with a gateway token. The amount is the order's total, never the client's.
        A decline leaves the order payable (see ``payment.failure_code``); ``requires_action`` sends
        the customer to ``payment.next_action_url``; the same key never charges twice."""
        data = PayInput(data=request.data)
        data.is_valid(raise_exception=True)
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key or len(key) > 200:
            raise api.IdempotencyKeyRequired("Send an Idempotency-Key header (at most 200 chars) with every payment.")
        customer_id = _customer_id(request)
        order = selectors.order_of(customer_id=customer_id, order_id=order_id)
        if order is None:
            raise api.OrderNotFound()
        if order.status not in (api.PENDING_PAYMENT, api.PAID):  # paid: payments replays the key, or already_paid
            raise api.IllegalTransition(
                f"An order that is {order.status.replace('_', ' ')} cannot be paid.",
                from_status=order.status,
                to_status=api.PAID,
            )
        payment = registry.get(PaymentsAPI).start_payment(
            order_id=order.pk,
            customer_id=customer_id,
            amount=order.total,
            token=data.validated_data["token"],
            idempotency_key=f"order-{order.pk}-{key}",
        )
        if payment.status == "succeeded":  # at once, not only when the event arrives (idempotent)
            lifecycle.payment_succeeded(order_id=order.pk, payment_id=payment.id)
        refreshed = selectors.order_of(customer_id=customer_id, order_id=order_id)
        assert refreshed is not None
        return Response(_with_payment(selectors.to_order_dto(refreshed)))


class OrderCancelView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="orders_cancel",
        request=None,
        responses={200: OrderOutput, 404: PROBLEM, 409: PROBLEM},
        tags=["orders"],
    )
    def post(self, request: Request, order_id: int) -> Response:
        """Cancel an order that is not paid yet; its stock goes back at once."""
        customer_id = _customer_id(request)
        order = selectors.order_of(customer_id=customer_id, order_id=order_id)
        if order is None:
            raise api.OrderNotFound()
        if order.status != api.PENDING_PAYMENT:
            raise api.IllegalTransition(
                "Only an order awaiting payment can be cancelled here; ask us to refund a paid one.",
                from_status=order.status,
                to_status=api.CANCELLED,
            )
        lifecycle.cancel(
            order_id=order_id, customer_id=customer_id, actor=lifecycle.Actor(kind="customer", id=customer_id)
        )
        refreshed = selectors.order_of(customer_id=customer_id, order_id=order_id)
        assert refreshed is not None
        return Response(OrderOutput(selectors.to_order_dto(refreshed)).data)
