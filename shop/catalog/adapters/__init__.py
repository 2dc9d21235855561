"""Catalog infrastructure: the versioned storefront read cache."""
