"""The payments context's HTML pages, under /payments/ (outside /api/: browsers, not API clients)."""

from django.urls import path

from shop.payments import views

urlpatterns = [
    path("authenticate/<str:reference>/", views.authentication_page, name="payment-authentication-page"),
]
