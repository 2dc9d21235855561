"""Every list is bounded: page pagination by default, keyset (cursor) pagination for big, hot lists.

``page_size`` is one rule everywhere: an integer from 1 to ``MAX_PAGE_SIZE`` (else 400
``validation_error``), documented so. Cursors are ``shop.kernel.cursors`` positions, the codec the
catalog's product list uses too: a cursor we did not make is 400 ``invalid_cursor``.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Sequence
from functools import reduce
from typing import Any

from django.db import models
from django.db.models import Q, QuerySet
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination, PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from shop.kernel import cursors

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
_PAGE_SIZE = re.compile(r"^[0-9]{1,3}$")


def page_size_of(request: Request, *, default: int = DEFAULT_PAGE_SIZE) -> int:
    """The ``page_size`` query parameter: absent → ``default``; else 1..``MAX_PAGE_SIZE`` or 400."""
    raw = request.query_params.getlist("page_size")
    if not raw:
        return default
    if len(raw) > 1 or not _PAGE_SIZE.match(raw[0]) or not 1 <= int(raw[0]) <= MAX_PAGE_SIZE:
        raise ValidationError({"page_size": [f"Give one whole number from 1 to {MAX_PAGE_SIZE}."]})
    return int(raw[0])


class PagePagination(PageNumberPagination):
    query_parameters = ("page", "page_size")  # what a view paging with it reads from the query string
    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    last_page_strings = ()  # ``page`` is an integer, as documented

    def get_page_size(self, request: Request) -> int:
        return page_size_of(request, default=self.page_size)


class KeysetPagination(BasePagination):
    """Fixed-cost pages however deep the client scrolls: keyset on ``ordering``, whose last field
    must be unique (the primary key), so a position never skips or repeats a row, whatever the ties."""

    ordering: Sequence[str] = ("-created_at", "-id")
    cursor_query_param = "cursor"
    query_parameters = ("cursor", "page_size")  # what a view paging with it reads from the query string

    def paginate_queryset(self, queryset: QuerySet[Any], request: Request, view: Any = None) -> list[Any]:
        self.request = request
        self.page_size = page_size_of(request)
        fields = [(name.lstrip("-"), name.startswith("-")) for name in self.ordering]
        kinds = [_kind_of(queryset.model, name) for name, _ in fields]
        order = ",".join(self.ordering)
        raw = request.query_params.get(self.cursor_query_param, "")
        position = cursors.decode(raw, order=order, kinds=kinds) if raw else None
        backwards = position is not None and position.backwards
        ordered = queryset.order_by(*(_reverse(name) if backwards else name for name in self.ordering))
        if position is not None:
            ordered = ordered.filter(_beyond(fields, position.values, backwards=backwards))
        rows = list(ordered[: self.page_size + 1])
        more = len(rows) > self.page_size
        rows = rows[: self.page_size]
        if backwards:
            rows.reverse()

        def cursor_at(row: Any, *, before: bool) -> str:
            values = tuple(getattr(row, name) for name, _ in fields)
            return cursors.encode(cursors.Position(order=order, backwards=before, values=values), kinds)

        has_next = more if not backwards else position is not None
        has_previous = more if backwards else position is not None
        self.next_cursor = cursor_at(rows[-1], before=False) if rows and has_next else None
        self.previous_cursor = cursor_at(rows[0], before=True) if rows and has_previous else None
        return rows

    def _link(self, cursor: str | None) -> str | None:
        if cursor is None:
            return None
        return replace_query_param(self.request.build_absolute_uri(), self.cursor_query_param, cursor)

    def get_paginated_response(self, data: Any) -> Response:
        return Response(
            {"next": self._link(self.next_cursor), "previous": self._link(self.previous_cursor), "results": data}
        )


class NewestFirstCursorPagination(KeysetPagination):
    """Newest first (``-created_at, -id``): the order of every customer-facing history list."""


def _reverse(name: str) -> str:
    return name[1:] if name.startswith("-") else f"-{name}"


def _kind_of(model: type[models.Model], name: str) -> cursors.Kind:
    field = model._meta.get_field(name)
    if isinstance(field, models.DateTimeField):
        return "datetime"
    if isinstance(field, models.DecimalField):
        return "decimal"
    if isinstance(field, models.IntegerField | models.AutoField | models.BigAutoField):
        return "int"
    if isinstance(field, models.CharField | models.TextField):
        return "str"
    raise TypeError(f"{model.__name__}.{name} cannot be a keyset field")


def _beyond(fields: Sequence[tuple[str, bool]], values: Sequence[Any], *, backwards: bool) -> Q:
    """Rows strictly after ``values`` in the key order (before it when ``backwards``):
    ``(k1 > v1) OR (k1 = v1 AND k2 > v2) OR …``."""
    alternatives: list[Q] = []
    equal = Q()
    for (name, descending), value in zip(fields, values, strict=True):
        smaller = descending != backwards
        alternatives.append(equal & Q(**{f"{name}__{'lt' if smaller else 'gt'}": value}))
        equal &= Q(**{name: value})
    return reduce(operator.or_, alternatives)


def _page_size_parameter() -> OpenApiParameter:
    return OpenApiParameter(
        "page_size",
        {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
        description=f"Results per page: 1 to {MAX_PAGE_SIZE} (default {DEFAULT_PAGE_SIZE}).",
    )


def cursor_page_schema(
    item: type[serializers.BaseSerializer[Any]], *, filters: Sequence[OpenApiParameter] = ()
) -> dict[str, Any]:
    """``extend_schema`` arguments for an ``APIView`` paging by hand with a ``KeysetPagination``;
    ``filters``: the list's own query parameters, documented before the paging ones."""
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
            *filters,
            OpenApiParameter(
                "cursor",
                {"type": "string", "minLength": 1},
                description="Opaque position from a previous page's next/previous link.",
            ),
            _page_size_parameter(),
        ],
        "responses": {
            200: envelope,
            400: OpenApiResponse(description="`invalid_cursor`, or `validation_error` (e.g. `page_size`)"),
        },
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
            OpenApiParameter(
                "page", {"type": "integer", "minimum": 1}, description="A page number within the paginated result set."
            ),
            _page_size_parameter(),
        ],
        "responses": {
            200: envelope,
            400: OpenApiResponse(description="`validation_error` (e.g. `page_size`)"),
            404: OpenApiResponse(description="`not_found`: no such page"),
        },
    }
