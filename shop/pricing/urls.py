"""Pricing routes under /api/v1/pricing/: the staff API (promotions and vouchers)."""

from shop.pricing.views import routes

urlpatterns = routes
