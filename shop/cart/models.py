"""Tables the cart owns: one cart per customer or per guest token, and its lines.

The customer is a plain ``user_id`` (no foreign key into users, ARCHITECTURE §2.3). A guest cart
stores only the SHA-256 of its token, so a leaked database does not hand out live carts. Every
mutation bumps ``version`` with an ``UPDATE`` that also takes the cart's row lock, which is what
serialises a customer's phone and laptop writing at once.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from shop.kernel import Money


class Cart(models.Model):
    user_id = models.BigIntegerField(null=True, blank=True)
    token_hash = models.CharField(max_length=64, null=True, blank=True, editable=False)  # noqa: DJ001 NULL = customer cart
    version = models.PositiveBigIntegerField(default=0)
    # The country the lines' tax rates were first quoted for (``CartLine.tax_rate_when_quoted``), so a
    # rate that changes before checkout is a warning on the cart; another country starts afresh.
    quoted_country = models.CharField(max_length=2, blank=True)
    # Voucher codes the customer applied (checked by pricing when applied, and again by every quote).
    voucher_codes = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user_id"], condition=Q(user_id__isnull=False), name="cart_one_per_user"),
            models.UniqueConstraint(
                fields=["token_hash"], condition=Q(token_hash__isnull=False), name="cart_one_per_guest_token"
            ),
            models.CheckConstraint(
                condition=Q(user_id__isnull=False, token_hash__isnull=True)
                | Q(user_id__isnull=True, token_hash__isnull=False),
                name="cart_owned_by_user_xor_guest",
            ),
        ]

    def __str__(self) -> str:
        return f"cart {self.pk} of user {self.user_id}" if self.user_id else f"guest cart {self.pk}"


class CartLine(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="lines")
    sku = models.CharField(max_length=64)
    quantity = models.PositiveIntegerField()
    # Snapshots taken when the line was last added to: shown if the SKU later leaves the catalog.
    product_name = models.CharField(max_length=200, blank=True)
    # The catalog price at that moment, so the cart can warn when it changed since.
    price_when_added_amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    tax_rate_when_quoted = models.DecimalField(max_digits=7, decimal_places=4, null=True, blank=True)
    added_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "sku"], name="cart_line_one_per_sku"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="cart_line_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"

    @property
    def price_when_added(self) -> Money:
        return Money(self.price_when_added_amount, self.currency)
