"""Staff view of carts: read-only, with lines inline, searchable by customer email.

The customer's email lives in the users context, so it is never joined: a search asks
``UsersAPI.find_users`` once, and a list page fetches the emails of its carts in one
``get_users`` call (never one per row). While users cannot answer, the pages still work: customers
are shown by id, and a search finds carts by id only (and says so).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib import admin, messages
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.utils.safestring import SafeString

from shop import registry
from shop.cart.models import Cart, CartLine
from shop.users.api import UsersAPI
from shop.web.admin_kit import KitAdmin, ReadOnlyInline, compact_time, customer_labels, narrow, unless_unavailable


def _customers(user_ids: Sequence[int]) -> dict[int, str]:
    return customer_labels(user_ids, lambda ids: registry.get(UsersAPI).get_users(user_ids=ids))


class CartLineInline(ReadOnlyInline, admin.TabularInline[CartLine, Cart]):
    model = CartLine
    fields = ("sku", "product_name", "quantity", "price_when_added_amount", "currency", "added_at", "updated_at")
    readonly_fields = fields


class OwnerFilter(admin.SimpleListFilter):
    title = "owner"
    parameter_name = "owner"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("customer", "Customer"), ("guest", "Guest")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "customer":
            return queryset.filter(user_id__isnull=False)
        if self.value() == "guest":
            return queryset.filter(user_id__isnull=True)
        return queryset


@admin.register(Cart)
class CartAdmin(KitAdmin[Cart]):
    list_display = ["id", "customer", "line_count", "updated", "created"]
    list_filter = [OwnerFilter, "updated_at"]
    search_fields = ["=id"]
    search_help_text = "Customer email (or part of it), or cart id."
    ordering = ["-updated_at", "-id"]
    readonly_fields = ("customer", "version", "created_at", "updated_at")
    fields = readonly_fields
    inlines = [CartLineInline]
    list_per_page = 50

    def get_queryset(self, request: HttpRequest) -> QuerySet[Cart]:
        return super().get_queryset(request).annotate(lines_count=Count("lines"))

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Cart], search_term: str
    ) -> tuple[QuerySet[Cart], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        found = unless_unavailable(lambda: registry.get(UsersAPI).find_users(email_contains=term), None)
        if found is None:
            self.message_user(request, "Customer emails cannot be searched right now: cart ids only.", messages.WARNING)
        match = Q(user_id__in=[user.id for user in found or []])
        if term.isascii() and term.isdigit() and int(term) < 2**63:
            match |= Q(pk=int(term))
        return queryset.filter(match), False

    def complete_page(self, request: HttpRequest, rows: list[Cart]) -> None:
        labels = _customers([cart.user_id for cart in rows if cart.user_id is not None])
        for cart in rows:
            cart.customer_label = labels.get(cart.user_id) if cart.user_id is not None else "guest"  # type: ignore[attr-defined]

    @admin.display(description="customer")
    def customer(self, obj: Cart) -> str:
        if obj.user_id is None:
            return "guest"
        label = getattr(obj, "customer_label", None)  # a whole list page at once: complete_page
        return narrow(label) if label is not None else _customers([obj.user_id])[obj.user_id]

    @admin.display(description="updated", ordering="updated_at")
    def updated(self, obj: Cart) -> SafeString:
        return compact_time(obj.updated_at)

    @admin.display(description="created", ordering="created_at")
    def created(self, obj: Cart) -> SafeString:
        return compact_time(obj.created_at)

    @admin.display(description="lines", ordering="lines_count")
    def line_count(self, obj: Cart) -> int:
        return int(getattr(obj, "lines_count", 0))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
