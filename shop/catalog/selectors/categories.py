"""The storefront's category tree: one bounded statement, nested in Python."""

from __future__ import annotations

from typing import Any

from shop.catalog.models import Category

MAX_CATEGORIES = 1000  # the tree endpoint returns at most this many nodes (staff-made, small in practice)


def category_tree() -> list[dict[str, Any]]:
    """Root categories with nested ``children``, siblings by ``position``: one statement, bounded."""
    rows = list(
        Category.objects.order_by("position", "name", "id").values("id", "parent_id", "slug", "name", "position")[
            :MAX_CATEGORIES
        ]
    )
    nodes: dict[int, dict[str, Any]] = {row["id"]: {**row, "children": []} for row in rows}
    roots: list[dict[str, Any]] = []
    for row in rows:
        node = nodes[row["id"]]
        parent_id = node.pop("parent_id")
        if parent_id is None:
            roots.append(node)
        elif parent_id in nodes:
            nodes[parent_id]["children"].append(node)
    return roots
