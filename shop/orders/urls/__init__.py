"""Orders routes under /api/v1/orders/."""

from django.urls import path

from shop.orders import views

urlpatterns = [
    path("", views.OrderListView.as_view(), name="order-list"),
    path("<int:order_id>/", views.OrderDetailView.as_view(), name="order-detail"),
    path("<int:order_id>/cancel/", views.OrderCancelView.as_view(), name="order-cancel"),
    path("<int:order_id>/pay/", views.OrderPayView.as_view(), name="order-pay"),
]
