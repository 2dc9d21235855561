"""The cart JSON API: a signed-in customer's cart, or a guest's named by ``X-Cart-Token``.

Every response is the whole cart. A guest's first add opens a cart and returns its token once in
the ``X-Cart-Token`` response header; the client sends it back on every cart request and, after
logging in, to ``merge``. A signed-in customer always works on their own cart (a token sent along
is ignored until merged), so no request can reach another owner's cart.
"""

from __future__ import annotations

import dataclasses

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from shop.cart import api, selectors, services
from shop.cart.serializers import (
    AddLineInput,
    ApplyVoucherInput,
    CartOutput,
    CartQuery,
    CartWithQuoteOutput,
    SetQuantityInput,
    ShippingMethodsOutput,
    ShippingMethodsQuery,
)
from shop.cart.services import quoting
from shop.web.throttles import AnonRateThrottle, UserRateThrottle, VoucherRateThrottle

PROBLEM = OpenApiResponse(description="problem+json with a stable `code`")
TOKEN_HEADER = "X-Cart-Token"
MAX_TOKEN_CHARS = 100
TOKEN_PARAMETER = OpenApiParameter(
    TOKEN_HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="A guest's cart token (ignored for a signed-in customer, except by merge).",
)


def _guest_token(request: Request) -> str:
    token = request.headers.get(TOKEN_HEADER, "").strip()
    if len(token) > MAX_TOKEN_CHARS:
        raise api.CartNotFound("This cart token names no cart.")
    return token


def _owner(request: Request) -> api.Owner:
    """The customer when signed in, else the guest's token; ``Owner()`` if neither (no cart yet)."""
    if request.user.is_authenticated:
        return api.Owner(user_id=request.user.pk)
    token = _guest_token(request)
    return api.Owner(guest_token=token) if token else api.Owner()


def _existing_owner(request: Request) -> api.Owner:
    owner = _owner(request)
    if owner.user_id is None and not owner.guest_token:
        raise api.CartNotFound("No cart yet: add an item first.")
    return owner


def _respond(cart: api.Cart, *, status_code: int = status.HTTP_200_OK) -> Response:
    response = Response(CartOutput(cart).data, status=status_code)
    if cart.guest_token:
        response[TOKEN_HEADER] = cart.guest_token
    return response


class CartView(APIView):
    permission_classes = [AllowAny]
    query_parameters = ("country", "postal_code", "shipping_method")

    @extend_schema(
        operation_id="cart_get",
        parameters=[TOKEN_PARAMETER, CartQuery],
        responses={200: CartWithQuoteOutput, 400: PROBLEM, 404: PROBLEM, 409: PROBLEM},
        tags=["cart"],
    )
    def get(self, request: Request) -> Response:
        """The cart with today's prices, availability and warnings (empty before the first add), and its
        ``quote``: tax, shipping and total for ``country`` (else your default address, else an estimate)
        with ``shipping_method`` (else the cheapest). What checkout charges when nothing changes."""
        query = CartQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        owner = _owner(request)
        if owner.user_id is None and not owner.guest_token:
            cart = selectors.empty_cart(owner)
        else:
            cart = services.get_cart(owner=owner)
        quoted = quoting.quote_cart(owner=owner, cart=cart, **query.validated_data)
        warned = dataclasses.replace(cart, warnings=[*cart.warnings, *quoted.warnings])
        body = {field.name: getattr(warned, field.name) for field in dataclasses.fields(warned)}
        return Response(CartWithQuoteOutput({**body, "quote": quoted.quote}).data)

    @extend_schema(
        operation_id="cart_clear",
        parameters=[TOKEN_PARAMETER],
        responses={200: CartOutput, 404: PROBLEM},
        tags=["cart"],
    )
    def delete(self, request: Request) -> Response:
        """Empty the cart."""
        return _respond(services.clear(owner=_existing_owner(request)))


class CartLinesView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="cart_add_line",
        parameters=[TOKEN_PARAMETER],
        request=AddLineInput,
        responses={
            200: CartOutput,
            201: OpenApiResponse(CartOutput, description="A guest's first add: a new cart, its token in X-Cart-Token."),
            400: PROBLEM,
            404: PROBLEM,
            409: PROBLEM,
        },
        tags=["cart"],
    )
    def post(self, request: Request) -> Response:
        """Add ``quantity`` of ``sku`` (summed with the line). A guest's first add opens a cart (201) and
        returns its token in the ``X-Cart-Token`` header."""
        data = AddLineInput(data=request.data)
        data.is_valid(raise_exception=True)
        cart = services.add_line(owner=_owner(request), **data.validated_data)
        return _respond(cart, status_code=status.HTTP_201_CREATED if cart.guest_token else status.HTTP_200_OK)


class CartLineView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="cart_set_quantity",
        parameters=[TOKEN_PARAMETER],
        request=SetQuantityInput,
        responses={200: CartOutput, 400: PROBLEM, 404: PROBLEM},
        tags=["cart"],
    )
    def patch(self, request: Request, sku: str) -> Response:
        """Set the line's quantity."""
        data = SetQuantityInput(data=request.data)
        data.is_valid(raise_exception=True)
        return _respond(services.set_quantity(owner=_existing_owner(request), sku=sku, **data.validated_data))

    @extend_schema(
        operation_id="cart_remove_line",
        parameters=[TOKEN_PARAMETER],
        responses={200: CartOutput, 404: PROBLEM},
        tags=["cart"],
    )
    def delete(self, request: Request, sku: str) -> Response:
        """Remove the line (no error if it is not there)."""
        return _respond(services.remove_line(owner=_existing_owner(request), sku=sku))


class CartMergeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="cart_merge",
        parameters=[
            OpenApiParameter(
                TOKEN_HEADER,
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=True,
                description="The guest cart's token.",
            )
        ],
        request=None,
        responses={200: CartOutput, 400: PROBLEM, 401: PROBLEM, 404: PROBLEM},
        tags=["cart"],
    )
    def post(self, request: Request) -> Response:
        """After login: move the guest cart (``X-Cart-Token``) into the customer's. The token is dead afterwards."""
        token = _guest_token(request)
        if not token:
            raise api.CartTokenRequired()
        user_id = request.user.pk
        assert user_id is not None  # IsAuthenticated
        return _respond(services.merge(user_id=user_id, guest_token=token))


class CartShippingMethodsView(APIView):
    permission_classes = [AllowAny]
    query_parameters = ("country", "postal_code")

    @extend_schema(
        operation_id="cart_shipping_methods",
        parameters=[TOKEN_PARAMETER, ShippingMethodsQuery],
        responses={200: ShippingMethodsOutput, 400: PROBLEM, 404: PROBLEM, 409: PROBLEM, 503: PROBLEM},
        tags=["cart"],
    )
    def get(self, request: Request) -> Response:
        """The shipping methods available for this cart to ``country`` (and ``postal_code``), each with its
        price and tax for these lines, cheapest first (empty for an empty cart); checkout takes a method's
        code as ``shipping_method``."""
        query = ShippingMethodsQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        country, postal_code = query.validated_data["country"], query.validated_data["postal_code"]
        methods = quoting.shipping_methods(owner=_owner(request), country=country, postal_code=postal_code)
        body = {"destination": {"country": country, "postal_code": postal_code}, "methods": methods}
        return Response(ShippingMethodsOutput(body).data)


class CartVouchersView(APIView):
    permission_classes = [AllowAny]
    # Codes tried are throttled per customer (or IP) on top of the usual limits: guessing is slow.
    throttle_classes = [AnonRateThrottle, UserRateThrottle, VoucherRateThrottle]

    @extend_schema(
        operation_id="cart_apply_voucher",
        parameters=[TOKEN_PARAMETER],
        request=ApplyVoucherInput,
        responses={200: CartOutput, 400: PROBLEM, 404: PROBLEM, 409: PROBLEM, 429: PROBLEM},
        tags=["cart"],
    )
    def post(self, request: Request) -> Response:
        """Apply a voucher code: pricing checks it against this cart (``voucher_unknown`` 404,
        ``voucher_expired``, ``voucher_exhausted``, ``voucher_min_subtotal``, ``voucher_not_applicable`` 409)
        and the cart's quote shows what it takes off. Checkout holds a use when the order is placed."""
        data = ApplyVoucherInput(data=request.data)
        data.is_valid(raise_exception=True)
        return _respond(quoting.apply_voucher(owner=_existing_owner(request), code=data.validated_data["code"]))


class CartVoucherView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="cart_remove_voucher",
        parameters=[TOKEN_PARAMETER],
        responses={200: CartOutput, 404: PROBLEM},
        tags=["cart"],
    )
    def delete(self, request: Request, code: str) -> Response:
        """Take a voucher code off the cart (no error if it is not on it)."""
        return _respond(quoting.remove_voucher(owner=_existing_owner(request), code=code[:60]))
