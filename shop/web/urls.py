"""Edge URLs: the landing page, health, the JWT public keys (JWKS) and the OpenAPI schema with its
offline Swagger UI."""

from __future__ import annotations

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from shop.web import pages, tokens

urlpatterns = [
    path("", pages.landing, name="landing"),
    path("favicon.ico", pages.favicon, name="favicon"),
    path("", include("shop.web.health_urls")),
    path(".well-known/jwks.json", tokens.jwks, name="jwks"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
]
