"""Storefront reads: category tree, product list (filters, search, sorting, cursor), detail.

Anonymous allowed. Every response body is cached per catalog version (``adapters.cache``): a hit
costs no database query and no serializer work; a committed catalog write makes the next response
fresh. Page links are built per request from the cached cursors, so a cached body never carries
another client's host or query string.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.urls import URLPattern, path
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from shop.catalog import api
from shop.catalog.adapters import cache
from shop.catalog.selectors import categories
from shop.catalog.selectors import products as selectors
from shop.catalog.serializers.storefront import (
    CategoryNodeOutput,
    ProductCardOutput,
    ProductDetailOutput,
    ProductListQuery,
    ProductPageOutput,
)

PROBLEM = OpenApiResponse(description="problem+json with a stable `code`")


def _link(request: Request, cursor: str | None) -> str | None:
    if cursor is None:
        return None
    return replace_query_param(request.build_absolute_uri(), "cursor", cursor)


class CategoryTreeView(APIView):
    """The whole category tree (bounded), roots first, siblings by position."""

    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="catalog_categories_tree", responses={200: CategoryNodeOutput(many=True)}, tags=["catalog"]
    )
    def get(self, request: Request) -> Response:
        body = cache.cached(
            "categories",
            lambda: CategoryNodeOutput(categories.category_tree(), many=True).data,
            bypass=cache.bypass_requested(request.headers),
        )
        return Response(body)


class ProductListView(APIView):
    """Active products, filtered, searched (``q``) and sorted, in keyset (cursor) pages."""

    query_parameters = tuple(ProductListQuery().fields)

    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="catalog_products_list",
        parameters=[ProductListQuery],
        responses={200: ProductPageOutput, 400: PROBLEM},
        tags=["catalog"],
    )
    def get(self, request: Request) -> Response:
        # Keyed by the raw (sorted) query: a hit skips validation too, and only a valid query is ever
        # cached, because an invalid one raises out of ``build`` before anything is stored.
        key = "products:" + urlencode(sorted(request.query_params.lists()), doseq=True)
        body = cache.cached(key, lambda: self._page(request), bypass=cache.bypass_requested(request.headers))
        return Response(
            {
                "next": _link(request, body["next"]),
                "previous": _link(request, body["previous"]),
                "results": body["results"],
            }
        )

    def _page(self, request: Request) -> dict[str, Any]:
        params = ProductListQuery(data=request.query_params)
        params.is_valid(raise_exception=True)
        query = params.to_query()
        cursor: str = params.validated_data.get("cursor", "")
        position = selectors.decode_cursor(cursor, query) if cursor else None  # InvalidCursor: 400 invalid_cursor
        page = selectors.product_page(query, position=position, page_size=params.validated_data["page_size"])
        return {
            "results": ProductCardOutput(page.items, many=True).data,
            "next": page.next_cursor,
            "previous": page.previous_cursor,
        }


class ProductDetailView(APIView):
    """One active product by slug, with its active variants, prices and availability."""

    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="catalog_products_retrieve",
        responses={200: ProductDetailOutput, 404: PROBLEM},
        tags=["catalog"],
    )
    def get(self, request: Request, slug: str) -> Response:
        def build() -> dict[str, Any] | None:
            product = selectors.product_detail(slug)
            return None if product is None else ProductDetailOutput(product).data

        body = cache.cached(f"product:{slug}", build, bypass=cache.bypass_requested(request.headers))
        if body is None:
            raise api.ProductNotFound(f"No product {slug!r} is sold here.")
        return Response(body)


routes: list[URLPattern] = [
    path("categories/", CategoryTreeView.as_view(), name="catalog-categories"),
    path("products/", ProductListView.as_view(), name="catalog-products"),
    path("products/<slug:slug>/", ProductDetailView.as_view(), name="catalog-product"),
]
