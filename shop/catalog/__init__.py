"""The catalog context: categories, products, variants (SKUs), prices and stock."""
