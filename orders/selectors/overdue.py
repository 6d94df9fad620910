"""Overdue FRs: processed but not acknowledged within the source's ack window, or acknowledged but not
shipped within its ship window."""

from datetime import datetime, timedelta

from django.db.models import Case, CharField, Count, DurationField, ExpressionWrapper, F, Q, QuerySet, Value, When
from django.utils import timezone

from ..models import FulfillmentRequest

Status = FulfillmentRequest.Status
ShippingStatus = FulfillmentRequest.ShippingStatus

ACK_OVERDUE = "ack_overdue"
SHIP_OVERDUE = "ship_overdue"


def _overdue_conditions(now: datetime) -> tuple[Q, Q]:
    hour = Value(timedelta(hours=1), output_field=DurationField())
    ack_window = ExpressionWrapper(F("source__ack_window_hours") * hour, output_field=DurationField())
    ship_window = ExpressionWrapper(F("source__ship_window_hours") * hour, output_field=DurationField())
    ack = Q(status=Status.PROCESSED, sent_at__isnull=False, sent_at__lt=Value(now) - ack_window)
    ship = Q(
        status=Status.ACKNOWLEDGED,
        shipping_status__in=[ShippingStatus.AWAITING_SHIPMENT, ShippingStatus.PARTIALLY_SHIPPED],
        acknowledged_at__isnull=False,
        acknowledged_at__lt=Value(now) - ship_window,
    )
    return ack, ship


def fr_overdue_queryset(*, now: datetime | None = None, queryset: QuerySet | None = None) -> QuerySet:
    """FRs past their source's ack or ship window, annotated with ``overdue`` (ack_overdue | ship_overdue)."""
    ack, ship = _overdue_conditions(now or timezone.now())
    base = FulfillmentRequest.objects.all() if queryset is None else queryset
    return base.filter(ack | ship).annotate(
        overdue=Case(
            When(ack, then=Value(ACK_OVERDUE)),
            When(ship, then=Value(SHIP_OVERDUE)),
            output_field=CharField(),
        )
    )


def fr_overdue_counts(*, now: datetime | None = None) -> dict[str, int]:
    """How many FRs are overdue for acknowledgement, for shipment, and in total (one query)."""
    ack, ship = _overdue_conditions(now or timezone.now())
    counts = FulfillmentRequest.objects.aggregate(
        ack_overdue=Count("pk", filter=ack), ship_overdue=Count("pk", filter=ship)
    )
    return {**counts, "total": counts["ack_overdue"] + counts["ship_overdue"]}
