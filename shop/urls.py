"""Root URLconf. Contexts are included by dotted path, never imported (ARCHITECTURE §2)."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from shop.registry.server import internal_call

urlpatterns = [
    path("", include("shop.web.urls")),
    path("admin/", admin.site.urls),
    path("internal/<str:context>/<str:method>", internal_call, name="internal-call"),
    path("api/v1/", include("shop.users.urls")),
    path("api/v1/catalog/", include("shop.catalog.urls")),
    path("api/v1/cart/", include("shop.cart.urls")),
    path("api/v1/orders/", include("shop.orders.urls")),
    path("api/v1/payments/", include("shop.payments.urls")),
]

handler400 = "shop.web.exceptions.bad_request"
handler403 = "shop.web.exceptions.forbidden"
handler404 = "shop.web.exceptions.not_found"
handler500 = "shop.web.exceptions.server_error"
