"""What order-side integrations exchanged with sources: FR submissions, X12 documents, inbound files."""

from django.db import models
from django.db.models import Q

from sources.models import Integration

from .fulfillment import FulfillmentRequest


class FRSubmission(models.Model):
    """One attempt at delivering one FR to its source, written before the bytes leave.

    A submission still ``pending`` on the next run means the last run stopped between delivering and
    recording; the runner then checks the source (by file name, control number or the source's own
    lookup) before sending again, so an FR is never sent twice for the same attempt.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending (delivery started, outcome not recorded)"
        DELIVERED = "delivered", "Delivered"
        REJECTED = "rejected", "Rejected by the source"

    fulfillment_request = models.ForeignKey(FulfillmentRequest, on_delete=models.CASCADE, related_name="submissions")
    attempt = models.PositiveIntegerField()
    integration = models.ForeignKey(Integration, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    channel = models.CharField(max_length=10)  # rest, file, edi
    reference = models.CharField(max_length=255, blank=True, help_text="File name, control number or remote id.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["fulfillment_request", "-attempt"]
        constraints = [
            models.UniqueConstraint(fields=["fulfillment_request", "attempt"], name="fr_submission_unique_attempt"),
        ]

    def __str__(self) -> str:
        return f"{self.fulfillment_request} attempt {self.attempt} ({self.status})"


class EdiDocument(models.Model):
    """One X12 transaction sent or received, with its control numbers; an 850 waits here for its 997."""

    class Direction(models.TextChoices):
        OUTBOUND = "out", "Sent"
        INBOUND = "in", "Received"

    class Status(models.TextChoices):
        SENT = "sent", "Sent, awaiting 997"
        ACCEPTED = "accepted", "Accepted (997)"
        ACCEPTED_WITH_ERRORS = "accepted_with_errors", "Accepted with errors (997)"
        REJECTED = "rejected", "Rejected (997)"
        OVERDUE = "overdue", "No 997 within the partner's window"
        UNDELIVERED = "undelivered", "Never reached the partner (resent in another interchange)"
        APPLIED = "applied", "Received and applied"
        FAILED = "failed", "Received, could not be applied"

    direction = models.CharField(max_length=3, choices=Direction.choices)
    partner = models.CharField(max_length=80)
    kind = models.CharField(max_length=3, help_text="Transaction set: 850, 855, 856, 810, 997.")
    interchange_control = models.CharField(max_length=20, blank=True)
    group_control = models.CharField(max_length=20, blank=True)
    transaction_control = models.CharField(max_length=20, blank=True)
    fulfillment_request = models.ForeignKey(
        FulfillmentRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="edi_documents"
    )
    reference = models.CharField(max_length=100, blank=True, help_text="PO, shipment or invoice number.")
    file_name = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=25, choices=Status.choices)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["partner", "direction", "kind", "group_control"]),
            models.Index(fields=["status", "created_at"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "kind", "group_control", "transaction_control"],
                condition=Q(direction="out"),
                name="edi_outbound_unique_control",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.kind} {self.partner} {self.group_control}/{self.transaction_control}"


class InboundFile(models.Model):
    """A remote file an integration applied, by content hash, so the same bytes are never applied twice."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=500)
    digest = models.CharField(max_length=64)
    run_id = models.PositiveBigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["integration", "digest"], name="inbound_file_unique_digest"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.digest[:12]})"
