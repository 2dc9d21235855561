"""Use cases of orders, and ``OrdersService``, the in-process ``OrdersAPI``.

``checkout``: the saga from cart to order; ``lifecycle``: every status move after that.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from shop.orders import api, selectors
from shop.orders.services import status_page


class OrdersService:
    """In-process implementation of ``api.OrdersAPI``."""

    context: ClassVar[str] = api.OrdersAPI.context

    def get_order(self, *, order_id: int) -> api.Order:
        order = selectors.order_by_id(order_id=order_id)
        if order is None:
            raise api.OrderNotFound(order_id=order_id)
        return selectors.to_order_dto(order)

    def get_orders(self, *, order_ids: Sequence[int]) -> list[api.Order]:
        if isinstance(order_ids, str | bytes) or len(set(order_ids)) > api.MAX_ORDERS_PER_CALL:
            raise api.ValidationFailed(f"At most {api.MAX_ORDERS_PER_CALL} order ids per call.")
        return [selectors.to_order_dto(o) for o in selectors.orders_by_ids(order_ids=order_ids)]

    def status_page_url(self, *, order_id: int) -> str:
        if not selectors.order_exists(order_id=order_id):
            raise api.OrderNotFound(order_id=order_id)
        return status_page.status_page_url(order_id=order_id)


__all__ = ["OrdersService"]
