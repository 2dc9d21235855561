"""The orders context's HTML pages, under /orders/ (outside /api/: browsers, not API clients)."""

from django.urls import path

from shop.orders import views

urlpatterns = [
    path("status/<str:token>/", views.order_status_page, name="order-status-page"),
]
