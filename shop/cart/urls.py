"""Cart routes under /api/v1/cart/."""

from django.urls import path

from shop.cart import views

urlpatterns = [
    path("", views.CartView.as_view(), name="cart"),
    path("lines/", views.CartLinesView.as_view(), name="cart-lines"),
    path("lines/<str:sku>/", views.CartLineView.as_view(), name="cart-line"),
    path("merge/", views.CartMergeView.as_view(), name="cart-merge"),
]
