"""Stock and reservations (placeholder until the inventory work lands)."""

from __future__ import annotations


class CatalogService:
    """In-process implementation of ``api.CatalogAPI``."""
