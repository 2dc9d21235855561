"""Use cases of pricing, and ``PricingService``, the in-process ``PricingAPI``.

``quoting``: the quote and the shipping methods of a basket; ``arithmetic``: the money, with its one
rounding rule; ``shipping``: zones and method prices; ``tax``: the tax provider and its failure mode.
"""

from shop.pricing.services.quoting import PricingService

__all__ = ["PricingService"]
