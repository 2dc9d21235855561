"""Test-only URLconf: the real one plus views that fail in each way the edge must render.

Used with ``@pytest.mark.urls("tests.web.urls")``; the handlers are the real ones from ``shop.urls``.
"""

from __future__ import annotations

from typing import Any

from django.urls import include, path
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from shop.kernel.errors import ContextUnavailable, DomainError
from shop.users.models import Address
from shop.users.serializers import AddressOutput
from shop.web.pagination import NewestFirstCursorPagination


class OutOfStock(DomainError):
    code = "out_of_stock"
    status = 409
    title = "Not enough stock"


class _Anonymous(APIView):
    permission_classes = [AllowAny]
    throttle_classes = []


class DomainErrorView(_Anonymous):
    def get(self, request: Request) -> Response:
        raise OutOfStock("Only 2 left of SKU-1.", sku="SKU-1", available=2)


class UnavailableView(_Anonymous):
    def get(self, request: Request) -> Response:
        raise ContextUnavailable("payments", "breaker open", retry_after=7)


class BugView(_Anonymous):
    def get(self, request: Request) -> Response:
        raise RuntimeError("secret internals: password=hunter2")


class CursorPagedAddresses(ListAPIView[Address]):
    """A big, hot list the way later contexts will page it: keyset on (-created_at, -id)."""

    permission_classes = [IsAuthenticated]
    serializer_class = AddressOutput
    pagination_class = NewestFirstCursorPagination

    def get_queryset(self) -> Any:
        assert self.request.user.pk is not None
        return Address.objects.filter(user_id=self.request.user.pk)


def page_bug(request: Any) -> Any:
    raise RuntimeError("secret internals: password=hunter2")


urlpatterns = [
    path("test/page-bug/", page_bug),
    path("test/cursor-addresses/", CursorPagedAddresses.as_view()),
    path("test/domain-error/", DomainErrorView.as_view()),
    path("test/unavailable/", UnavailableView.as_view()),
    path("test/bug/", BugView.as_view()),
    path("api/test/bug/", BugView.as_view()),
    path("", include("shop.urls")),
]

handler400 = "shop.web.exceptions.bad_request"
handler403 = "shop.web.exceptions.forbidden"
handler404 = "shop.web.exceptions.not_found"
handler500 = "shop.web.exceptions.server_error"
