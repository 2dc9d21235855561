"""Root URLconf. Contexts are included by dotted path, never imported (ARCHITECTURE §2).

A process with ``SHOP_SERVE`` (a split-out service, or the main deployable once some contexts are
split out) publishes only its own contexts: their public API, their pages and their admin pages. Another
context's routes there would read or write tables that are not that context's real home.

``SHOP_LISTENER`` says which listener this process is: ``all`` (the default: everything), ``public``
(no ``/internal/`` routes at all: what the internet-facing listener should run) or ``internal``
(only ``/internal/`` and the health probes: a listener reachable from inside the cluster only).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from shop.registry.contexts import CONTEXTS
from shop.registry.transport.server import internal_call

# Public routes of each context (notifications has none: its interface is email).
PUBLIC_ROUTES = {
    "users": "api/v1/",
    "catalog": "api/v1/catalog/",
    "pricing": "api/v1/pricing/",
    "cart": "api/v1/cart/",
    "orders": "api/v1/orders/",
    "payments": "api/v1/payments/",
}
# HTML pages customers open from an email or a gateway redirect (``shop.<ctx>.urls.pages``); outside
# /api/, so a browser there gets HTML errors.
PAGE_ROUTES = {
    "users": "account/",
    "orders": "orders/",
    "payments": "payments/",
}


def serves(context: str) -> bool:
    return not settings.SHOP_SERVE or context in settings.SHOP_SERVE


for _model in list(admin.site._registry):  # no admin pages for contexts this process does not serve
    if _model._meta.app_label in CONTEXTS and not serves(_model._meta.app_label):
        admin.site.unregister(_model)


def _pages(context: str) -> str:
    return f"shop.{context}.urls.pages"


public: list[URLPattern | URLResolver] = [
    path("", include("shop.web.urls")),
    path("admin/", admin.site.urls),
    *(path(prefix, include(f"shop.{context}.urls")) for context, prefix in PUBLIC_ROUTES.items() if serves(context)),
    *(path(prefix, include(_pages(context))) for context, prefix in PAGE_ROUTES.items() if serves(context)),
]
internal: list[URLPattern | URLResolver] = [
    path("internal/<str:context>/<str:method>", internal_call, name="internal-call"),
]

urlpatterns: list[URLPattern | URLResolver] = {
    "public": public,
    "internal": [path("", include("shop.web.health_urls")), *internal],
}.get(settings.SHOP_LISTENER, [*public, *internal])

handler400 = "shop.web.exceptions.bad_request"
handler403 = "shop.web.exceptions.forbidden"
handler404 = "shop.web.exceptions.not_found"
handler500 = "shop.web.exceptions.server_error"
