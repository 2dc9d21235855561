"""Staff view of carts: read-only, with lines inline, searchable by customer email.

The customer's email lives in the users context, so it is never joined: a search asks
``UsersAPI.find_users`` once, and a list page fetches the emails of its carts in one
``get_users`` call (never one per row).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest

from shop import registry
from shop.cart.models import Cart, CartLine
from shop.users.api import UsersAPI


class CartLineInline(admin.TabularInline[CartLine, Cart]):
    model = CartLine
    extra = 0
    can_delete = False
    fields = ("sku", "product_name", "quantity", "price_when_added_amount", "currency", "added_at", "updated_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


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


class CartChangeList(ChangeList):
    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        carts: list[Cart] = list(self.result_list)
        user_ids = sorted({cart.user_id for cart in carts if cart.user_id is not None})
        users = registry.get(UsersAPI).get_users(user_ids=user_ids) if user_ids else []
        emails = {user.id: user.email for user in users}
        for cart in carts:
            cart.customer_email = emails.get(cart.user_id, "") if cart.user_id is not None else ""  # type: ignore[attr-defined]
        self.result_list = carts


@admin.register(Cart)
class CartAdmin(admin.ModelAdmin[Cart]):
    list_display = ["id", "customer", "version", "line_count", "updated_at", "created_at"]
    list_filter = [OwnerFilter, "updated_at"]
    search_fields = ["=id"]
    search_help_text = "Customer email (or part of it), or cart id."
    ordering = ["-updated_at", "-id"]
    readonly_fields = ("customer", "version", "created_at", "updated_at")
    fields = readonly_fields
    inlines = [CartLineInline]
    list_per_page = 50

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return CartChangeList

    def get_queryset(self, request: HttpRequest) -> QuerySet[Cart]:
        return super().get_queryset(request).annotate(lines_count=Count("lines"))

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Cart], search_term: str
    ) -> tuple[QuerySet[Cart], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        user_ids = [user.id for user in registry.get(UsersAPI).find_users(email_contains=term)]
        match = Q(user_id__in=user_ids)
        if term.isdigit():
            match |= Q(pk=int(term))
        return queryset.filter(match), False

    @admin.display(description="customer")
    def customer(self, obj: Cart) -> str:
        if obj.user_id is None:
            return "guest"
        email = getattr(obj, "customer_email", None)
        if email is None:  # the detail page: one object, one call
            users = registry.get(UsersAPI).get_users(user_ids=[obj.user_id])
            email = users[0].email if users else ""
        return f"{email} (#{obj.user_id})" if email else f"user #{obj.user_id} (deleted)"

    @admin.display(description="lines", ordering="lines_count")
    def line_count(self, obj: Cart) -> int:
        return int(getattr(obj, "lines_count", 0))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
