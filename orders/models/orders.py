"""Orders from sales channels, and the routing groups that decide which source fills them."""

from django.db import models
from django.db.models import Q

from inventory.models import MONEY, Channel, ProductVariant


class Order(models.Model):
    class Status(models.TextChoices):
        PAID = "paid", "Paid"
        DEFERRED = "deferred", "Deferred payment"
        CANCELED = "canceled", "Canceled"
        CLOSED = "closed", "Closed (every line shipped or canceled)"

    ROUTABLE = (Status.PAID, Status.DEFERRED)

    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="orders")
    channel_order_number = models.CharField(max_length=100)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PAID)
    customer_name = models.CharField(max_length=200, blank=True)
    customer_email = models.EmailField(blank=True)
    customer_phone = models.CharField(max_length=40, blank=True)
    ship_name = models.CharField(max_length=200, blank=True)
    ship_company = models.CharField(max_length=200, blank=True)
    ship_address1 = models.CharField(max_length=300, blank=True)
    ship_address2 = models.CharField(max_length=300, blank=True)
    ship_city = models.CharField(max_length=120, blank=True)
    ship_state = models.CharField(max_length=60, blank=True)
    ship_postal_code = models.CharField(max_length=20, blank=True)
    ship_country = models.CharField(max_length=2, blank=True, default="US")
    requested_shipping_method = models.CharField(max_length=60, blank=True)
    placed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "channel_order_number"], name="order_unique_number_per_channel"),
        ]
        indexes = [models.Index(fields=["status", "-created_at"])]

    def __str__(self) -> str:
        return self.channel_order_number

    @property
    def has_shipping_address(self) -> bool:
        return all([self.ship_name, self.ship_address1, self.ship_city, self.ship_postal_code, self.ship_country])


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    master_sku = models.CharField(max_length=255)
    title = models.CharField(max_length=500, blank=True)
    quantity = models.PositiveIntegerField()
    price = models.DecimalField(**MONEY, null=True, blank=True)
    product_variant = models.ForeignKey(ProductVariant, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["order", "id"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="order_line_quantity_positive")]

    def __str__(self) -> str:
        return f"{self.order} · {self.master_sku} × {self.quantity}"


class RoutingGroup(models.Model):
    """An ordered set of routing priorities; rules pick a group per order (e.g. by ship-to country)."""

    name = models.CharField(max_length=120, unique=True)
    is_default = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=100)
    match_countries = models.JSONField(default=list, blank=True, help_text='Ship-to countries, e.g. ["CA", "MX"].')
    allow_split = models.BooleanField(default=True, help_text="Split across sources when no single one can fill.")
    allow_split_when_cheaper = models.BooleanField(default=False)

    class Meta:
        ordering = ["position", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="one_default_routing_group"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class RoutingPriority(models.Model):
    class Strategy(models.TextChoices):
        SINGLE_FR_REQUIRED = "single_fr_required", "Single FR required"
        SINGLE_FR_PREFERRED = "single_fr_preferred", "Single FR preferred"
        LOWEST_COST = "lowest_cost", "Lowest cost"
        SOURCE_PRIORITY = "source_priority", "Source priority"
        HAS_SHIPPING_MAP = "has_shipping_map", "Has shipping map"

    group = models.ForeignKey(RoutingGroup, on_delete=models.CASCADE, related_name="priorities")
    position = models.PositiveSmallIntegerField(default=0)
    strategy = models.CharField(max_length=30, choices=Strategy.choices)

    class Meta:
        ordering = ["group", "position"]
        constraints = [
            models.UniqueConstraint(fields=["group", "strategy"], name="routing_priority_unique_strategy"),
        ]

    def __str__(self) -> str:
        return f"{self.group}: {self.position}. {self.get_strategy_display()}"
