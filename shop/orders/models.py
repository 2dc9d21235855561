"""Tables the orders context owns. Everything an order shows is a snapshot taken at checkout
(SKU, names, unit prices, totals, address): no foreign key into another context, only ids."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from shop.kernel import Money
from shop.orders import api

STATUS_CHOICES = [(status, status.replace("_", " ")) for status in api.STATUSES]


class Order(models.Model):
    number = models.CharField(max_length=20, unique=True)
    customer_id = models.BigIntegerField(db_index=True)
    status = models.CharField(max_length=20, choices=STATUS_CHOICES, default=api.PENDING_PAYMENT, db_index=True)
    currency = models.CharField(max_length=3)
    subtotal_amount = models.DecimalField(max_digits=12, decimal_places=2)
    shipping_amount = models.DecimalField(max_digits=12, decimal_places=2)
    tax_amount = models.DecimalField(max_digits=12, decimal_places=2)
    total_amount = models.DecimalField(max_digits=12, decimal_places=2)
    shipping_address = models.JSONField()
    # The quote checkout placed the order at (pricing's, docs/pricing.md), so the order, its invoice and any
    # refund of some of its lines add up without asking pricing again. Amounts are in the shop's price entry
    # mode (``prices_include_tax``); ``tax_breakdown`` is ``[{"rate": "19.00", "net": "…", "tax": "…"}]``.
    prices_include_tax = models.BooleanField(default=False)
    discount_amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    shipping_method = models.CharField(max_length=50, blank=True)
    shipping_method_name = models.CharField(max_length=100, blank=True)
    shipping_tax_rate = models.DecimalField(max_digits=7, decimal_places=4, default=0)
    shipping_tax_amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    tax_breakdown = models.JSONField(default=list, blank=True)
    tax_source = models.CharField(max_length=40, blank=True)
    # The voucher codes whose uses this order holds (pricing keeps the uses; cancelling gives them back).
    voucher_codes = models.JSONField(default=list, blank=True)
    # Checkout's idempotency: one order per (customer, key); the fingerprint is the request body's hash.
    idempotency_key = models.CharField(max_length=255)
    request_fingerprint = models.CharField(max_length=64)
    reservation_id = models.UUIDField(unique=True)
    payment_due_by = models.DateTimeField(null=True, blank=True, db_index=True)
    carrier = models.CharField(max_length=60, blank=True)
    tracking_number = models.CharField(max_length=100, blank=True)
    placed_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    # When money for the order arrived: set when it becomes paid, or when a payment lands after it was
    # cancelled (that money is owed back). "Cancelled after payment" is ``cancelled`` with a ``paid_at``.
    paid_at = models.DateTimeField(null=True, blank=True)
    # A refund the order decided (cancelled after payment, money for a cancelled order) and payments has
    # not confirmed yet: retried by ``retry-owed-refunds`` until it is done, or dead after
    # ``SHOP_REFUND_MAX_ATTEMPTS`` (``refund_dead_at``), for staff to see and retry.
    refund_owed_since = models.DateTimeField(null=True, blank=True)
    refund_key = models.CharField(max_length=100, blank=True)
    refund_attempts = models.PositiveIntegerField(default=0)
    refund_next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    refund_error = models.CharField(max_length=255, blank=True)
    refund_dead_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-placed_at", "-id"]
        indexes = [models.Index(fields=["customer_id", "-placed_at", "-id"], name="order_customer_newest")]
        constraints = [
            models.UniqueConstraint(fields=["customer_id", "idempotency_key"], name="order_one_per_idempotency_key"),
            models.CheckConstraint(
                condition=Q(subtotal_amount__gte=0, shipping_amount__gte=0, tax_amount__gte=0, total_amount__gte=0),
                name="order_amounts_not_negative",
            ),
            models.CheckConstraint(condition=Q(status__in=api.STATUSES), name="order_status_known"),
        ]

    def __str__(self) -> str:
        return self.number

    def money(self, amount: object) -> Money:
        return Money(amount, self.currency)  # type: ignore[arg-type]

    @property
    def total(self) -> Money:
        return Money(self.total_amount, self.currency)

    @property
    def refund_pending(self) -> bool:
        """A decided refund that payments has not confirmed (still retried, or dead)."""
        return self.refund_owed_since is not None and self.status != api.REFUNDED


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    sku = models.CharField(max_length=64)
    product_name = models.CharField(max_length=200)
    variant_name = models.CharField(max_length=200, blank=True)
    unit_price_amount = models.DecimalField(max_digits=12, decimal_places=2)
    quantity = models.PositiveIntegerField()
    line_total_amount = models.DecimalField(max_digits=12, decimal_places=2)  # unit price x quantity
    # The line as quoted: its tax class and rate (percent), its discounts, and after them its net, tax and
    # total (what the customer pays for it: what a refund of this line gives back).
    tax_class = models.CharField(max_length=20, blank=True)
    tax_rate = models.DecimalField(max_digits=7, decimal_places=4, default=0)
    discount_amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    # What made up ``discount_amount``: [{"source": "promotion:7", "label": "Summer sale", "amount": "4.00"}].
    discounts = models.JSONField(default=list, blank=True)
    net_amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    tax_amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    total_amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "sku"], name="order_line_one_per_sku"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="order_line_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"


class OrderStatusChange(models.Model):
    """The order's history: who moved it, when, from what to what, and why."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
    at = models.DateTimeField(auto_now_add=True)
    actor = models.CharField(max_length=20)
    actor_id = models.BigIntegerField(null=True, blank=True)
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name_plural = "status changes"

    def __str__(self) -> str:
        return f"{self.from_status or '∅'} → {self.to_status}"


class PayRequest(models.Model):
    """One pay request per customer and ``Idempotency-Key`` (the rule of ``services.idempotency``):
    claimed before payments is asked, finished with the answer, so a replay gets that answer, another
    body with the key is refused, and a twin sent while the first runs is told it is in progress.
    A claim never finished (its process died) is taken over after a lease: payments is idempotent by
    the same key, so asking again charges once."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="pay_requests")
    customer_id = models.BigIntegerField()
    idempotency_key = models.CharField(max_length=255)
    request_fingerprint = models.CharField(max_length=64)
    payment_id = models.BigIntegerField(null=True, blank=True)
    claimed_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer_id", "idempotency_key"], name="pay_request_one_per_key"),
        ]

    def __str__(self) -> str:
        return f"pay {self.order_id} with {self.idempotency_key}"
