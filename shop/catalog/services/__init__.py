"""Write use cases of the catalog, and ``CatalogService``, the in-process ``CatalogAPI``.

``inventory``: stock, reservations and the SKU reads other contexts need; ``products``: staff writes
to categories, products, variants and prices.
"""

from shop.catalog.services.inventory import CatalogService

__all__ = ["CatalogService"]
