"""Edge URLs: the landing page, health and the OpenAPI schema with its offline Swagger UI."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from shop.web import health, pages

urlpatterns = [
    path("", pages.landing, name="landing"),
    path("favicon.ico", pages.favicon, name="favicon"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
]
