"""Tables the catalog owns. Stock is ``on_hand`` and ``reserved`` per SKU; the database itself
refuses a state where reserved stock exceeds what is on hand (available < 0)."""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import F, Q

from shop.catalog.api import TAX_CLASSES
from shop.kernel import Money


class Category(models.Model):
    """A node of the category tree. ``path`` ("/1/4/9/") makes "this category and its descendants"
    one indexed prefix filter instead of a recursive walk."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=140, unique=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    position = models.PositiveIntegerField(default=0)
    path = models.CharField(max_length=255, editable=False, db_index=True, default="")

    class Meta:
        ordering = ["path", "position", "id"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Keep ``path`` (and every descendant's) right when a node is created or moved."""
        if self.parent_id is not None and self.pk is not None and self.parent_id == self.pk:
            raise ValueError("a category cannot be its own parent")
        old_path = self.path
        if self.pk is None:
            super().save(*args, **kwargs)
            kwargs = {k: v for k, v in kwargs.items() if k == "using"}
        parent_path = "/"
        if self.parent_id is not None:
            parent_path = Category.objects.filter(pk=self.parent_id).values_list("path", flat=True).first() or "/"
        if f"/{self.pk}/" in parent_path:
            raise ValueError("a category cannot move below one of its descendants")
        self.path = f"{parent_path}{self.pk}/"
        super().save(*args, **{**kwargs, "force_insert": False})
        if old_path and old_path != self.path:
            for child in Category.objects.filter(path__startswith=old_path).exclude(pk=self.pk):
                Category.objects.filter(pk=child.pk).update(path=self.path + child.path[len(old_path) :])


class Product(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220, unique=True)
    description = models.TextField(blank=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    brand = models.CharField(max_length=100, blank=True, db_index=True)
    attributes = models.JSONField(default=dict, blank=True)
    image_urls = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True, db_index=True)
    # How pricing taxes the product; the rates of each class per country are pricing's.
    tax_class = models.CharField(
        max_length=20,
        choices=[(code, code) for code in TAX_CLASSES],
        default=TAX_CLASSES[0],
        db_default=TAX_CLASSES[0],  # rows written in bulk (COPY, raw SQL) are standard too
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Maintained by a PostgreSQL trigger (name weight A, brand B, description C), GIN-indexed; NULL on SQLite.
    search_vector = SearchVectorField(null=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(tax_class__in=TAX_CLASSES), name="product_tax_class_known")]

    def __str__(self) -> str:
        return self.name


class Variant(models.Model):
    """A SKU: what is priced, stocked and sold."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants")
    sku = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=120, blank=True, help_text="e.g. 'M / Blue'")
    attributes = models.JSONField(default=dict, blank=True)
    price_amount = models.DecimalField(max_digits=12, decimal_places=2)
    compare_at_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, default="EUR")
    is_active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)
    weight_grams = models.PositiveIntegerField(
        default=0, db_default=0, help_text="Shipping weight of one unit (0: not weighed)."
    )

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(price_amount__gte=0), name="variant_price_not_negative"),
            models.CheckConstraint(
                condition=Q(compare_at_amount__isnull=True) | Q(compare_at_amount__gte=0),
                name="variant_compare_at_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.sku

    @property
    def price(self) -> Money:
        return Money(self.price_amount, self.currency)

    @property
    def compare_at_price(self) -> Money | None:
        return Money(self.compare_at_amount, self.currency) if self.compare_at_amount is not None else None


class Stock(models.Model):
    variant = models.OneToOneField(Variant, on_delete=models.CASCADE, related_name="stock", primary_key=True)
    on_hand = models.PositiveIntegerField(default=0)
    reserved = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(reserved__lte=F("on_hand")), name="stock_available_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.variant_id}: {self.available} available"

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class Reservation(models.Model):
    """One line of a stock hold. All lines of a ``reservation_id`` move between states together."""

    class State(models.TextChoices):
        ACTIVE = "active"
        COMMITTED = "committed"
        RELEASED = "released"

    reservation_id = models.UUIDField(db_index=True)
    variant = models.ForeignKey(Variant, on_delete=models.PROTECT, related_name="reservations")
    quantity = models.PositiveIntegerField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.ACTIVE)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["reservation_id", "variant"], name="one_line_per_sku_per_reservation"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="reservation_quantity_positive"),
        ]
        indexes = [
            models.Index(fields=["expires_at"], name="reservation_active_expiry", condition=Q(state="active")),
        ]

    def __str__(self) -> str:
        return f"{self.reservation_id} {self.variant_id} x{self.quantity} ({self.state})"


class StockMovement(models.Model):
    """Every change of ``on_hand`` or ``reserved``, with who and why: the stock ledger."""

    class Reason(models.TextChoices):
        RESERVE = "reserve"
        COMMIT = "commit"
        RELEASE = "release"
        EXPIRE = "expire"
        ADJUST = "adjust"
        RECEIVE = "receive"
        IMPORT = "import"

    variant = models.ForeignKey(Variant, on_delete=models.PROTECT, related_name="movements")
    reason = models.CharField(max_length=10, choices=Reason.choices)
    on_hand_delta = models.IntegerField(default=0)
    reserved_delta = models.IntegerField(default=0)
    on_hand_after = models.PositiveIntegerField()
    reserved_after = models.PositiveIntegerField()
    reference = models.CharField(max_length=100, blank=True, help_text="reservation id, import batch …")
    actor_id = models.BigIntegerField(null=True, blank=True, help_text="users id of the staff member, if any")
    note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.variant_id} {self.reason} {self.on_hand_delta:+}/{self.reserved_delta:+}"
