"""Catalog routes under /api/v1/catalog/: the storefront's and the staff API's."""

from shop.catalog.views import staff, storefront

urlpatterns = [*storefront.routes, *staff.routes]
