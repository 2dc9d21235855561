"""Every list is bounded: page pagination by default, cursor pagination for big, hot lists."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination, PageNumberPagination

MAX_PAGE_SIZE = 100


class PagePagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE


class NewestFirstCursorPagination(CursorPagination):
    """Fixed-cost pages however deep the client scrolls (keyset on ``-created_at, -id``).

    A cursor we did not make is the client's mistake (400 ``validation_error`` naming ``cursor``),
    not a missing resource (DRF answers 404)."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    ordering: Any = ("-created_at", "-id")

    def decode_cursor(self, request: Any) -> Any:
        try:
            return super().decode_cursor(request)
        except NotFound as exc:
            raise ValidationError({self.cursor_query_param: ["Invalid cursor."]}) from exc


def cursor_page_schema(item: type[serializers.BaseSerializer[Any]]) -> dict[str, Any]:
    """``extend_schema`` arguments for an ``APIView`` paging by hand with a cursor pagination."""
    envelope = inline_serializer(
        name=f"CursorPaginated{item.__name__}List",
        fields={
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": item(many=True),
        },
    )
    return {
        "parameters": [
            OpenApiParameter("cursor", str, description="Opaque position from a previous page's next/previous link."),
            OpenApiParameter("page_size", int, description=f"Results per page (at most {MAX_PAGE_SIZE})."),
        ],
        "responses": {200: envelope, 400: OpenApiResponse(description="`validation_error`: e.g. an invalid cursor")},
    }


def page_schema(item: type[serializers.BaseSerializer[Any]]) -> dict[str, Any]:
    """``extend_schema`` arguments for an ``APIView`` that pages by hand with ``PagePagination``.

    drf-spectacular documents pagination only for generic list views; without this a hand-paged
    list is documented as a bare array and its ``page``/``page_size`` parameters are missing.
    """
    envelope = inline_serializer(
        name=f"Paginated{item.__name__}List",
        fields={
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": item(many=True),
        },
    )
    return {
        "parameters": [
            OpenApiParameter("page", int, description="A page number within the paginated result set."),
            OpenApiParameter("page_size", int, description=f"Results per page (at most {MAX_PAGE_SIZE})."),
        ],
        "responses": {200: envelope, 404: OpenApiResponse(description="`not_found`: no such page")},
    }
