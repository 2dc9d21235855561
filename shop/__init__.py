"""shop: an e-commerce backend as a Django modular monolith (see docs/architecture.md)."""

from shop.celery import app as celery_app

__all__ = ["celery_app"]
