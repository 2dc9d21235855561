"""Staff view of payments: read-only payments with their ledger and keys, read-only webhook events,
and refunds only through ``shop.payments.services.charges.refund``, as admin-kit actions.

* Nothing of a payment is edited in place (status, amounts, references): the change page is
  view-only, with the ledger (one row per gateway call) and the idempotency keys inline; there is no
  add and no delete. Webhook events likewise, with the raw body as it arrived.
* The list answers "which order, whose, how much": the order's number (kept with the payment when
  orders started it), the customer's email (one ``UsersAPI.get_users`` call per page; ids alone when
  users cannot answer) and the amounts.
* "Refund (full)" and "Refund part" (one amount per payment, on a form) first show what each refund
  will send back and what is left (``services.staff``), and refund only when confirmed, with an
  idempotency key made from the confirmation's one-time token, so a confirmation sent twice refunds
  once. A refund the rules or the gateway refuse is a warning and the others go on. They need the
  change permission (``has_refund_permission``). The order follows by itself (``PaymentRefunded``).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString

from shop import registry
from shop.kernel import Money
from shop.kernel.money import CURRENCY_EXPONENTS
from shop.payments.models import Payment, PaymentKey, Transaction, WebhookEvent
from shop.payments.services import charges, staff
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
from shop.web.redaction import redacted_json, redacted_text

MAX_DB_ID = 2**63 - 1
FULL_REFUND_REASON = "Refunded by staff (admin)."
PARTIAL_REFUND_REASON = "Partially refunded by staff (admin)."


def _customers(customer_ids: Sequence[int]) -> dict[int, str]:
    return customer_labels(customer_ids, lambda ids: registry.get(UsersAPI).get_users(user_ids=ids))


def _order(payment: Payment) -> str:
    return payment.order_number or f"order #{payment.order_id}"


# --- inlines ---------------------------------------------------------------------------------------
class _ReadOnlyInline(ReadOnlyInline):
    """Part of the payment: visible to whoever may view the payment, changeable by nobody."""

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("payments.view_payment") or request.user.has_perm("payments.change_payment")


class TransactionInline(_ReadOnlyInline, admin.TabularInline[Transaction, Payment]):
    model = Transaction
    verbose_name = "gateway call"
    verbose_name_plural = "ledger (gateway calls)"
    fields = ("created_at", "kind", "outcome", "amount", "idempotency_key", "gateway_reference", "error", "answer")
    readonly_fields = fields
    ordering = ("created_at", "id")

    @admin.display(description="response")
    def answer(self, obj: Transaction) -> SafeString:
        """The gateway's answer with its secrets (client secrets, return links) redacted."""
        return redacted_json(obj.response)

    @admin.display(description="amount")
    def amount(self, obj: Transaction) -> Money | None:
        return obj.payment.money(obj.amount_amount) if obj.amount_amount is not None else None

    def get_queryset(self, request: HttpRequest) -> QuerySet[Transaction]:
        return super().get_queryset(request).select_related("payment")


class PaymentKeyInline(_ReadOnlyInline, admin.TabularInline[PaymentKey, Payment]):
    model = PaymentKey
    verbose_name = "idempotency key"
    verbose_name_plural = "idempotency keys"
    fields = ("created_at", "purpose", "key")
    readonly_fields = fields
    ordering = ("created_at", "id")


# --- refunds ---------------------------------------------------------------------------------------
class PartialRefundForm(forms.Form):
    """One reason for the run, one amount per payment (in the payment's currency)."""

    reason = forms.CharField(max_length=200, initial=PARTIAL_REFUND_REASON)

    def __init__(self, *args: Any, payments: Sequence[Payment], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for payment in payments:
            places = min(CURRENCY_EXPONENTS.get(payment.currency, 2), 2)  # the columns hold cents
            self.fields[self.amount_field(payment.pk)] = forms.DecimalField(
                label=f"Amount to refund of payment #{payment.pk}",
                max_digits=12,
                decimal_places=places,
                min_value=Decimal(1).scaleb(-places),
            )

    @staticmethod
    def amount_field(payment_id: int) -> str:
        return f"amount_{payment_id}"

    def amounts(self, payments: Sequence[Payment]) -> dict[int, Money]:
        return {p.pk: p.money(self.cleaned_data[self.amount_field(p.pk)]) for p in payments}


class _Refund(StaffAction[Payment]):
    permission = "refund"
    done = "refunded"
    noun = "payment(s)"
    label_column = "Payment"
    columns = ("Order", "Customer", "Status", "Paid", "Refunded", "Left")
    submit_label = "Yes, refund"
    reason = FULL_REFUND_REASON
    asks_amounts = False  # True: the amounts come from the form (unknown on the form page)

    def objects(self, queryset: QuerySet[Payment]) -> list[Payment]:
        return list(queryset.order_by("created_at", "id")[: self.max_objects + 1])

    def offers(self, obj: Payment) -> bool:
        return obj.status in staff.REFUNDABLE

    def amounts(self, objects: Sequence[Payment], form: forms.Form | None) -> dict[int, Money] | None:
        return None  # all that is left

    def plan(self, request: HttpRequest, objects: Sequence[Payment], form: forms.Form | None) -> list[Step]:
        amounts = self.amounts(objects, form)
        previews = staff.refund(objects, amounts)
        customers = _customers([payment.customer_id for payment in objects])
        steps = []
        for payment in objects:
            preview = previews[payment.pk]
            effect = ""
            if (
                preview.refund is not None
                and preview.left_after is not None
                and not (self.asks_amounts and form is None)
            ):
                after = "nothing" if preview.left_after.amount == 0 else str(preview.left_after)
                effect = f"Refund {preview.refund} to the customer; {after} left of the payment."
            cells = (
                nowrap(_order(payment)),
                customers[payment.customer_id],
                payment.get_status_display(),
                nowrap(payment.amount),
                nowrap(payment.refunded),
                nowrap(preview.refundable),
            )
            data = {"amount": preview.refund}
            label = f"Payment #{payment.pk}"
            steps.append(Step(obj=payment, label=label, cells=cells, effect=effect, refusal=preview.refusal, data=data))
        return steps

    def summary(self, steps: Sequence[Step]) -> str:
        sums: dict[str, Money] = {}
        for step in steps:
            amount: Money = step.data["amount"]
            sums[amount.currency] = sums[amount.currency] + amount if amount.currency in sums else amount
        return f"Refunded in all: {' + '.join(str(m) for m in sums.values())}." if sums else ""

    def reason_of(self, form: forms.Form | None) -> str:
        return self.reason

    def apply(self, request: HttpRequest, step: Step, form: forms.Form | None, token: str) -> str:
        payment: Payment = step.obj
        after = charges.refund(
            payment_id=payment.pk,
            amount=step.data["amount"],  # what the confirmation showed
            reason=self.reason_of(form),
            idempotency_key=f"admin-{payment.pk}-{token}",  # a confirmation sent twice refunds once
        )
        if after.refunded == payment.refunded:  # asked, but the gateway has not confirmed it yet
            raise NotDone("the refund was asked; the gateway has not confirmed it yet.")
        return f"#{payment.pk} ({after.refunded} of {after.amount}, {after.status.replace('_', ' ')})"


class RefundFull(_Refund):
    name = "refund_full"
    label = "Refund (full)"
    title = "Refund payments in full"
    intro = "All that is left of each payment goes back to the customer; the order follows by itself."


class RefundPart(_Refund):
    name = "refund_part"
    label = "Refund part"
    title = "Refund part of payments"
    intro = (
        "Give the amount to refund of each payment, in its currency. Only a succeeded (or partly refunded) "
        "payment can be refunded, and never more than what is left of it."
    )
    input_column = "Refund now"
    asks_amounts = True

    def form(self, data: Any, objects: Sequence[Payment]) -> PartialRefundForm:
        return PartialRefundForm(data, payments=objects)

    def row_field(self, obj: Payment) -> str | None:
        return PartialRefundForm.amount_field(obj.pk)

    def amounts(self, objects: Sequence[Payment], form: forms.Form | None) -> dict[int, Money] | None:
        return form.amounts(objects) if isinstance(form, PartialRefundForm) else None

    def reason_of(self, form: forms.Form | None) -> str:
        assert form is not None
        return str(form.cleaned_data["reason"]).strip()


# --- payments --------------------------------------------------------------------------------------
_PAYMENT_FIELDS = ("id", "order", "order_id", "customer", "status", "created_at", "updated_at")
_AMOUNT_FIELDS = ("amount", "refunded", "currency")
_GATEWAY_FIELDS = (
    "gateway",
    "gateway_reference",
    "idempotency_key",
    "attempts",
    "failure_code",
    "failure_message",
    "next_action_url",
)


@admin.register(Payment)
class PaymentAdmin(KitAdmin[Payment]):
    # Few, narrow columns: beside the admin's sidebar and the filters, nine columns were cut off.
    list_display = ["order", "customer", "amounts", "status", "updated"]
    list_display_links = ["order"]
    list_filter = ["status", "gateway"]
    search_fields = ["gateway_reference"]  # the search itself is get_search_results
    search_help_text = "Payment id, order number or id, customer email (or part of it), or the gateway's reference."
    ordering = ["-updated_at", "-id"]
    list_per_page = 50
    list_max_show_all = 50
    show_full_result_count = False
    fieldsets = [
        (None, {"fields": _PAYMENT_FIELDS}),
        ("Amounts", {"fields": _AMOUNT_FIELDS}),
        ("Gateway", {"fields": _GATEWAY_FIELDS}),
    ]
    readonly_fields = [*_PAYMENT_FIELDS, *_AMOUNT_FIELDS, *_GATEWAY_FIELDS]  # every one
    inlines = [TransactionInline, PaymentKeyInline]
    staff_actions = [RefundFull, RefundPart]
    actions = [action.admin_action() for action in staff_actions]

    def complete_page(self, request: HttpRequest, rows: list[Payment]) -> None:
        labels = _customers([payment.customer_id for payment in rows])
        for payment in rows:
            payment.customer_label = labels[payment.customer_id]  # type: ignore[attr-defined]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Payment], search_term: str
    ) -> tuple[QuerySet[Payment], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        match = Q(gateway_reference=term) | Q(order_number=term.upper())
        number = term.removeprefix("#")
        if number.isascii() and number.isdigit():
            if int(number) <= MAX_DB_ID:
                match |= Q(pk=int(number)) | Q(order_id=int(number))
        else:
            found = unless_unavailable(lambda: registry.get(UsersAPI).find_users(email_contains=term), None)
            if found is None:
                self.message_user(request, "Customer emails cannot be searched right now.", messages.WARNING)
            elif found:
                match |= Q(customer_id__in=[user.id for user in found])
        return queryset.filter(match), False

    # --- columns and fields ---
    @admin.display(description="payment of order", ordering="order_number")
    def order(self, obj: Payment) -> SafeString:
        return nowrap(_order(obj))

    @admin.display(description="amount", ordering="amount_amount")
    def amounts(self, obj: Payment) -> SafeString:
        if not obj.refunded_amount:
            return nowrap(obj.amount)
        return format_html("{}<br>{}", nowrap(obj.amount), nowrap(f"{obj.refunded} refunded"))

    @admin.display(description="updated", ordering="updated_at")
    def updated(self, obj: Payment) -> SafeString:
        return compact_time(obj.updated_at)

    @admin.display(description="customer")
    def customer(self, obj: Payment) -> str:
        label = getattr(obj, "customer_label", None)  # a whole list page at once: complete_page
        return narrow(label) if label is not None else _customers([obj.customer_id])[obj.customer_id]

    @admin.display(description="amount", ordering="amount_amount")
    def amount(self, obj: Payment) -> Money:
        return obj.amount

    @admin.display(description="refunded", ordering="refunded_amount")
    def refunded(self, obj: Payment) -> Money:
        return obj.refunded

    # --- permissions: view-only payments, refunds through the actions ---
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Payment | None = None) -> bool:
        return False  # never a bare field edit: money moves only through the gateway

    def has_delete_permission(self, request: HttpRequest, obj: Payment | None = None) -> bool:
        return False

    def has_refund_permission(self, request: HttpRequest) -> bool:
        """Refunding sends money back, so it needs the change permission, not just view."""
        return request.user.has_perm("payments.change_payment")


# --- webhook events --------------------------------------------------------------------------------
_EVENT_FIELDS = ("gateway", "event_id", "kind", "reference", "received_at", "processed_at", "result")
_PARSED_FIELDS = ("failure_code", "failure_message", "amount_refunded", "currency", "refused")


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin[WebhookEvent]):
    list_display = list(_EVENT_FIELDS)
    list_filter = ["gateway", "kind", "refused", ("processed_at", admin.EmptyFieldListFilter), "received_at"]
    search_fields = ["event_id", "reference"]
    search_help_text = "The gateway's event id or payment reference."
    ordering = ["-received_at", "-id"]
    list_per_page = 50
    list_max_show_all = 50
    show_full_result_count = False
    fieldsets = [
        (None, {"fields": _EVENT_FIELDS}),
        ("As parsed at receipt", {"fields": _PARSED_FIELDS}),
        ("Raw body (as it arrived)", {"fields": ("body",)}),
    ]
    readonly_fields = [*_EVENT_FIELDS, *_PARSED_FIELDS, "body"]

    @admin.display(description="raw body")
    def body(self, obj: WebhookEvent) -> SafeString:
        return redacted_text(obj.raw_body)  # Stripe's events carry the intent's client secret

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: WebhookEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: WebhookEvent | None = None) -> bool:
        return False
