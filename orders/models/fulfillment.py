"""Fulfillment requests (FRs), their lines and events, and what sources send back about them."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from inventory.models import MONEY, InventoryVariant
from sources.models import Source

from .orders import Order, OrderLine


class FulfillmentRequest(models.Model):
    """The request that one source ship some lines of one order. Status moves only through orders.services.fr_status."""

    class Status(models.TextChoices):
        UNPROCESSED = "unprocessed", "Unprocessed (generated, waiting)"
        PROCESSING = "processing", "Processing (goes out on the next Send FR run)"
        PROCESSED = "processed", "Processed (sent, not acknowledged)"
        ACKNOWLEDGED = "acknowledged", "Acknowledged by the source"
        FAILED = "failed", "Failed (submission failed; can be processed again)"
        CANCELED = "canceled", "Canceled by the source"
        VOIDED = "voided", "Voided by an operator"
        ON_HOLD = "on_hold", "On hold (number too long, duplicate number, missing data)"

    class ShippingStatus(models.TextChoices):
        AWAITING_SHIPMENT = "awaiting_shipment", "Awaiting shipment"
        PARTIALLY_SHIPPED = "partially_shipped", "Partially shipped"
        SHIPPED = "shipped", "Shipped"
        CANCELED = "canceled", "Canceled"

    class InvoiceStatus(models.TextChoices):
        NONE = "none", "Not invoiced"
        MATCHED = "matched", "Invoiced and matched"
        MISMATCH = "mismatch", "Invoice mismatch"

    number = models.CharField(max_length=100, unique=True)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="fulfillment_requests")
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="fulfillment_requests")
    status = models.CharField(max_length=15, choices=Status.choices, default=Status.UNPROCESSED)
    shipping_status = models.CharField(
        max_length=20, choices=ShippingStatus.choices, default=ShippingStatus.AWAITING_SHIPMENT
    )
    invoice_status = models.CharField(max_length=10, choices=InvoiceStatus.choices, default=InvoiceStatus.NONE)
    status_reason = models.TextField(blank=True, help_text="Why it is on hold, failed or canceled.")
    shipping_method = models.CharField(max_length=60, blank=True, help_text="Our method.")
    source_shipping_code = models.CharField(max_length=60, blank=True, help_text="The source's code for it.")
    source_reference = models.CharField(max_length=120, blank=True, help_text="The source's order id, once sent.")
    routing_decision = models.JSONField(default=dict, blank=True)
    send_attempt = models.PositiveIntegerField(default=0)

    generated_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    canceled_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = "fulfillment request"
        indexes = [
            models.Index(fields=["updated_at", "id"], name="fr_updated_cursor"),
            # A source token's polling walks its own FRs in cursor order without scanning other sources'.
            models.Index(fields=["source", "updated_at", "id"], name="fr_source_updated_cursor"),
            models.Index(fields=["source", "status"]),
            models.Index(fields=["status", "-id"]),
        ]

    def __str__(self) -> str:
        return self.number


class FRLine(models.Model):
    fulfillment_request = models.ForeignKey(FulfillmentRequest, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="fr_lines")
    variant = models.ForeignKey(InventoryVariant, null=True, on_delete=models.SET_NULL, related_name="fr_lines")
    sku = models.CharField(max_length=255, help_text="The source's SKU.")
    master_sku = models.CharField(max_length=255, blank=True)
    upc = models.CharField(max_length=14, blank=True)
    mpn = models.CharField(max_length=120, blank=True)
    title = models.CharField(max_length=500, blank=True)
    cost = models.DecimalField(**MONEY, null=True, blank=True, help_text="Cost at routing time.")

    quantity = models.PositiveIntegerField()
    acknowledged_quantity = models.PositiveIntegerField(default=0)
    backordered_quantity = models.PositiveIntegerField(default=0)
    canceled_quantity = models.PositiveIntegerField(default=0)
    shipped_quantity = models.PositiveIntegerField(default=0)
    voided_quantity = models.PositiveIntegerField(default=0)
    committed_quantity = models.PositiveIntegerField(default=0, help_text="Stock this line holds on the variant now.")

    class Meta:
        ordering = ["fulfillment_request", "id"]
        verbose_name = "FR line"
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="fr_line_quantity_positive"),
            models.CheckConstraint(
                condition=Q(shipped_quantity__lte=F("quantity") - F("canceled_quantity") - F("voided_quantity")),
                name="fr_line_not_over_fulfilled",
                violation_error_message="Shipped, canceled and voided quantities exceed the ordered quantity.",
            ),
            models.CheckConstraint(condition=Q(committed_quantity__lte=F("quantity")), name="fr_line_commit_le_qty"),
        ]

    def __str__(self) -> str:
        return f"{self.fulfillment_request} · {self.sku} × {self.quantity}"

    @property
    def open_quantity(self) -> int:
        """Units neither shipped, canceled nor voided."""
        return self.quantity - self.shipped_quantity - self.canceled_quantity - self.voided_quantity


class FRDocument(models.Model):
    """An FR as the supplier API renders it (its JSON text), kept current by PostgreSQL triggers.

    ``orders.services.fr_documents`` installs the triggers (PostgreSQL only) and explains them; the FR polling
    page (``orders.selectors.fr_api``) reads these instead of rendering every FR of every page again. A plain id,
    not a foreign key: the triggers alone write and delete rows, and Django's deletion collector must not.
    """

    fulfillment_request_id = models.BigIntegerField(primary_key=True)
    updated_at = models.DateTimeField(help_text="The FR's updated_at when this was rendered.")
    version = models.CharField(max_length=32, help_text="Which rendering of the API wrote it.")
    body = models.TextField()

    class Meta:
        verbose_name = "FR document"

    def __str__(self) -> str:
        return f"FR {self.fulfillment_request_id} ({self.version})"


class FREvent(models.Model):
    """One move or note in an FR's life: who, when, from, to, why."""

    class Kind(models.TextChoices):
        STATUS = "status", "Status change"
        SHIPPING = "shipping", "Shipping status change"
        STAGE = "stage", "Generation stage"
        NOTE = "note", "Note"

    fulfillment_request = models.ForeignKey(FulfillmentRequest, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.STATUS)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    actor_label = models.CharField(max_length=120, blank=True, help_text="system, api:<token>, run:<id>…")
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["fulfillment_request", "created_at", "id"]
        verbose_name = "FR event"

    def __str__(self) -> str:
        return f"{self.fulfillment_request}: {self.from_status} → {self.to_status}"


class Acknowledgement(models.Model):
    fulfillment_request = models.ForeignKey(FulfillmentRequest, on_delete=models.CASCADE, related_name="acks")
    source_reference = models.CharField(max_length=120, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    raw = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"Ack of {self.fulfillment_request}"


class AckLine(models.Model):
    acknowledgement = models.ForeignKey(Acknowledgement, on_delete=models.CASCADE, related_name="lines")
    fr_line = models.ForeignKey(FRLine, on_delete=models.CASCADE, related_name="ack_lines")
    accepted_quantity = models.PositiveIntegerField(default=0)
    backordered_quantity = models.PositiveIntegerField(default=0)
    rejected_quantity = models.PositiveIntegerField(default=0)
    reason = models.CharField(max_length=500, blank=True)

    def __str__(self) -> str:
        return f"{self.fr_line}: +{self.accepted_quantity} bo{self.backordered_quantity} rj{self.rejected_quantity}"


class Shipment(models.Model):
    fulfillment_request = models.ForeignKey(FulfillmentRequest, on_delete=models.PROTECT, related_name="shipments")
    tracking_number = models.CharField(max_length=100)
    tracking_url = models.URLField(max_length=500, blank=True)
    carrier = models.CharField(max_length=40, blank=True)
    method = models.CharField(max_length=60, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    cost = models.DecimalField(**MONEY, null=True, blank=True)
    allow_duplicate_tracking = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["fulfillment_request", "tracking_number"],
                condition=Q(allow_duplicate_tracking=False),
                name="shipment_unique_tracking_per_fr",
                violation_error_message="This tracking number is already recorded on this FR.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.carrier} {self.tracking_number}"


class ShipmentLine(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines")
    fr_line = models.ForeignKey(FRLine, on_delete=models.PROTECT, related_name="shipment_lines")
    quantity = models.PositiveIntegerField()

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="shipment_line_quantity_positive")]

    def __str__(self) -> str:
        return f"{self.fr_line.sku} × {self.quantity}"


class SourceInvoice(models.Model):
    class MatchStatus(models.TextChoices):
        PENDING = "pending", "Not matched yet"
        MATCHED = "matched", "Matched"
        MISMATCH = "mismatch", "Mismatch"
        UNMATCHED = "unmatched", "No FR with this PO number"

    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="invoices")
    fulfillment_request = models.ForeignKey(
        FulfillmentRequest, null=True, blank=True, on_delete=models.PROTECT, related_name="invoices"
    )
    invoice_number = models.CharField(max_length=100)
    po_number = models.CharField(max_length=100, blank=True)
    invoice_date = models.DateField(null=True, blank=True)
    currency = models.CharField(max_length=3, default="USD")
    charges = models.DecimalField(**MONEY, default=0)
    total = models.DecimalField(**MONEY)
    match_status = models.CharField(max_length=10, choices=MatchStatus.choices, default=MatchStatus.PENDING)
    mismatches = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "invoice_number"], name="invoice_unique_number_per_source"),
        ]

    def __str__(self) -> str:
        return self.invoice_number


class SourceInvoiceLine(models.Model):
    invoice = models.ForeignKey(SourceInvoice, on_delete=models.CASCADE, related_name="lines")
    fr_line = models.ForeignKey(FRLine, null=True, blank=True, on_delete=models.SET_NULL, related_name="invoice_lines")
    sku = models.CharField(max_length=255, blank=True)
    quantity = models.PositiveIntegerField()
    unit_cost = models.DecimalField(**MONEY)

    def __str__(self) -> str:
        return f"{self.sku} × {self.quantity} @ {self.unit_cost}"
