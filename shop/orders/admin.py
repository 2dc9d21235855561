# long-module: the orders admin: one ModelAdmin and its staff actions, each action small; split by action when it grows
"""Staff view of orders: read-only orders with their lines, history, payment, refunds and a link to
the emails sent about them, found by number or customer email; status moves and money only through
the services, as admin-kit actions (``shop.web.admin_kit``), on the list or as buttons on the order.

* Nothing of an order is edited in place (status, prices, totals, owner, address): the change page is
  view-only, and there is no add and no delete.
* "Mark fulfilled" (carrier and one tracking number per order, on a form) and "Mark delivered" call
  ``lifecycle.fulfil`` / ``lifecycle.deliver``. "Cancel (unpaid)", "Refund (full)", "Refund part" and
  "Cancel paid order (refund)" move stock or money, so they first show what will happen to each order
  (the amounts refunded and what is left, the units going back to stock) — worked out by
  ``services.staff`` from the lifecycle's rules and payments' figures — and act only when confirmed.
  All run as a staff ``Actor`` and need the change permission (``has_transition_permission``).
* Another context is never joined: customers' emails come from ``UsersAPI`` (one ``get_users`` call per
  page, one ``find_users`` per search), the payment and its refunds from ``PaymentsAPI``; when either
  cannot answer, the page shows what it has and says so. Emails sent are listed by the notifications
  admin, filtered by order and linked from here (orders sits below notifications and never calls it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, ClassVar

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import display_for_value
from django.db.models import OuterRef, Q, QuerySet, Subquery, Sum
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from shop import registry
from shop.kernel import ContextUnavailable, Money
from shop.orders import api
from shop.orders.models import Order, OrderLine, OrderStatusChange
from shop.orders.services import lifecycle, staff
from shop.payments.api import Payment, PaymentsAPI, Refund
from shop.users.api import UsersAPI
from shop.web.admin_kit import (
    KitAdmin,
    NotDone,
    ReadOnlyInline,
    StaffAction,
    Step,
    compact_time,
    customer_labels,
    narrow,
    nowrap,
    unless_unavailable,
)

Decision = tuple[str, str, dict[str, Any]]  # (effect, refusal, data) of one order
FULL_REFUND_NOTE = "Refunded by staff."
PARTIAL_REFUND_NOTE = "Partially refunded by staff."
CANCEL_PAID_NOTE = "Cancelled by staff after payment."


def _customers(customer_ids: Sequence[int]) -> dict[int, str]:
    return customer_labels(customer_ids, lambda ids: registry.get(UsersAPI).get_users(user_ids=ids))


def _admin_url(name: str, *args: Any, query: str = "") -> str | None:
    """A page of another context's admin, if this process serves it (``SHOP_SERVE`` may not)."""
    try:
        return reverse(f"admin:{name}", args=args) + (f"?{query}" if query else "")
    except NoReverseMatch:
        return None


# --- inlines ---------------------------------------------------------------------------------------
class OrderLineInline(ReadOnlyInline, admin.TabularInline[OrderLine, Order]):
    model = OrderLine
    fields = ("sku", "product_name", "variant_name", "unit_price", "quantity", "line_total", "discount", "tax", "paid")
    readonly_fields = fields
    ordering = ("id",)

    @admin.display(description="tax")
    def tax(self, obj: OrderLine) -> str:
        return f"{obj.order.money(obj.tax_amount)} ({obj.tax_rate.normalize():f} %, {obj.tax_class or 'n/a'})"

    @admin.display(description="discount")
    def discount(self, obj: OrderLine) -> str:
        """Each promotion's share of the line, as the customer saw it."""
        parts = [f"{d['label']}: -{obj.order.money(d['amount'])}" for d in obj.discounts or []]
        return "; ".join(parts) or "—"

    @admin.display(description="paid for the line")
    def paid(self, obj: OrderLine) -> Money:
        """What a refund of the whole line gives back: after discounts, with tax."""
        return obj.order.money(obj.total_amount)

    @admin.display(description="unit price")
    def unit_price(self, obj: OrderLine) -> Money:
        return obj.order.money(obj.unit_price_amount)

    @admin.display(description="line total")
    def line_total(self, obj: OrderLine) -> Money:
        return obj.order.money(obj.line_total_amount)

    def get_queryset(self, request: HttpRequest) -> QuerySet[OrderLine]:
        return super().get_queryset(request).select_related("order")


class OrderStatusChangeInline(ReadOnlyInline, admin.TabularInline[OrderStatusChange, Order]):
    model = OrderStatusChange
    verbose_name = "status change"
    verbose_name_plural = "status history"
    fields = ("at", "from_status", "to_status", "actor", "actor_id", "note")
    readonly_fields = fields
    ordering = ("at", "id")


# --- actions ---------------------------------------------------------------------------------------
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

    def amounts(self, orders: Sequence[Order]) -> dict[int, Money]:
        return {order.pk: order.money(self.cleaned_data[self.amount_field(order.pk)]) for order in orders}


def _total(steps: Sequence[Step], what: str) -> str:
    """ "Refunded in all: 21.38 EUR" (one figure per currency)."""
    sums: dict[str, Money] = {}
    for step in steps:
        amount: Money = step.data["amount"]
        sums[amount.currency] = sums[amount.currency] + amount if amount.currency in sums else amount
    return f"{what}: {' + '.join(str(money) for money in sums.values())}." if sums else ""


class _OrderAction(StaffAction[Order]):
    permission = "transition"
    noun = "order(s)"
    label_column = "Order"
    columns: ClassVar[tuple[str, ...]] = ("Status", "Customer", "Total")

    def objects(self, queryset: QuerySet[Order]) -> list[Order]:
        """The selected orders, oldest first, with their lines (the units a cancel gives back)."""
        return list(queryset.order_by("placed_at", "id").prefetch_related("lines")[: self.max_objects + 1])

    def offers(self, obj: Order) -> bool:
        return obj.status in self.from_statuses()

    def from_statuses(self) -> frozenset[str]:
        return frozenset(api.STATUSES)

    def steps(self, objects: Sequence[Order], decide: Callable[[Order], Decision]) -> list[Step]:
        """A step per order: ``decide(order)`` gives ``(effect, refusal, data)``."""
        customers = _customers([order.customer_id for order in objects])
        steps = []
        for order in objects:
            effect, refusal, data = decide(order)
            cells = (order.get_status_display(), customers[order.customer_id], nowrap(order.total))
            steps.append(Step(obj=order, label=order.number, cells=cells, effect=effect, refusal=refusal, data=data))
        return steps

    @staticmethod
    def actor(request: HttpRequest) -> lifecycle.Actor:
        return lifecycle.Actor(kind=api.ActorKind.STAFF, id=request.user.pk)


class _MoveAction(_OrderAction):
    """A status move that touches neither money nor stock: no confirmation."""

    confirm = False
    to_status: str
    refusal: str

    def from_statuses(self) -> frozenset[str]:
        return staff.statuses_to(self.to_status)

    def plan(self, request: HttpRequest, objects: Sequence[Order], form: forms.Form | None) -> list[Step]:
        def decide(order: Order) -> Decision:
            if order.status not in self.from_statuses():
                return "", f"it is {order.get_status_display()}; {self.refusal}", {}
            return self.effect(order, form), "", {}

        return self.steps(objects, decide)

    def effect(self, order: Order, form: forms.Form | None) -> str:
        return f"Becomes {self.to_status.replace('_', ' ')}; the customer is emailed."


class MarkFulfilled(_MoveAction):
    name = "mark_fulfilled"
    label = "Mark fulfilled (shipped)"
    title = "Mark orders fulfilled"
    done = "marked fulfilled"
    to_status = api.FULFILLED
    refusal = "only a paid order can be marked fulfilled."
    intro = "Give the carrier and each parcel's tracking number. Only a paid order can be marked fulfilled."
    input_column = "Tracking number"
    submit_label = "Mark fulfilled"

    def form(self, data: Any, objects: Sequence[Order]) -> FulfilForm:
        return FulfilForm(data, orders=[order for order in objects if self.offers(order)])

    def row_field(self, obj: Order) -> str | None:
        return FulfilForm.tracking_field(obj.pk) if self.offers(obj) else None

    def effect(self, order: Order, form: forms.Form | None) -> str:
        if not isinstance(form, FulfilForm):
            return ""
        carrier = form.cleaned_data["carrier"].strip()
        return f"Shipped with {carrier}, tracking {form.tracking_number(order.pk)}; the customer is emailed."

    def apply(self, request: HttpRequest, step: Step, form: forms.Form | None, token: str) -> str:
        assert isinstance(form, FulfilForm)
        lifecycle.fulfil(
            order_id=step.obj.pk,
            carrier=form.cleaned_data["carrier"].strip(),
            tracking_number=form.tracking_number(step.obj.pk),
            actor=self.actor(request),
        )
        return step.label


class MarkDelivered(_MoveAction):
    name = "mark_delivered"
    label = "Mark delivered"
    title = "Mark orders delivered"
    done = "marked delivered"
    to_status = api.DELIVERED
    refusal = "only a fulfilled (shipped) order can be marked delivered."

    def apply(self, request: HttpRequest, step: Step, form: forms.Form | None, token: str) -> str:
        lifecycle.deliver(order_id=step.obj.pk, actor=self.actor(request))
        return step.label


class CancelUnpaid(_OrderAction):
    name = "cancel_unpaid"
    label = "Cancel (unpaid orders; their stock goes back)"
    title = "Cancel unpaid orders"
    done = "cancelled"
    intro = "Each order awaiting payment is cancelled and the units it holds go back to stock; the customer is emailed."
    submit_label = "Yes, cancel them"

    def offers(self, obj: Order) -> bool:
        return obj.status in staff.CANCELLABLE_UNPAID

    def plan(self, request: HttpRequest, objects: Sequence[Order], form: forms.Form | None) -> list[Step]:
        previews = staff.cancel_unpaid(objects)

        def decide(order: Order) -> Decision:
            preview = previews[order.pk]
            units = ", ".join(f"{quantity} x {sku}" for sku, quantity in preview.stock_back)
            held = sum(quantity for _, quantity in preview.stock_back)
            return f"Cancelled; back to stock: {units or 'nothing held'}.", preview.refusal, {"units": held}

        return self.steps(objects, decide)

    def summary(self, steps: Sequence[Step]) -> str:
        return f"Back to stock in all: {sum(step.data['units'] for step in steps)} unit(s)."

    def apply(self, request: HttpRequest, step: Step, form: forms.Form | None, token: str) -> str:
        lifecycle.cancel(order_id=step.obj.pk, actor=self.actor(request), note="Cancelled by staff.")
        return step.label


def _refund_effect(preview: staff.Preview, order: Order, *, cancel: bool = False) -> str:
    assert preview.refund is not None and preview.paid is not None
    refund = f"refund {preview.refund} of the {preview.paid} paid"
    if preview.left_after is not None and preview.left_after.amount > 0:
        return f"R{refund[1:]}; {preview.left_after} stays paid. The order stays {order.get_status_display()}."
    if cancel:
        return f"Cancelled now; {refund} (all that is left); the order becomes refunded. Its stock stays sold."
    return f"R{refund[1:]} (all that is left); the order becomes refunded. Its stock stays sold."


class RefundFull(_OrderAction):
    name = "refund_full"
    label = "Refund (full)"
    title = "Refund orders in full"
    done = "refunded"
    intro = "All that is left of each order's payment goes back to the customer, who is emailed."
    columns = ("Status", "Customer", "Total", "Paid", "Left to refund")
    submit_label = "Yes, refund"

    def offers(self, obj: Order) -> bool:
        return obj.status in staff.statuses_to(api.REFUNDED)

    def plan(self, request: HttpRequest, objects: Sequence[Order], form: forms.Form | None) -> list[Step]:
        return _refund_steps(self, objects, staff.refund(objects))

    def summary(self, steps: Sequence[Step]) -> str:
        return _total(steps, "Refunded in all")

    def apply(self, request: HttpRequest, step: Step, form: forms.Form | None, token: str) -> str:
        lifecycle.refund(
            order_id=step.obj.pk,
            actor=self.actor(request),
            amount=step.data["amount"],  # what the confirmation showed, not whatever is left by now
            note=FULL_REFUND_NOTE,
            key=f"admin-{token}-{step.obj.pk}",  # a confirmation sent twice refunds once
        )
        return f"{step.label} ({step.data['amount']})"


def _refund_steps(action: _OrderAction, objects: Sequence[Order], previews: dict[int, staff.Preview]) -> list[Step]:
    customers = _customers([order.customer_id for order in objects])
    steps = []
    for order in objects:
        preview = previews[order.pk]
        acts = not preview.refusal and preview.refund is not None
        effect = _refund_effect(preview, order, cancel=isinstance(action, CancelPaid)) if acts else ""
        cells = (
            order.get_status_display(),
            customers[order.customer_id],
            nowrap(order.total),
            nowrap(preview.paid or "-"),
            nowrap(preview.refundable or "-"),
        )
        data = {"amount": preview.refund} if acts else {}
        steps.append(
            Step(obj=order, label=order.number, cells=cells, effect=effect, refusal=preview.refusal, data=data)
        )
    return steps


class RefundPart(_OrderAction):
    name = "refund_part"
    label = "Refund part"
    title = "Refund part of orders"
    done = "partly refunded"
    intro = (
        "Give the amount to refund of each order, in the order's currency. The order stays as it is (a note in "
        "its history) unless its refunds add up to the whole payment; the customer is emailed."
    )
    columns = ("Status", "Customer", "Total", "Paid", "Left to refund")
    input_column = "Refund now"
    submit_label = "Yes, refund"

    def offers(self, obj: Order) -> bool:
        return obj.status in staff.statuses_to(api.REFUNDED)

    def form(self, data: Any, objects: Sequence[Order]) -> PartialRefundForm:
        return PartialRefundForm(data, orders=objects)

    def row_field(self, obj: Order) -> str | None:
        return PartialRefundForm.amount_field(obj.pk)

    def plan(self, request: HttpRequest, objects: Sequence[Order], form: forms.Form | None) -> list[Step]:
        amounts = form.amounts(objects) if isinstance(form, PartialRefundForm) else None
        previews = staff.refund(objects, amounts)
        if amounts is None:  # the form page: what can be refunded, not yet how much
            previews = {pk: _without_refund(preview) for pk, preview in previews.items()}
        return _refund_steps(self, objects, previews)

    def summary(self, steps: Sequence[Step]) -> str:
        return _total(steps, "Refunded in all")

    def apply(self, request: HttpRequest, step: Step, form: forms.Form | None, token: str) -> str:
        assert isinstance(form, PartialRefundForm)
        lifecycle.refund(
            order_id=step.obj.pk,
            actor=self.actor(request),
            amount=step.data["amount"],
            note=form.cleaned_data["note"].strip(),
            key=f"admin-{token}-{step.obj.pk}",
        )
        return f"{step.label} ({step.data['amount']})"


def _without_refund(preview: staff.Preview) -> staff.Preview:
    return staff.Preview(
        order_id=preview.order_id,
        refusal=preview.refusal,
        refundable=preview.refundable,
        paid=preview.paid,
        payment_id=preview.payment_id,
    )


class CancelPaid(_OrderAction):
    name = "cancel_paid"
    label = "Cancel paid order (refund)"
    title = "Cancel paid orders and refund them"
    done = "cancelled and refunded"
    intro = (
        "Each paid order that has not shipped is cancelled now and all of its payment goes back to the customer, "
        "who is emailed. Its stock stays sold: book returned goods in the catalog."
    )
    columns = ("Status", "Customer", "Total", "Paid", "Left to refund")
    submit_label = "Yes, cancel and refund"

    def offers(self, obj: Order) -> bool:
        return obj.status in staff.CANCELLABLE_PAID

    def plan(self, request: HttpRequest, objects: Sequence[Order], form: forms.Form | None) -> list[Step]:
        return _refund_steps(self, objects, staff.cancel_paid(objects))

    def summary(self, steps: Sequence[Step]) -> str:
        return _total(steps, "Refunded in all")

    def apply(self, request: HttpRequest, step: Step, form: forms.Form | None, token: str) -> str:
        order = lifecycle.cancel_paid(order_id=step.obj.pk, actor=self.actor(request), note=CANCEL_PAID_NOTE)
        if order.refund_pending:
            # Cancelled, and the refund is owed: payments could not make it now (or refused it).
            later = "it is retried automatically" if order.refund_dead_at is None else "staff must retry it"
            raise NotDone(f"it is cancelled, but its refund failed ({order.refund_error}); {later} (Refund owed).")
        return f"{step.label} ({step.data['amount']})"


class RetryOwedRefund(_OrderAction):
    name = "retry_owed_refund"
    label = "Retry owed refund"
    title = "Retry the refunds orders owe"
    done = "asked to refund again"
    intro = (
        "Each order below owes its customer a refund that payments has not made yet (shown under 'Refund owed'). "
        "Payments is asked again now, with fresh attempts; if it still cannot, the retries go on by themselves."
    )
    columns = ("Status", "Customer", "Total")
    submit_label = "Yes, retry the refunds"

    def offers(self, obj: Order) -> bool:
        return obj.refund_pending

    def plan(self, request: HttpRequest, objects: Sequence[Order], form: forms.Form | None) -> list[Step]:
        def decide(order: Order) -> Decision:
            if not order.refund_pending:
                return "", "it owes no refund.", {}
            state = "dead" if order.refund_dead_at else f"{order.refund_attempts} attempt(s) so far"
            return f"Payments is asked to refund it in full now ({state}; last error: {order.refund_error}).", "", {}

        return self.steps(objects, decide)

    def apply(self, request: HttpRequest, step: Step, form: forms.Form | None, token: str) -> str:
        outcome = lifecycle.retry_refund_now(order_id=step.obj.pk)
        if outcome != "done":
            order = Order.objects.get(pk=step.obj.pk)
            raise NotDone(f"the refund failed again ({order.refund_error}); it stays owed.")
        return step.label


class RefundOwedFilter(admin.SimpleListFilter):
    """Orders that owe their customer a refund payments has not made yet (retrying, or dead)."""

    title = "refund owed"
    parameter_name = "refund_owed"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("retrying", "Being retried"), ("dead", "Given up: retry by hand")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Order]) -> QuerySet[Order]:
        if self.value() == "retrying":
            return queryset.filter(lifecycle.owed_refunds(), refund_dead_at__isnull=True)
        if self.value() == "dead":
            return queryset.filter(lifecycle.owed_refunds(), refund_dead_at__isnull=False)
        return queryset


# --- orders ----------------------------------------------------------------------------------------
_ORDER_FIELDS = ("number", "status", "customer", "placed_at", "pay_by", "updated_at")
_AMOUNT_FIELDS = (
    "prices_include_tax",
    "subtotal",
    "discount",
    "voucher_codes",
    "shipping",
    "tax",
    "tax_breakdown_table",
    "total",
)
_PAYMENT_FIELDS = ("paid_at", "refund_owed", "payment", "emails")
_SHIPPING_FIELDS = ("shipping_method_label", "ship_to", "carrier", "tracking_number")
_STOCK_FIELDS = ("reservation_id",)


@admin.register(Order)
class OrderAdmin(KitAdmin[Order]):
    # Narrow columns: beside the admin's sidebar and the filters, wide ones pushed the last off the page.
    list_display = ["order_number", "customer", "status", "total", "item_count", "placed"]
    list_display_links = ["order_number"]
    # A list filter, not a date hierarchy: the hierarchy scans every order for its distinct dates.
    list_filter = ["status", RefundOwedFilter, "placed_at"]
    search_fields = ["number"]  # the search itself is get_search_results
    search_help_text = "Order number (or its beginning), or customer email (or part of it)."
    ordering = ["-placed_at", "-id"]
    list_per_page = 50
    list_max_show_all = 50  # "show all" never loads more than one page's worth
    show_full_result_count = False  # no second COUNT(*) over every order on a filtered page
    fieldsets = [
        (None, {"fields": _ORDER_FIELDS}),
        ("Amounts", {"fields": _AMOUNT_FIELDS}),
        ("Payment, refunds and emails", {"fields": _PAYMENT_FIELDS}),
        ("Shipping", {"fields": _SHIPPING_FIELDS}),
        ("Stock", {"fields": _STOCK_FIELDS, "classes": ["collapse"]}),
    ]
    readonly_fields = [*_ORDER_FIELDS, *_AMOUNT_FIELDS, *_PAYMENT_FIELDS, *_SHIPPING_FIELDS, *_STOCK_FIELDS]
    inlines = [OrderLineInline, OrderStatusChangeInline]
    staff_actions = [MarkFulfilled, MarkDelivered, CancelUnpaid, RefundFull, RefundPart, CancelPaid, RetryOwedRefund]
    actions = [action.admin_action() for action in staff_actions]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Order]:
        items = (
            OrderLine.objects.filter(order=OuterRef("pk"))
            .order_by()
            .values("order")
            .annotate(total_quantity=Sum("quantity"))
            .values("total_quantity")
        )
        return super().get_queryset(request).annotate(items_count=Subquery(items))

    def complete_page(self, request: HttpRequest, rows: list[Order]) -> None:
        labels = _customers([order.customer_id for order in rows])
        for order in rows:
            order.customer_label = labels[order.customer_id]  # type: ignore[attr-defined]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Order], search_term: str
    ) -> tuple[QuerySet[Order], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        found = unless_unavailable(lambda: registry.get(UsersAPI).find_users(email_contains=term), None)
        if found is None:
            self.message_user(
                request, "Customer emails cannot be searched right now: order numbers only.", messages.WARNING
            )
        customer_ids = [user.id for user in found or []]
        # Numbers are upper case (SO-7K3Q-9XW2): a prefix match on the upper-cased term is case-insensitive.
        match = Q(number__startswith=term.upper())
        if customer_ids:
            match |= Q(customer_id__in=customer_ids)
        return queryset.filter(match), False

    # --- columns and fields ---
    @admin.display(description="number", ordering="number")
    def order_number(self, obj: Order) -> SafeString:
        return nowrap(obj.number)

    @admin.display(description="placed", ordering="placed_at")
    def placed(self, obj: Order) -> SafeString:
        return compact_time(obj.placed_at)

    @admin.display(description="customer")
    def customer(self, obj: Order) -> str:
        label = getattr(obj, "customer_label", None)  # set for a whole list page by complete_page
        if label is None:  # the detail page: one order, one call
            return _customers([obj.customer_id])[obj.customer_id]
        return narrow(label)

    @admin.display(description="refund owed")
    def refund_owed(self, obj: Order) -> str:
        if not obj.refund_pending:
            return "-"
        since = f"since {obj.refund_owed_since:%Y-%m-%d %H:%M} UTC, {obj.refund_attempts} attempt(s)"
        if obj.refund_dead_at is not None:
            return f"Given up ({since}): {obj.refund_error}. Use 'Retry owed refund'."
        following = f"next at {obj.refund_next_attempt_at:%H:%M:%S} UTC"
        return f"Being retried ({since}); {following}; last error: {obj.refund_error}"

    @admin.display(description="total", ordering="total_amount")
    def total(self, obj: Order) -> SafeString:
        return nowrap(obj.total)

    @admin.display(description="subtotal")
    def subtotal(self, obj: Order) -> Money:
        return obj.money(obj.subtotal_amount)

    @admin.display(description="shipping")
    def shipping(self, obj: Order) -> Money:
        return obj.money(obj.shipping_amount)

    @admin.display(description="tax")
    def tax(self, obj: Order) -> Money:
        return obj.money(obj.tax_amount)

    @admin.display(description="discount")
    def discount(self, obj: Order) -> Money:
        return obj.money(obj.discount_amount)

    @admin.display(description="tax breakdown")
    def tax_breakdown_table(self, obj: Order) -> SafeString:
        """The quote's tax by rate (lines and shipping together), as the invoice will show it."""
        if not obj.tax_breakdown:
            return format_html("{}", "none recorded (placed before pricing)")
        rows = format_html_join(
            "",
            "<tr><td>{} %</td><td>{}</td><td>{}</td></tr>",
            (
                (f"{Decimal(row['rate']).normalize():f}", obj.money(row["net"]), obj.money(row["tax"]))
                for row in obj.tax_breakdown
            ),
        )
        return format_html("<table><tr><th>rate</th><th>net</th><th>tax</th></tr>{}</table>", rows)

    @admin.display(description="shipping method")
    def shipping_method_label(self, obj: Order) -> str:
        if not obj.shipping_method:
            return "—"
        rate = f", tax {obj.money(obj.shipping_tax_amount)} at {obj.shipping_tax_rate.normalize():f} %"
        return f"{obj.shipping_method_name} ({obj.shipping_method}{rate})"

    @admin.display(description="payment due by")
    def pay_by(self, obj: Order) -> str:
        """Only while the order awaits payment (as in the API): afterwards the deadline means nothing."""
        due = obj.payment_due_by if obj.status == api.PENDING_PAYMENT else None
        return str(display_for_value(due, self.get_empty_value_display()))

    @admin.display(description="items", ordering="items_count")
    def item_count(self, obj: Order) -> int:
        return int(getattr(obj, "items_count", None) or 0)

    @admin.display(description="payment and refunds")
    def payment(self, obj: Order) -> SafeString:
        """The order's payment and every refund asked of the gateway, from payments (two calls)."""
        payments = registry.get(PaymentsAPI)
        try:
            payment, refunds = payments.payment_for_order(order_id=obj.pk), payments.refunds_for_order(order_id=obj.pk)
        except ContextUnavailable:
            return format_html("<em>{}</em>", "Payments cannot answer right now: reload the page in a moment.")
        if payment is None:
            return format_html("<em>{}</em>", "No payment was started.")
        return _payment_panel(payment, refunds)

    @admin.display(description="emails sent")
    def emails(self, obj: Order) -> SafeString:
        url = _admin_url("notifications_notification_changelist", query=f"order={obj.pk}")
        if url is None:
            return format_html("<em>{}</em>", "The notifications admin is served by another process.")
        return format_html('<a href="{}">Emails sent about {}</a>', url, obj.number)

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
        return False  # never a bare field edit: status moves are the actions

    def has_delete_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return False

    def has_transition_permission(self, request: HttpRequest) -> bool:
        """Moving an order changes what happens next, so it needs the change permission, not just view."""
        return request.user.has_perm("orders.change_order")


def _payment_panel(payment: Payment, refunds: Sequence[Refund]) -> SafeString:
    left = payment.amount - payment.refunded
    link = _admin_url("payments_payment_change", payment.id)
    facts = [
        ("Status", payment.status.replace("_", " ")),
        ("Paid", str(payment.amount)),
        ("Refunded", str(payment.refunded)),
        ("Left", str(left)),
        ("Gateway", f"{payment.gateway}, {payment.attempts} attempt(s)"),
    ]
    if payment.failure_code:
        facts.append(("Last failure", f"{payment.failure_code}: {payment.failure_message}"))
    rows = format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", facts)
    refund_rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
        ((display_for_value(r.created_at, "-"), r.amount, r.outcome.replace("_", " ")) for r in refunds),
    )
    refund_table = (
        format_html(
            '<table id="order-refunds"><thead><tr><th>Refund asked</th><th>Amount</th><th>Outcome</th></tr></thead>'
            "<tbody>{}</tbody></table>",
            refund_rows,
        )
        if refunds
        else format_html("<p>{}</p>", "No refunds.")
    )
    more = format_html('<p><a href="{}">Payment #{} with its ledger</a></p>', link, payment.id) if link else ""
    return format_html('<table id="order-payment">{}</table>{}{}', rows, refund_table, more)
