"""The customer orders API: checkout, own orders (list, detail), cancel. Every lookup is scoped to
``request.user``: another customer's order is a 404, exactly like a missing one."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from shop import registry
from shop.kernel import ContextUnavailable, Money
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
from shop.orders.services import checkout, idempotency, lifecycle, pay, status_page
from shop.payments.api import Payment, PaymentsAPI
from shop.web.pages import error_page, render_page
from shop.web.pagination import KeysetPagination, cursor_page_schema

PROBLEM = OpenApiResponse(description="problem+json with a stable `code` (see docs/api.md)")
_KEY_RULES = (
    " Required: printable, at most 255 characters (else 400 `idempotency_key_required`). The same key with a"
    " different body is 422 `idempotency_key_reused`; sent again while its first request is still being"
    " answered, 409 `idempotency_key_in_use`. A request refused with a 4xx does not use its key up."
)
CHECKOUT_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="Unique per checkout (e.g. a UUID). A retry with the same key and body returns the order it placed,"
    " with 200 instead of 201." + _KEY_RULES,
)
PAY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="Unique per payment attempt (e.g. a UUID; a new one to try again after a decline). A retry with the"
    " same key and token charges nothing more and returns the order with that attempt's payment." + _KEY_RULES,
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
        **cursor_page_schema(
            OrderSummaryOutput, filters=[OpenApiParameter("status", OpenApiTypes.STR, enum=list(api.STATUSES))]
        ),
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
        parameters=[CHECKOUT_KEY],
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
            request_fingerprint=idempotency.fingerprint(data.validated_data),
            shipping_address=api.ShippingAddress(**address) if address is not None else None,
            address_id=data.validated_data.get("address_id"),
            shipping_method=data.validated_data.get("shipping_method"),
            expected_total=_shop_money(data.validated_data.get("expected_total")),
        )
        return Response(
            OrderOutput(placed.order).data, status=status.HTTP_201_CREATED if placed.created else status.HTTP_200_OK
        )


def _shop_money(amount: Decimal | None) -> Money | None:
    return Money(amount, settings.SHOP_CURRENCY) if amount is not None else None


def _with_payment(order: api.Order, payment: Payment | None) -> dict[str, Any]:
    body = dict(OrderOutput(order).data)
    body["payment"] = PaymentSummaryOutput(payment).data if payment is not None else None
    return body


def _payment_of(order: api.Order) -> Payment | None:
    """The order's payment (one call to payments; ``None`` when payments cannot answer now, so an
    order page never fails because of it)."""
    try:
        return registry.get(PaymentsAPI).payment_for_order(order_id=order.id)
    except ContextUnavailable:
        return None


class OrderDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="orders_detail", responses={200: OrderOutput, 404: PROBLEM}, tags=["orders"])
    def get(self, request: Request, order_id: int) -> Response:
        order = selectors.order_of(customer_id=_customer_id(request), order_id=order_id)
        if order is None:
            raise api.OrderNotFound()
        dto = selectors.to_order_dto(order)
        return Response(_with_payment(dto, _payment_of(dto)))


class OrderPayView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="orders_pay",
        parameters=[PAY_KEY],
        request=PayInput,
        responses={200: OrderOutput, 400: PROBLEM, 404: PROBLEM, 409: PROBLEM, 422: PROBLEM, 503: PROBLEM},
        tags=["orders"],
    )
    def post(self, request: Request, order_id: int) -> Response:
        """Pay the order with a gateway token. The amount is the order's total, never the client's.
        A decline leaves the order payable (see ``payment.failure_code``); ``requires_action`` sends
        the customer to ``payment.next_action_url``; the same key never charges twice. An order past
        its ``payment_due_by`` is cancelled then and there: 409 ``order_expired``."""
        data = PayInput(data=request.data)
        data.is_valid(raise_exception=True)
        paid = pay.pay(
            customer_id=_customer_id(request),
            order_id=order_id,
            idempotency_key=request.headers.get("Idempotency-Key", ""),
            token=data.validated_data["token"],
        )
        return Response(_with_payment(paid.order, paid.payment))


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
            order_id=order_id,
            customer_id=customer_id,
            actor=lifecycle.Actor(kind=api.ActorKind.CUSTOMER, id=customer_id),
        )
        refreshed = selectors.order_of(customer_id=customer_id, order_id=order_id)
        assert refreshed is not None
        return Response(OrderOutput(selectors.to_order_dto(refreshed)).data)


# --- the order-status page (HTML) ----------------------------------------------------------------
_STATUS_TEXT = {
    api.PENDING_PAYMENT: ("Awaiting payment", "We hold your items until the payment deadline below."),
    api.PAID: ("Paid", "Thank you! We are preparing your order for shipping."),
    api.FULFILLED: ("Shipped", "Your order is on its way."),
    api.DELIVERED: ("Delivered", "Your order has been delivered."),
    api.CANCELLED: ("Cancelled", "This order was cancelled."),
    api.REFUNDED: ("Refunded", "This order was refunded."),
}


@require_GET
def order_status_page(request: HttpRequest, token: str) -> HttpResponse:
    """The read-only page behind the emails' "your order" link (signed, expiring, no login)."""
    try:
        order_id = status_page.order_id_from(token)
    except status_page.LinkExpired:
        return error_page(
            request, 410, "This order link has expired. The newest email about your order has a fresh one."
        )
    except status_page.LinkInvalid:
        return error_page(request, 404, "This order link is not valid. Check that it was copied whole.")
    row = selectors.order_by_id(order_id=order_id)
    if row is None:
        return error_page(request, 404, "This order does not exist any more.")
    order = selectors.to_order_dto(row)
    try:
        payment = registry.get(PaymentsAPI).payment_for_order(order_id=order.id)
        payment_known = True
    except ContextUnavailable:  # the page still shows the order; only the payment line is missing
        payment, payment_known = None, False
    label, explanation = _STATUS_TEXT.get(order.status, (order.status.replace("_", " "), ""))
    context = {
        "order": order,
        "status_label": label,
        "status_explanation": explanation,
        "payment": payment,
        "payment_known": payment_known,
        "history": [
            (change, _STATUS_TEXT.get(change.to_status, (change.to_status, ""))[0]) for change in order.history
        ],
    }
    return render_page(request, "orders/status.html", context)
