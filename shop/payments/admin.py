"""Staff view of payments: read-only payments with their ledger and keys, read-only webhook events,
and refunds only through ``shop.payments.services.charges.refund``, as admin actions.

* Nothing of a payment is edited in place (status, amounts, references): the change page is
  view-only, with the ledger (one row per gateway call) and the idempotency keys inline; there is no
  add and no delete. Webhook events likewise, with the raw body as it arrived.
* "Refund (full)" and "Refund part …" (one amount per payment, on an intermediate form) refund each
  selected payment with a fresh idempotency key (an action run is a new decision, never a replay);
  a refund the rules or the gateway refuse is reported as a warning and the others go on. They need
  the change permission (``has_refund_permission``), not just view. The order follows by itself when
  the refund is announced (``PaymentRefunded``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from functools import cache
from typing import Any
from uuid import uuid4

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.template import engines
from django.template.response import TemplateResponse
from django.utils.safestring import SafeString

from shop.kernel import DomainError, Money
from shop.kernel.money import CURRENCY_EXPONENTS
from shop.payments import api
from shop.payments.models import Payment, PaymentKey, Transaction, WebhookEvent
from shop.payments.services import charges
from shop.web.redaction import redacted_json, redacted_text

# One action request refunds at most this many payments (each refund is its own gateway call).
MAX_PAYMENTS_PER_ACTION = 200
MAX_DB_ID = 2**63 - 1
FULL_REFUND_REASON = "Refunded by staff (admin)."
PARTIAL_REFUND_REASON = "Partially refunded by staff (admin)."

# The "Refund part …" intermediate page, posted back to the changelist with the same action, the
# selected ids and `apply` (the shared admin/action_form.html). Kept here and compiled once.
_REFUND_PAGE = """{% extends "admin/action_form.html" %}
{% load l10n %}
{% block intro %}
  <p>Give the amount to refund of each payment, in its currency. Only a succeeded (or partly refunded)
  payment can be refunded, and never more than what is left of it.</p>
  {% if not_refundable %}
    <p class="errornote">Not refundable, so they will be left as they are: {{ not_refundable|join:", " }}.</p>
  {% endif %}
{% endblock %}
{% block fields %}
    <fieldset class="module aligned">
      <div class="form-row">
        {{ form.reason.errors }}
        {{ form.reason.label_tag }} {{ form.reason }}
      </div>
    </fieldset>
    <table>
      <thead><tr><th>Payment</th><th>Order</th><th>Status</th><th>Amount</th><th>Refunded</th><th>Left</th>
        <th>Refund now</th></tr></thead>
      <tbody>
        {% for row in rows %}
          <tr>
            <td>#{{ row.payment.pk|unlocalize }}</td>
            <td>{{ row.payment.order_id|unlocalize }}</td>
            <td>{{ row.payment.get_status_display }}</td>
            <td>{{ row.payment.amount }}</td>
            <td>{{ row.payment.refunded }}</td>
            <td>{{ row.left }}</td>
            <td>{{ row.amount.errors }}{{ row.amount }} {{ row.payment.currency }}</td>
          </tr>
        {% endfor %}
      </tbody>
    </table>
{% endblock %}
{% block selected %}{% for row in rows %}
    <input type="hidden" name="{{ action_checkbox_name }}" value="{{ row.payment.pk|unlocalize }}">
{% endfor %}{% endblock %}
{% block submit_label %}Refund{% endblock %}
"""


@cache
def _refund_page() -> Any:
    return engines["django"].from_string(_REFUND_PAGE)


def _refusal(exc: DomainError) -> str:
    left = exc.extra.get("refundable")
    return f"{exc.detail} (at most {left} left)" if left is not None else exc.detail


# --- inlines ---------------------------------------------------------------------------------------
class _ReadOnlyInline:
    """Part of the payment: visible to whoever may view the payment, changeable by nobody."""

    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

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


# --- the partial refund form -----------------------------------------------------------------------
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

    def amount(self, payment: Payment) -> Money:
        return payment.money(self.cleaned_data[self.amount_field(payment.pk)])


# --- payments --------------------------------------------------------------------------------------
_PAYMENT_FIELDS = ("id", "order_id", "customer_id", "status", "created_at", "updated_at")
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
class PaymentAdmin(admin.ModelAdmin[Payment]):
    list_display = [
        "id",
        "order_id",
        "customer_id",
        "amount",
        "refunded",
        "status",
        "gateway",
        "attempts",
        "updated_at",
    ]
    list_filter = ["status", "gateway"]
    search_fields = ["gateway_reference"]  # the search itself is get_search_results
    search_help_text = "Payment id, order id, or the gateway's reference."
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
    actions = ["refund_full", "refund_part"]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Payment], search_term: str
    ) -> tuple[QuerySet[Payment], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        match = Q(gateway_reference=term)
        number = term.removeprefix("#")
        if number.isascii() and number.isdigit() and int(number) <= MAX_DB_ID:
            match |= Q(pk=int(number)) | Q(order_id=int(number))
        return queryset.filter(match), False

    # --- columns and fields ---
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

    # --- actions ---
    def _selected(self, request: HttpRequest, queryset: QuerySet[Payment]) -> list[Payment] | None:
        """The selected payments (oldest first), or None (and a message) when there are too many."""
        payments = list(queryset.order_by("created_at", "id")[: MAX_PAYMENTS_PER_ACTION + 1])
        if len(payments) > MAX_PAYMENTS_PER_ACTION:
            self.message_user(
                request,
                f"Select at most {MAX_PAYMENTS_PER_ACTION} payments at a time; nothing was refunded.",
                messages.ERROR,
            )
            return None
        return payments

    def _refund(
        self,
        request: HttpRequest,
        payments: Sequence[Payment],
        *,
        amount: Callable[[Payment], Money | None],
        reason: str,
    ) -> None:
        """Refund each payment with a fresh key; report each refusal as a warning and go on."""
        refunded: list[str] = []
        for payment in payments:
            try:
                after = charges.refund(
                    payment_id=payment.pk,
                    amount=amount(payment),
                    reason=reason,
                    idempotency_key=f"admin-{payment.pk}-{uuid4()}",
                )
            except DomainError as exc:  # NotRefundable, RefundTooLarge, GatewayUnavailable
                self.message_user(request, f"Payment #{payment.pk} was not refunded: {_refusal(exc)}", messages.WARNING)
                continue
            if after.refunded == payment.refunded:  # asked, but the gateway has not confirmed it yet
                self.message_user(
                    request,
                    f"Payment #{payment.pk}: the refund was asked; the gateway has not confirmed it yet.",
                    messages.WARNING,
                )
                continue
            refunded.append(f"#{payment.pk} ({after.refunded} of {after.amount}, {after.status.replace('_', ' ')})")
        if refunded:
            self.message_user(request, f"{len(refunded)} payment(s) refunded: {', '.join(refunded)}.", messages.SUCCESS)

    @admin.action(description="Refund (full)", permissions=["refund"])
    def refund_full(self, request: HttpRequest, queryset: QuerySet[Payment]) -> None:
        payments = self._selected(request, queryset)
        if payments is None:
            return
        self._refund(request, payments, amount=lambda payment: None, reason=FULL_REFUND_REASON)

    @admin.action(description="Refund part …", permissions=["refund"])
    def refund_part(self, request: HttpRequest, queryset: QuerySet[Payment]) -> TemplateResponse | None:
        """An intermediate page asks for each payment's amount; ``apply`` posts it back."""
        payments = self._selected(request, queryset)
        if payments is None:
            return None
        applying = "apply" in request.POST
        form = PartialRefundForm(request.POST if applying else None, payments=payments)
        if applying and form.is_valid():
            self._refund(request, payments, amount=form.amount, reason=form.cleaned_data["reason"].strip())
            return None
        refundable = (api.SUCCEEDED, api.PARTIALLY_REFUNDED)
        rows = [
            {
                "payment": payment,
                "left": payment.amount - payment.refunded,
                "amount": form[PartialRefundForm.amount_field(payment.pk)],
            }
            for payment in payments
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": "Refund part of payments",
            "opts": self.opts,
            "form": form,
            "rows": rows,
            "not_refundable": [f"#{p.pk} ({p.get_status_display()})" for p in payments if p.status not in refundable],
            "action": "refund_part",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, _refund_page(), context)


# --- webhook events --------------------------------------------------------------------------------
_EVENT_FIELDS = ("gateway", "event_id", "kind", "reference", "received_at", "processed_at", "result")
_PARSED_FIELDS = ("failure_code", "failure_message", "amount_refunded")


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin[WebhookEvent]):
    list_display = list(_EVENT_FIELDS)
    list_filter = ["gateway", "kind", ("processed_at", admin.EmptyFieldListFilter), "received_at"]
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
