"""Staff API (IsAdminUser) for integrations: categories, products, variants, prices and stock.

Anonymous callers get 401, customers 403. Every write goes through ``services`` (which publish the
events and invalidate the storefront cache); stock only changes through the adjust endpoint, which
logs a movement naming the staff member.
"""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, path
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from shop.catalog import api
from shop.catalog.api import SKU_PATTERN
from shop.catalog.models import Category, Product, Variant
from shop.catalog.selectors import staff as selectors
from shop.catalog.serializers.staff import (
    CategoryCreateInput,
    CategoryStaffOutput,
    CategoryUpdateInput,
    ProductCreateInput,
    ProductStaffOutput,
    ProductUpdateInput,
    StockAdjustInput,
    StockAdjustOutput,
    VariantCreateInput,
    VariantStaffOutput,
    VariantUpdateInput,
)
from shop.catalog.services import inventory
from shop.catalog.services import products as services
from shop.web.converters import register_pattern
from shop.web.pagination import PagePagination, page_schema

TAGS = ["catalog-staff"]
PROBLEM = OpenApiResponse(description="problem+json with a stable `code`")
STAFF_ERRORS = {401: PROBLEM, 403: PROBLEM}


def _page_schema(item: type[serializers.BaseSerializer[Any]]) -> dict[str, Any]:
    schema = page_schema(item)
    schema["responses"].update(STAFF_ERRORS)
    return schema


class StaffView(APIView):
    permission_classes = [IsAdminUser]


# --- categories ------------------------------------------------------------------------------------
class CategoryListView(StaffView):
    query_parameters = PagePagination.query_parameters

    @extend_schema(operation_id="catalog_staff_categories_list", **_page_schema(CategoryStaffOutput), tags=TAGS)
    def get(self, request: Request) -> Response:
        paginator = PagePagination()
        page = paginator.paginate_queryset(selectors.categories(), request, view=self)
        return paginator.get_paginated_response(CategoryStaffOutput(page, many=True).data)

    @extend_schema(
        request=CategoryCreateInput,
        responses={201: CategoryStaffOutput, 400: PROBLEM, 409: PROBLEM, **STAFF_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        data = CategoryCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        category = services.create_category(**data.validated_data)
        return Response(CategoryStaffOutput(category).data, status=status.HTTP_201_CREATED)


class CategoryDetailView(StaffView):
    def _get(self, category_id: int) -> Category:
        category = selectors.category(category_id=category_id)
        if category is None:
            raise api.CategoryNotFound()
        return category

    @extend_schema(responses={200: CategoryStaffOutput, **STAFF_ERRORS}, tags=TAGS)
    def get(self, request: Request, category_id: int) -> Response:
        return Response(CategoryStaffOutput(self._get(category_id)).data)

    @extend_schema(
        request=CategoryUpdateInput(partial=True),
        responses={200: CategoryStaffOutput, 400: PROBLEM, 409: PROBLEM, **STAFF_ERRORS},
        tags=TAGS,
    )
    def patch(self, request: Request, category_id: int) -> Response:
        self._get(category_id)
        data = CategoryUpdateInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        category = services.update_category(category_id=category_id, **data.validated_data)
        return Response(CategoryStaffOutput(category).data)


# --- products --------------------------------------------------------------------------------------
class ProductListView(StaffView):
    """Every product, inactive ones included, newest first."""

    query_parameters = PagePagination.query_parameters

    @extend_schema(operation_id="catalog_staff_products_list", **_page_schema(ProductStaffOutput), tags=TAGS)
    def get(self, request: Request) -> Response:
        """Every product, inactive ones included, newest first."""
        paginator = PagePagination()
        page = paginator.paginate_queryset(selectors.products(), request, view=self)
        return paginator.get_paginated_response(ProductStaffOutput(page, many=True).data)

    @extend_schema(
        request=ProductCreateInput,
        responses={201: ProductStaffOutput, 400: PROBLEM, 409: PROBLEM, **STAFF_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        """Create a product; it is sold once it has an active variant with stock."""
        data = ProductCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        product = services.create_product(**data.validated_data)
        return Response(ProductStaffOutput(_fresh_product(product.pk)).data, status=status.HTTP_201_CREATED)


def _fresh_product(product_id: int) -> Product:
    product = selectors.product(product_id=product_id)
    if product is None:
        raise api.ProductNotFound()
    return product


class ProductDetailView(StaffView):
    @extend_schema(responses={200: ProductStaffOutput, **STAFF_ERRORS}, tags=TAGS)
    def get(self, request: Request, product_id: int) -> Response:
        return Response(ProductStaffOutput(_fresh_product(product_id)).data)

    @extend_schema(
        request=ProductUpdateInput(partial=True),
        responses={200: ProductStaffOutput, 400: PROBLEM, 409: PROBLEM, **STAFF_ERRORS},
        tags=TAGS,
    )
    def patch(self, request: Request, product_id: int) -> Response:
        _fresh_product(product_id)
        data = ProductUpdateInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.update_product(product_id=product_id, **data.validated_data)
        return Response(ProductStaffOutput(_fresh_product(product_id)).data)


# --- variants --------------------------------------------------------------------------------------
class VariantListView(StaffView):
    @extend_schema(
        request=VariantCreateInput,
        responses={201: VariantStaffOutput, 400: PROBLEM, 409: PROBLEM, **STAFF_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, product_id: int) -> Response:
        _fresh_product(product_id)
        data = VariantCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        variant = services.create_variant(product_id=product_id, **data.validated_data)
        body = VariantStaffOutput(_fresh_variant(product_id, variant.sku)).data
        return Response(body, status=status.HTTP_201_CREATED)


def _fresh_variant(product_id: int, sku: str) -> Variant:
    variant = selectors.variant(product_id=product_id, sku=sku)
    if variant is None:
        raise api.UnknownSku(f"No variant {sku!r} here.", skus=[sku])
    return variant


class VariantDetailView(StaffView):
    @extend_schema(responses={200: VariantStaffOutput, **STAFF_ERRORS}, tags=TAGS)
    def get(self, request: Request, product_id: int, sku: str) -> Response:
        return Response(VariantStaffOutput(_fresh_variant(product_id, sku)).data)

    @extend_schema(
        request=VariantUpdateInput,
        responses={200: VariantStaffOutput, 400: PROBLEM, **STAFF_ERRORS},
        tags=TAGS,
    )
    def patch(self, request: Request, product_id: int, sku: str) -> Response:
        _fresh_variant(product_id, sku)
        data = VariantUpdateInput(data=request.data)  # every field is optional; a given price is whole
        data.is_valid(raise_exception=True)
        services.update_variant(sku=sku, product_id=product_id, **data.validated_data)
        return Response(VariantStaffOutput(_fresh_variant(product_id, sku)).data)


# --- stock -----------------------------------------------------------------------------------------
class StockAdjustView(StaffView):
    """Change on-hand stock; the movement log records the staff member and the note."""

    @extend_schema(
        request=StockAdjustInput,
        responses={
            200: StockAdjustOutput,
            400: PROBLEM,
            404: OpenApiResponse(description="`not_found` (`resource`: `sku`)"),
            409: OpenApiResponse(description="`stock_below_reserved`: customers hold more than that"),
            **STAFF_ERRORS,
        },
        tags=TAGS,
    )
    def post(self, request: Request, sku: str) -> Response:
        data = StockAdjustInput(data=request.data)
        data.is_valid(raise_exception=True)
        inventory.adjust_stock(sku=sku, actor_id=request.user.pk, **data.validated_data)
        variant = selectors.variant_by_sku(sku=sku)
        if variant is None:
            raise api.UnknownSku(skus=[sku])
        stock = variant.stock
        body = {"sku": sku, "on_hand": stock.on_hand, "reserved": stock.reserved, "available": stock.available}
        return Response(StockAdjustOutput(body).data)


register_pattern("sku", SKU_PATTERN)
routes: list[URLPattern] = [
    path("staff/categories/", CategoryListView.as_view(), name="staff-category-list"),
    path("staff/categories/<int:category_id>/", CategoryDetailView.as_view(), name="staff-category-detail"),
    path("staff/products/", ProductListView.as_view(), name="staff-product-list"),
    path("staff/products/<int:product_id>/", ProductDetailView.as_view(), name="staff-product-detail"),
    path("staff/products/<int:product_id>/variants/", VariantListView.as_view(), name="staff-variant-list"),
    path(
        "staff/products/<int:product_id>/variants/<sku:sku>/",
        VariantDetailView.as_view(),
        name="staff-variant-detail",
    ),
    path("staff/stock/<sku:sku>/adjust/", StockAdjustView.as_view(), name="staff-stock-adjust"),
]
