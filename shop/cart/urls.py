"""Cart routes under /api/v1/cart/."""

from django.urls import path

from shop.cart import views
from shop.catalog.api import SKU_PATTERN
from shop.web.converters import register_pattern

register_pattern("sku", SKU_PATTERN)  # a NUL byte or an over-long value is a 404 before any query

urlpatterns = [
    path("", views.CartView.as_view(), name="cart"),
    path("lines/", views.CartLinesView.as_view(), name="cart-lines"),
    path("lines/<sku:sku>/", views.CartLineView.as_view(), name="cart-line"),
    path("merge/", views.CartMergeView.as_view(), name="cart-merge"),
    path("shipping-methods/", views.CartShippingMethodsView.as_view(), name="cart-shipping-methods"),
    path("vouchers/", views.CartVouchersView.as_view(), name="cart-vouchers"),
    path("vouchers/<str:code>/", views.CartVoucherView.as_view(), name="cart-voucher"),
]
