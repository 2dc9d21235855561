"""Pricing's staff API (IsAdminUser) for integrations: promotions, vouchers (one code, or thousands
generated at once), switching codes off, and a code's usage report. Anonymous callers get 401, customers
403; every write goes through ``services.offers`` / ``services.vouchers``, which check what a quote could use."""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, path
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from shop.pricing import api, selectors
from shop.pricing.serializers import (
    GenerateInput,
    GenerateOutput,
    PromotionInput,
    PromotionOutput,
    VoucherActiveInput,
    VoucherCreateInput,
    VoucherListQuery,
    VoucherOutput,
    VoucherUseOutput,
)
from shop.pricing.services import offers, vouchers
from shop.web.pagination import PagePagination, page_schema

TAGS = ["pricing-staff"]
PROBLEM = OpenApiResponse(description="problem+json with a stable `code`")
STAFF_ERRORS = {401: PROBLEM, 403: PROBLEM}


def _page_schema(item: type[serializers.BaseSerializer[Any]], **extra: Any) -> dict[str, Any]:
    schema = page_schema(item)
    schema["responses"].update(STAFF_ERRORS)
    schema.update(extra)
    return schema


class StaffView(APIView):
    permission_classes = [IsAdminUser]


class PromotionListView(StaffView):
    query_parameters = PagePagination.query_parameters

    @extend_schema(operation_id="pricing_staff_promotions_list", **_page_schema(PromotionOutput), tags=TAGS)
    def get(self, request: Request) -> Response:
        """Every promotion, in the order quotes consider them (priority, then age)."""
        paginator = PagePagination()
        page = paginator.paginate_queryset(selectors.promotions(), request, view=self)
        return paginator.get_paginated_response(PromotionOutput(page, many=True).data)

    @extend_schema(request=PromotionInput, responses={201: PromotionOutput, 400: PROBLEM, **STAFF_ERRORS}, tags=TAGS)
    def post(self, request: Request) -> Response:
        """Create a promotion; a quote applies it from its start (or at once) while it is active."""
        data = PromotionInput(data=request.data)
        data.is_valid(raise_exception=True)
        promotion = offers.create_promotion(**data.validated_data)
        return Response(PromotionOutput(promotion).data, status=status.HTTP_201_CREATED)


class PromotionDetailView(StaffView):
    @extend_schema(responses={200: PromotionOutput, 404: PROBLEM, **STAFF_ERRORS}, tags=TAGS)
    def get(self, request: Request, promotion_id: int) -> Response:
        promotion = selectors.promotion(promotion_id=promotion_id)
        if promotion is None:
            raise api.PromotionNotFound()
        return Response(PromotionOutput(promotion).data)

    @extend_schema(
        request=PromotionInput(partial=True),
        responses={200: PromotionOutput, 400: PROBLEM, 404: PROBLEM, **STAFF_ERRORS},
        tags=TAGS,
    )
    def patch(self, request: Request, promotion_id: int) -> Response:
        """Change some fields (e.g. ``{"is_active": false}`` to stop it); the result is checked whole."""
        data = PromotionInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        promotion = offers.update_promotion(promotion_id=promotion_id, **data.validated_data)
        return Response(PromotionOutput(promotion).data)


class VoucherListView(StaffView):
    query_parameters = ("batch", "promotion", *PagePagination.query_parameters)

    @extend_schema(
        operation_id="pricing_staff_vouchers_list",
        **_page_schema(VoucherOutput, parameters=[VoucherListQuery]),
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        """Codes, newest first, optionally of one ``batch`` or ``promotion``."""
        query = VoucherListQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        paginator = PagePagination()
        rows = selectors.vouchers(
            batch=query.validated_data.get("batch"), promotion_id=query.validated_data.get("promotion")
        )
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(VoucherOutput(page, many=True).data)

    @extend_schema(
        request=VoucherCreateInput,
        responses={201: VoucherOutput, 400: PROBLEM, 409: PROBLEM, **STAFF_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        """One code for a promotion that requires a voucher (``voucher_code_taken`` 409 if it exists)."""
        data = VoucherCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        voucher = offers.create_voucher(code=fields.pop("code"), promotion_id=fields.pop("promotion"), **fields)
        return Response(VoucherOutput(voucher).data, status=status.HTTP_201_CREATED)


class VoucherGenerateView(StaffView):
    @extend_schema(request=GenerateInput, responses={201: GenerateOutput, 400: PROBLEM, **STAFF_ERRORS}, tags=TAGS)
    def post(self, request: Request) -> Response:
        """Generate up to 100,000 unique codes at once, in one batch."""
        data = GenerateInput(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        if not selectors.promotion_takes_vouchers(promotion_id=fields["promotion"]):
            raise api.PromotionNotFound("No promotion that requires a voucher has this id.")
        batch = vouchers.generate(
            promotion_id=fields["promotion"],
            count=fields["count"],
            prefix=fields["prefix"],
            usage_limit=fields.get("usage_limit"),
            per_customer_limit=fields.get("per_customer_limit"),
        )
        return Response({"batch": batch, "count": fields["count"]}, status=status.HTTP_201_CREATED)


class VoucherDetailView(StaffView):
    @extend_schema(
        request=VoucherActiveInput,
        responses={200: VoucherOutput, 400: PROBLEM, 404: PROBLEM, **STAFF_ERRORS},
        tags=TAGS,
    )
    def patch(self, request: Request, code: str) -> Response:
        """Switch a code on or off (``{"is_active": false}``); placed orders keep their discount."""
        data = VoucherActiveInput(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(VoucherOutput(offers.set_voucher_active(code=code[:60], **data.validated_data)).data)


class VoucherUsesView(StaffView):
    query_parameters = PagePagination.query_parameters

    @extend_schema(operation_id="pricing_staff_voucher_uses", **_page_schema(VoucherUseOutput), tags=TAGS)
    def get(self, request: Request, code: str) -> Response:
        """The code's usage report: each order that holds (or held) a use, newest first."""
        uses = selectors.uses_of(code=vouchers.normalised(code[:60]))
        if uses is None:
            raise api.VoucherUnknown("No such voucher.", voucher=vouchers.normalised(code[:60]))
        paginator = PagePagination()
        page = paginator.paginate_queryset(uses, request, view=self)
        return paginator.get_paginated_response(VoucherUseOutput(page, many=True).data)


routes: list[URLPattern] = [
    path("staff/promotions/", PromotionListView.as_view(), name="pricing-staff-promotions"),
    path("staff/promotions/<int:promotion_id>/", PromotionDetailView.as_view(), name="pricing-staff-promotion"),
    path("staff/vouchers/", VoucherListView.as_view(), name="pricing-staff-vouchers"),
    path("staff/vouchers/generate/", VoucherGenerateView.as_view(), name="pricing-staff-vouchers-generate"),
    path("staff/vouchers/<str:code>/", VoucherDetailView.as_view(), name="pricing-staff-voucher"),
    path("staff/vouchers/<str:code>/uses/", VoucherUsesView.as_view(), name="pricing-staff-voucher-uses"),
]
