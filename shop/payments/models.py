"""Tables payments owns: one payment per order, the ledger of every gateway call it made, and each
webhook event stored once with its raw body. No card data exists anywhere: the client's gateway
token is used for the call and never stored."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from shop.kernel import Money
from shop.payments import api

STATUS_CHOICES = [(status, status.replace("_", " ")) for status in api.STATUSES]


class Payment(models.Model):
    order_id = models.BigIntegerField(unique=True)  # one payment per order; retries are attempts on it
    order_number = models.CharField(max_length=20, blank=True)  # the order's, as orders gave it (for staff)
    customer_id = models.BigIntegerField(db_index=True)
    amount_amount = models.DecimalField(max_digits=12, decimal_places=2)
    refunded_amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=20, choices=STATUS_CHOICES, default=api.PENDING, db_index=True)
    gateway = models.CharField(max_length=20)
    gateway_reference = models.CharField(max_length=100, blank=True, db_index=True)
    idempotency_key = models.CharField(max_length=255)  # the key of the current attempt
    attempts = models.PositiveIntegerField(default=0)
    failure_code = models.CharField(max_length=60, blank=True)
    failure_message = models.CharField(max_length=255, blank=True)
    next_action_url = models.URLField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0, refunded_amount__lte=models.F("amount_amount")),
                name="payment_refund_within_amount",
            ),
            models.CheckConstraint(condition=Q(status__in=api.STATUSES), name="payment_status_known"),
        ]

    def __str__(self) -> str:
        return f"payment {self.pk} of order {self.order_id}"

    @property
    def amount(self) -> Money:
        return Money(self.amount_amount, self.currency)

    def money(self, amount: object) -> Money:
        return Money(amount, self.currency)  # type: ignore[arg-type]

    @property
    def refunded(self) -> Money:
        return Money(self.refunded_amount, self.currency)


class PaymentKey(models.Model):
    """Every idempotency key a payment was started or refunded with: one row per key, so a key is
    answered by the same payment for ever, and a key reused for another order is caught."""

    key = models.CharField(max_length=255, unique=True)
    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="keys")
    purpose = models.CharField(max_length=10)  # "charge" | "refund"
    fingerprint = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.key


class Transaction(models.Model):
    """The ledger: one row per call to the gateway (and per webhook applied), with its answer."""

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="transactions")
    kind = models.CharField(
        max_length=10, choices=[(kind.value, kind.name.capitalize()) for kind in api.TransactionKind]
    )
    idempotency_key = models.CharField(max_length=255, blank=True)
    amount_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    outcome = models.CharField(max_length=30)  # the gateway's status, or "error"
    gateway_reference = models.CharField(max_length=100, blank=True)
    error = models.CharField(max_length=255, blank=True)
    response = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.outcome}"


class WebhookEvent(models.Model):
    gateway = models.CharField(max_length=20)
    event_id = models.CharField(max_length=100)
    kind = models.CharField(max_length=40)
    reference = models.CharField(max_length=100, blank=True)
    # What the verified event says, parsed at receipt (the raw body is kept as it arrived).
    failure_code = models.CharField(max_length=60, blank=True)
    failure_message = models.CharField(max_length=255, blank=True)
    amount_refunded = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)  # of ``amount_refunded``
    raw_body = models.TextField()
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    result = models.CharField(max_length=100, blank=True)
    # Verified, but refused: it contradicts the payment (another currency, more refunded than captured).
    # Nothing moved; staff see it in the webhook list ("refused" filter) and on the payment's ledger.
    refused = models.BooleanField(default=False)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["gateway", "event_id"], name="webhook_event_once")]

    def __str__(self) -> str:
        return f"{self.gateway} {self.event_id}"
