"""The shop's URLconf plus the floor: the cheapest honest DRF endpoint, against which scenarios are compared."""

from __future__ import annotations

from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from shop.urls import handler400, handler403, handler404, handler500
from shop.urls import urlpatterns as shop_urlpatterns
from shop.users.models import User

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]


class FloorView(APIView):
    """A bare DRF view doing one primary-key read: no authentication, no permission check, no throttle."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []

    def get(self, request: Request, pk: int) -> Response:
        user = User.objects.get(pk=pk)
        return Response({"id": user.pk, "email": user.email})


urlpatterns = [
    path("bench/floor/<int:pk>", FloorView.as_view(), name="bench-floor"),
    *shop_urlpatterns,
]
