"""Every list is bounded: page pagination by default, cursor pagination for big, hot lists."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers
from rest_framework.pagination import CursorPagination, PageNumberPagination

MAX_PAGE_SIZE = 100


class PagePagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE


class NewestFirstCursorPagination(CursorPagination):
    """Fixed-cost pages however deep the client scrolls (keyset on ``-created_at, -id``)."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    ordering = ("-created_at", "-id")


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
