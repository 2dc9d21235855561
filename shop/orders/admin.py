"""Staff view of orders: read-only orders with their lines and history, found by number or customer
email; status moves only through the lifecycle service, as admin actions.

* Nothing of an order is edited in place (status, prices, totals, owner, address): the change page is
  view-only, and there is no add and no delete.
* "Mark fulfilled" (with carrier and one tracking number per order, on an intermediate form), "Mark
  delivered" and "Cancel (unpaid orders)" call ``shop.orders.services.lifecycle`` for each selected
  order as ``Actor("staff", <user id>)``; an order the rules refuse is reported as a warning and the
  others go on. They need the change permission (``has_transition_permission``), not just view.
* "Refund (full)", "Refund part …" (one amount per order, in its currency, on an intermediate form)
  and "Cancel paid order (refund)" ask payments for the refund through ``lifecycle.refund`` /
  ``lifecycle.cancel_paid``; the order becomes refunded when payments announces a full refund (a
  partial one is noted in its history). Refusals (the order's rules, or payments': not refundable,
  too large, gateway down) are warnings, like the moves above.
* The customer's email lives in the users context, so it is never joined: a search asks
  ``UsersAPI.find_users`` once, and a list page fetches the emails of its orders in one ``get_users``
  call (never one per row).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import display_for_value
from django.contrib.admin.views.main import ChangeList
from django.db.models import OuterRef, Q, QuerySet, Subquery, Sum
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

from shop import registry
from shop.kernel import ContextUnavailable, DomainError, Money
from shop.orders import api
from shop.orders.models import Order, OrderLine, OrderStatusChange
from shop.orders.services import lifecycle
from shop.users.api import UsersAPI

# One action request moves at most this many orders (each move is its own transaction).
MAX_ORDERS_PER_ACTION = 200
FULFIL_TEMPLATE = "admin/orders/order/fulfil.html"
REFUND_TEMPLATE = "admin/orders/order/refund.html"
FULL_REFUND_NOTE = "Refunded by staff."
PARTIAL_REFUND_NOTE = "Partially refunded by staff."


def _customer_labels(customer_ids: Sequence[int]) -> dict[int, str]:
    """A label ("email (#id)") for each customer, from one call to the users context. If that context
    cannot answer now, the ids alone: an orders page still works while users is down."""
    ids = sorted(set(customer_ids))
    try:
        users = registry.get(UsersAPI).get_users(user_ids=ids) if ids else []
    except ContextUnavailable:
        return {i: f"user #{i} (email unavailable)" for i in ids}
    emails = {user.id: user.email for user in users}
    return {i: f"{emails[i]} (#{i})" if emails.get(i) else f"user #{i} (deleted)" for i in ids}


def _refusal(exc: DomainError) -> str:
    """What the rules said, with what is left to refund when payments says a refund is too large."""
    left = exc.extra.get("refundable")
    return f"{exc.detail} (at most {left} left)" if left is not None else exc.detail


# --- inlines ---------------------------------------------------------------------------------------
class _ReadOnlyInline:
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class OrderLineInline(_ReadOnlyInline, admin.TabularInline[OrderLine, Order]):
    model = OrderLine
    fields = ("sku", "product_name", "variant_name", "unit_price", "quantity", "line_total")
    readonly_fields = fields
    ordering = ("id",)

    @admin.display(description="unit price")
    def unit_price(self, obj: OrderLine) -> Money:
        return obj.order.money(obj.unit_price_amount)

    @admin.display(description="line total")
    def line_total(self, obj: OrderLine) -> Money:
        return obj.order.money(obj.line_total_amount)

    def get_queryset(self, request: HttpRequest) -> QuerySet[OrderLine]:
        return super().get_queryset(request).select_related("order")


class OrderStatusChangeInline(_ReadOnlyInline, admin.TabularInline[OrderStatusChange, Order]):
    model = OrderStatusChange
    verbose_name = "status change"
    verbose_name_plural = "status history"
    fields = ("at", "from_status", "to_status", "actor", "actor_id", "note")
    readonly_fields = fields
    ordering = ("at", "id")


# --- the list --------------------------------------------------------------------------------------
class OrderChangeList(ChangeList):
    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        orders: list[Order] = list(self.result_list)
        labels = _customer_labels([order.customer_id for order in orders])
        for order in orders:
            order.customer_label = labels[order.customer_id]  # type: ignore[attr-defined]
        self.result_list = orders


class FulfilForm(forms.Form):
    """One carrier for the shipment run, one tracking number per order (each parcel has its own)."""

    carrier = forms.CharField(max_length=60, help_text="e.g. DHL, UPS, Royal Mail")

    def __init__(self, *args: Any, orders: Sequence[Order], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for order in orders:
            self.fields[self.tracking_field(order.pk)] = forms.CharField(
                max_length=100, label=f"Tracking number of {order.number}"
            )

    @staticmethod
    def tracking_field(order_id: int) -> str:
        return f"tracking_{order_id}"

    def tracking_number(self, order_id: int) -> str:
        return str(self.cleaned_data[self.tracking_field(order_id)]).strip()


class PartialRefundForm(forms.Form):
    """One note for the run, one amount per order (in the order's currency, at most its total)."""

    note = forms.CharField(max_length=200, initial=PARTIAL_REFUND_NOTE)

    def __init__(self, *args: Any, orders: Sequence[Order], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cent = Decimal("0.01")  # the order's amounts are kept in cents
        for order in orders:
            self.fields[self.amount_field(order.pk)] = forms.DecimalField(
                label=f"Amount to refund of {order.number} ({order.currency})",
                max_digits=12,
                decimal_places=2,
                min_value=cent,
                max_value=order.total_amount,  # payments refuses more than what is left of the payment
            )

    @staticmethod
    def amount_field(order_id: int) -> str:
        return f"amount_{order_id}"

    def amount(self, order: Order) -> Money:
        return order.money(self.cleaned_data[self.amount_field(order.pk)])


# --- orders ----------------------------------------------------------------------------------------
_ORDER_FIELDS = ("number", "status", "customer", "placed_at", "pay_by", "updated_at")
_AMOUNT_FIELDS = ("subtotal", "shipping", "tax", "total")
_SHIPPING_FIELDS = ("ship_to", "carrier", "tracking_number")
_STOCK_FIELDS = ("reservation_id",)
# What may be refunded: a cancelled order only if it had been paid (the lifecycle checks that).
_REFUNDABLE = (api.PAID, api.FULFILLED, api.DELIVERED, api.CANCELLED)


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin[Order]):
    list_display = ["number", "customer", "status", "total", "item_count", "placed_at"]
    # A list filter, not a date hierarchy: the hierarchy scans every order for its distinct dates.
    list_filter = ["status", "placed_at"]
    search_fields = ["number"]  # the search itself is get_search_results
    search_help_text = "Order number (or its beginning), or customer email (or part of it)."
    ordering = ["-placed_at", "-id"]
    list_per_page = 50
    list_max_show_all = 50  # "show all" never loads more than one page's worth
    show_full_result_count = False  # no second COUNT(*) over every order on a filtered page
    fieldsets = [
        (None, {"fields": _ORDER_FIELDS}),
        ("Amounts", {"fields": _AMOUNT_FIELDS}),
        ("Shipping", {"fields": _SHIPPING_FIELDS}),
        ("Stock", {"fields": _STOCK_FIELDS, "classes": ["collapse"]}),
    ]
    readonly_fields = [*_ORDER_FIELDS, *_AMOUNT_FIELDS, *_SHIPPING_FIELDS, *_STOCK_FIELDS]  # every one
    inlines = [OrderLineInline, OrderStatusChangeInline]
    actions = ["mark_fulfilled", "mark_delivered", "cancel_unpaid", "refund_full", "refund_part", "cancel_paid"]

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return OrderChangeList

    def get_queryset(self, request: HttpRequest) -> QuerySet[Order]:
        items = (
            OrderLine.objects.filter(order=OuterRef("pk"))
            .order_by()
            .values("order")
            .annotate(total_quantity=Sum("quantity"))
            .values("total_quantity")
        )
        return super().get_queryset(request).annotate(items_count=Subquery(items))

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Order], search_term: str
    ) -> tuple[QuerySet[Order], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        try:
            customer_ids = [user.id for user in registry.get(UsersAPI).find_users(email_contains=term)]
        except ContextUnavailable:
            customer_ids = []
            self.message_user(
                request, "Customer emails cannot be searched right now: order numbers only.", messages.WARNING
            )
        # Numbers are upper case (SO-7K3Q-9XW2): a prefix match on the upper-cased term is case-insensitive.
        match = Q(number__startswith=term.upper())
        if customer_ids:
            match |= Q(customer_id__in=customer_ids)
        return queryset.filter(match), False

    # --- columns and fields ---
    @admin.display(description="customer")
    def customer(self, obj: Order) -> str:
        label = getattr(obj, "customer_label", None)  # set for a whole list page by OrderChangeList
        if label is None:  # the detail page: one order, one call
            label = _customer_labels([obj.customer_id])[obj.customer_id]
        return str(label)

    @admin.display(description="total", ordering="total_amount")
    def total(self, obj: Order) -> Money:
        return obj.total

    @admin.display(description="subtotal")
    def subtotal(self, obj: Order) -> Money:
        return obj.money(obj.subtotal_amount)

    @admin.display(description="shipping")
    def shipping(self, obj: Order) -> Money:
        return obj.money(obj.shipping_amount)

    @admin.display(description="tax")
    def tax(self, obj: Order) -> Money:
        return obj.money(obj.tax_amount)

    @admin.display(description="payment due by")
    def pay_by(self, obj: Order) -> str:
        """Only while the order awaits payment (as in the API): afterwards the deadline means nothing."""
        due = obj.payment_due_by if obj.status == api.PENDING_PAYMENT else None
        return str(display_for_value(due, self.get_empty_value_display()))

    @admin.display(description="items", ordering="items_count")
    def item_count(self, obj: Order) -> int:
        return int(getattr(obj, "items_count", None) or 0)

    @admin.display(description="ship to")
    def ship_to(self, obj: Order) -> SafeString:
        address = obj.shipping_address or {}
        place = " ".join(str(address.get(k) or "") for k in ("postal_code", "city")).strip()
        lines = [
            address.get("full_name"),
            address.get("line1"),
            address.get("line2"),
            place,
            address.get("region"),
            address.get("country"),
            address.get("phone"),
        ]
        return format_html_join(SafeString("<br>"), "{}", ((str(line),) for line in lines if line))

    # --- permissions: view-only orders, moves through the actions ---
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return False  # never a bare field edit: status moves are the actions below

    def has_delete_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return False

    def has_transition_permission(self, request: HttpRequest) -> bool:
        """Moving an order changes what happens next, so it needs the change permission, not just view."""
        return request.user.has_perm("orders.change_order")

    # --- actions ---
    def _selected(self, request: HttpRequest, queryset: QuerySet[Order]) -> list[Order] | None:
        """The selected orders (oldest first), or None (and a message) when there are too many."""
        orders = list(
            queryset.order_by("placed_at", "id").only(
                "pk", "number", "status", "customer_id", "currency", "total_amount"
            )[: MAX_ORDERS_PER_ACTION + 1]
        )
        if len(orders) > MAX_ORDERS_PER_ACTION:
            self.message_user(
                request,
                f"Select at most {MAX_ORDERS_PER_ACTION} orders at a time; nothing was changed.",
                messages.ERROR,
            )
            return None
        return orders

    def _apply(
        self,
        request: HttpRequest,
        orders: Sequence[Order],
        *,
        done: str,
        move: Callable[[Order], object],
        only_from: str | None = None,
        refusal: str = "",
    ) -> None:
        """Move each order through the service; report each refusal as a warning and go on."""
        moved: list[str] = []
        for order in orders:
            if only_from is not None and order.status != only_from:
                status = order.get_status_display()
                self.message_user(
                    request, f"{order.number} was not {done}: it is {status}; {refusal}", messages.WARNING
                )
                continue
            try:
                move(order)
            except DomainError as exc:  # IllegalTransition: someone else moved it, or the rules say no
                self.message_user(request, f"{order.number} was not {done}: {_refusal(exc)}", messages.WARNING)
                continue
            except ContextUnavailable:  # only the refunds call another context (payments)
                self.message_user(
                    request,
                    f"{order.number} was not {done}: payments cannot answer right now; try again in a moment.",
                    messages.WARNING,
                )
                continue
            moved.append(order.number)
        if moved:
            self.message_user(request, f"{len(moved)} order(s) {done}: {', '.join(moved)}.", messages.SUCCESS)

    def _staff(self, request: HttpRequest) -> lifecycle.Actor:
        return lifecycle.Actor(kind="staff", id=request.user.pk)

    @admin.action(description="Mark fulfilled (shipped) …", permissions=["transition"])
    def mark_fulfilled(self, request: HttpRequest, queryset: QuerySet[Order]) -> TemplateResponse | None:
        """An intermediate page asks for the carrier and the tracking numbers; ``apply`` posts it back."""
        orders = self._selected(request, queryset)
        if orders is None:
            return None
        applying = "apply" in request.POST
        form = FulfilForm(request.POST if applying else None, orders=orders)
        if applying and form.is_valid():
            carrier, actor = form.cleaned_data["carrier"].strip(), self._staff(request)
            self._apply(
                request,
                orders,
                done="marked fulfilled",
                move=lambda order: lifecycle.fulfil(
                    order_id=order.pk, carrier=carrier, tracking_number=form.tracking_number(order.pk), actor=actor
                ),
            )
            return None
        customers = _customer_labels([order.customer_id for order in orders])
        rows = [
            {
                "order": order,
                "customer": customers[order.customer_id],
                "tracking": form[FulfilForm.tracking_field(order.pk)],
            }
            for order in orders
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": "Mark orders fulfilled",
            "opts": self.opts,
            "form": form,
            "rows": rows,
            "not_paid": [order.number for order in orders if order.status != api.PAID],
            "action": "mark_fulfilled",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, FULFIL_TEMPLATE, context)

    @admin.action(description="Mark delivered", permissions=["transition"])
    def mark_delivered(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        orders = self._selected(request, queryset)
        if orders is None:
            return
        actor = self._staff(request)
        self._apply(
            request,
            orders,
            done="marked delivered",
            move=lambda order: lifecycle.deliver(order_id=order.pk, actor=actor),
        )

    @admin.action(description="Cancel (unpaid orders; their stock goes back)", permissions=["transition"])
    def cancel_unpaid(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        """Only orders awaiting payment: a paid one is cancelled by refunding it (payments, not here)."""
        orders = self._selected(request, queryset)
        if orders is None:
            return
        actor = self._staff(request)
        self._apply(
            request,
            orders,
            done="cancelled",
            move=lambda order: lifecycle.cancel(order_id=order.pk, actor=actor, note="Cancelled by staff."),
            only_from=api.PENDING_PAYMENT,
            refusal="only an order awaiting payment can be cancelled here (a paid one must be refunded).",
        )

    @admin.action(description="Refund (full)", permissions=["transition"])
    def refund_full(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        """Paid, fulfilled, delivered (or cancelled after payment) orders: all that is left of the
        payment goes back; the order becomes refunded when payments confirms."""
        orders = self._selected(request, queryset)
        if orders is None:
            return
        actor = self._staff(request)
        self._apply(
            request,
            orders,
            done="refunded",
            move=lambda order: lifecycle.refund(order_id=order.pk, actor=actor, amount=None, note=FULL_REFUND_NOTE),
        )

    @admin.action(description="Refund part …", permissions=["transition"])
    def refund_part(self, request: HttpRequest, queryset: QuerySet[Order]) -> TemplateResponse | None:
        """An intermediate page asks for each order's amount; ``apply`` posts it back. The order keeps
        its status (a note in its history) unless the refunds add up to the whole payment."""
        orders = self._selected(request, queryset)
        if orders is None:
            return None
        applying = "apply" in request.POST
        form = PartialRefundForm(request.POST if applying else None, orders=orders)
        if applying and form.is_valid():
            note, actor = form.cleaned_data["note"].strip(), self._staff(request)
            self._apply(
                request,
                orders,
                done="partly refunded",
                move=lambda order: lifecycle.refund(
                    order_id=order.pk, actor=actor, amount=form.amount(order), note=note
                ),
            )
            return None
        customers = _customer_labels([order.customer_id for order in orders])
        rows = [
            {
                "order": order,
                "customer": customers[order.customer_id],
                "amount": form[PartialRefundForm.amount_field(order.pk)],
            }
            for order in orders
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": "Refund part of orders",
            "opts": self.opts,
            "form": form,
            "rows": rows,
            "not_paid": [order.number for order in orders if order.status not in _REFUNDABLE],
            "action": "refund_part",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, REFUND_TEMPLATE, context)

    @admin.action(description="Cancel paid order (refund)", permissions=["transition"])
    def cancel_paid(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        """Paid, not yet shipped orders: cancelled now and fully refunded; the order becomes refunded
        when payments confirms. Its stock stays sold (a return is staff's job)."""
        orders = self._selected(request, queryset)
        if orders is None:
            return
        actor = self._staff(request)

        def cancel_and_refund(order: Order) -> None:
            try:
                lifecycle.cancel_paid(order_id=order.pk, actor=actor, note="Cancelled by staff after payment.")
            except (DomainError, ContextUnavailable) as exc:
                # The cancel commits before payments is asked: when only the refund failed, say so.
                if not Order.objects.filter(pk=order.pk, status=api.CANCELLED).exists():
                    raise
                why = _refusal(exc) if isinstance(exc, DomainError) else "payments cannot answer right now"
                raise DomainError(
                    f"it is cancelled, but its refund failed ({why}); refund it with 'Refund (full)'."
                ) from exc

        self._apply(
            request,
            orders,
            done="cancelled and refunded",
            move=cancel_and_refund,
            only_from=api.PAID,
            refusal="only a paid order that has not been shipped can be cancelled (refund a shipped one).",
        )
