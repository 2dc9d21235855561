"""Tables pricing owns: tax classes and their rates per country, shipping zones, methods and bands.

Amounts of shipping methods are in the shop's currency (``SHOP_CURRENCY``) and in its price entry
mode (gross when ``SHOP_PRICES_INCLUDE_TAX``), like the catalog's prices. Rates are percentages.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import F, Q
from django_countries.fields import CountryField

from shop.catalog.api import TAX_CLASSES


class TaxClass(models.Model):
    """One of the catalog's tax classes (``catalog.api.TAX_CLASSES``), with the words staff read.
    The set is fixed (products name a class by its code); staff edit the names and the rates."""

    code = models.CharField(max_length=20, unique=True, choices=[(code, code) for code in TAX_CLASSES])
    name = models.CharField(max_length=60)
    description = models.CharField(max_length=255, blank=True, help_text="What the class is for.")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "code"]
        verbose_name_plural = "tax classes"

    def __str__(self) -> str:
        return self.name


class TaxRate(models.Model):
    """The rate of a class in a country. A blank country is the rate of every country without rates
    of its own; none at all is no tax (the default for countries outside the seeded EU table)."""

    country = CountryField(blank=True, help_text="Blank: every country that has no rates of its own.")
    tax_class = models.ForeignKey(TaxClass, on_delete=models.PROTECT, related_name="rates")
    rate = models.DecimalField(max_digits=7, decimal_places=4, help_text="A percentage: 19 is 19 %.")
    note = models.CharField(max_length=255, blank=True, help_text="What it covers, where it comes from.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["country", "tax_class__position"]
        constraints = [
            models.UniqueConstraint(fields=["country", "tax_class"], name="one_rate_per_country_and_class"),
            models.CheckConstraint(condition=Q(rate__gte=0) & Q(rate__lt=100), name="tax_rate_percentage"),
        ]

    def __str__(self) -> str:
        return f"{self.country or 'elsewhere'} {self.tax_class.code} {self.rate.normalize()} %"


class ShippingZone(models.Model):
    """Where methods ship to: a set of countries (none: everywhere), optionally narrowed to postal
    codes starting with one of ``postal_code_prefixes`` (comma-separated, e.g. "20, 21, 22")."""

    name = models.CharField(max_length=100)
    countries = CountryField(multiple=True, blank=True, help_text="None: every country (the rest of the world).")
    postal_code_prefixes = models.CharField(
        max_length=500, blank=True, help_text="Comma-separated, e.g. 'BT, IM'; blank: every postal code."
    )

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class ShippingMethod(models.Model):
    """A way to ship within a zone, priced flat, by the goods' price or by their weight; free from
    ``free_over`` (goods after discounts, in the price entry mode) whatever the pricing."""

    class Pricing(models.TextChoices):
        FLAT = "flat", "flat price"
        SUBTOTAL = "subtotal", "bands by the goods' price"
        WEIGHT = "weight", "bands by weight (grams)"

    zone = models.ForeignKey(ShippingZone, on_delete=models.PROTECT, related_name="methods")
    code = models.SlugField(max_length=50, unique=True, help_text="What clients and orders name it by.")
    name = models.CharField(max_length=100)
    delivery_estimate = models.CharField(max_length=100, blank=True, help_text="e.g. '2-4 working days'")
    pricing = models.CharField(max_length=10, choices=Pricing.choices, default=Pricing.FLAT)
    flat_price = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal(0), help_text="The price of a flat method."
    )
    free_over = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Free when the goods cost this much or more; blank: never free.",
    )
    is_active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "code"]
        constraints = [
            models.CheckConstraint(condition=Q(flat_price__gte=0), name="shipping_flat_price_not_negative"),
            models.CheckConstraint(
                condition=Q(free_over__isnull=True) | Q(free_over__gte=0), name="shipping_free_over_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class ShippingBand(models.Model):
    """A band of a banded method: its ``price`` applies up to and including ``up_to`` (the goods'
    price, or grams for a weight method); the lowest band that covers the basket applies, and a blank
    ``up_to`` covers everything above the others. A basket above every band cannot use the method."""

    method = models.ForeignKey(ShippingMethod, on_delete=models.CASCADE, related_name="bands")
    up_to = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, help_text="Amount, or grams; blank: no limit."
    )
    price = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["method", models.F("up_to").asc(nulls_last=True)]
        constraints = [
            models.UniqueConstraint(fields=["method", "up_to"], name="one_band_per_bound"),
            models.UniqueConstraint(
                fields=["method"], condition=Q(up_to__isnull=True), name="one_open_band_per_method"
            ),
            models.CheckConstraint(condition=Q(price__gte=0), name="shipping_band_price_not_negative"),
            models.CheckConstraint(condition=Q(up_to__isnull=True) | Q(up_to__gte=0), name="shipping_band_bound"),
        ]

    def __str__(self) -> str:
        return f"up to {self.up_to if self.up_to is not None else '∞'}: {self.price}"


class Promotion(models.Model):
    """An automatic discount (no code): off catalogue items (SKUs, categories with their descendants, or
    everything), or off the order (above a threshold: a percentage, an amount, or free shipping), within
    a time window. Which apply, in what order and how they stack is one function,
    ``services.promotions.apply`` (docs/pricing.md, "Promotions")."""

    class Kind(models.TextChoices):
        CATALOGUE = "catalogue", "items (catalogue)"
        ORDER = "order", "the order"

    class Benefit(models.TextChoices):
        PERCENTAGE = "percentage", "percentage off"
        FIXED = "fixed", "fixed amount off (per unit for items, once for the order)"
        FREE_SHIPPING = "free_shipping", "free shipping (order promotions)"
        BUY_X_GET_Y = "buy_x_get_y", "buy X get Y: the value is the percentage off the Y cheapest (100: free)"

    name = models.CharField(max_length=100, help_text="For staff.")
    label = models.CharField(max_length=100, help_text="What the customer reads, e.g. 'Summer sale: -20 %'.")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CATALOGUE)
    benefit = models.CharField(max_length=15, choices=Benefit.choices, default=Benefit.PERCENTAGE)
    value = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=Decimal(0),
        help_text="Percent (0-100), or an amount in the shop's currency.",
    )
    everything = models.BooleanField(default=False, help_text="Items: every item of the catalogue.")
    skus = models.TextField(blank=True, help_text="Items: the SKUs it covers, separated by commas or new lines.")
    category_ids = models.JSONField(
        default=list, blank=True, help_text="Items: ids of the categories it covers (each with its descendants)."
    )
    min_subtotal = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Order: the goods (after item discounts) must cost at least this.",
    )
    buy_quantity = models.PositiveIntegerField(null=True, blank=True, help_text="Buy X get Y: X, the units paid.")
    get_quantity = models.PositiveIntegerField(null=True, blank=True, help_text="Buy X get Y: Y, the units discounted.")
    max_applications = models.PositiveIntegerField(
        null=True, blank=True, help_text="Buy X get Y: at most this many times per order; blank: no cap."
    )
    starts_at = models.DateTimeField(null=True, blank=True, help_text="Blank: already running.")
    ends_at = models.DateTimeField(null=True, blank=True, help_text="Blank: until switched off.")
    is_active = models.BooleanField(default=True)
    requires_voucher = models.BooleanField(
        default=False, help_text="Applies only with one of its vouchers' codes (not automatically)."
    )
    exclusive = models.BooleanField(
        default=False, help_text="Applies alone: not after another promotion of its kind, and none after it."
    )
    priority = models.IntegerField(default=0, help_text="Higher first; equal priorities: the older first.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-priority", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(value__gte=0), name="promotion_value_not_negative"),
            models.CheckConstraint(
                condition=~Q(benefit="percentage") | Q(value__lte=100), name="promotion_percentage_at_most_100"
            ),
            models.CheckConstraint(
                condition=~Q(benefit="free_shipping") | Q(kind="order"), name="promotion_free_shipping_is_order"
            ),
            models.CheckConstraint(
                condition=~Q(benefit="buy_x_get_y")
                | Q(kind="catalogue", buy_quantity__gte=1, get_quantity__gte=1, value__lte=100),
                name="promotion_buy_x_get_y_complete",
            ),
            models.CheckConstraint(
                condition=Q(starts_at__isnull=True) | Q(ends_at__isnull=True) | Q(ends_at__gt=F("starts_at")),
                name="promotion_window_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name


# What staff set on a promotion, in the order the admin and the staff API show it.
PROMOTION_FIELDS = (
    "name",
    "label",
    "kind",
    "benefit",
    "value",
    "everything",
    "skus",
    "category_ids",
    "min_subtotal",
    "buy_quantity",
    "get_quantity",
    "max_applications",
    "starts_at",
    "ends_at",
    "exclusive",
    "priority",
    "is_active",
    "requires_voucher",
)


class Voucher(models.Model):
    """A code that unlocks its promotion for one order, within limits that hold under concurrency: ``used``
    counts the uses held by orders (placed and not given back) and is only ever raised by a conditional
    ``UPDATE … WHERE used < usage_limit`` under the voucher's row lock (``services.vouchers.redeem``)."""

    code = models.CharField(max_length=40, unique=True, help_text="Upper case; letters, digits and dashes.")
    promotion = models.ForeignKey(Promotion, on_delete=models.PROTECT, related_name="vouchers")
    usage_limit = models.PositiveIntegerField(null=True, blank=True, help_text="Uses in all; blank: no limit.")
    per_customer_limit = models.PositiveIntegerField(null=True, blank=True, help_text="Blank: no limit.")
    min_subtotal = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, help_text="The goods must cost at least this."
    )
    first_order_only = models.BooleanField(default=False, help_text="Only for a customer's first order.")
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    used = models.PositiveIntegerField(default=0, editable=False)
    batch = models.CharField(max_length=60, blank=True, help_text="The bulk generation this code came from.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(usage_limit__isnull=True) | Q(used__lte=F("usage_limit")), name="voucher_used_within_limit"
            ),
            models.CheckConstraint(
                condition=Q(starts_at__isnull=True) | Q(ends_at__isnull=True) | Q(ends_at__gt=F("starts_at")),
                name="voucher_window_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class VoucherUse(models.Model):
    """One order's use of a voucher: held from checkout until the order is cancelled or expires
    (``released_at``), when ``Voucher.used`` goes back down. One per voucher and order, so a retried
    redemption is the same use."""

    voucher = models.ForeignKey(Voucher, on_delete=models.PROTECT, related_name="uses")
    customer_id = models.BigIntegerField(db_index=True)
    order_reference = models.CharField(max_length=40, db_index=True)
    discount_amount = models.DecimalField(max_digits=12, decimal_places=2)
    created_at = models.DateTimeField(auto_now_add=True)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["voucher", "order_reference"], name="voucher_use_one_per_order"),
        ]

    def __str__(self) -> str:
        return f"{self.voucher.code} for {self.order_reference}"
