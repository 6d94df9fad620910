"""Overdue FRs: processed but not acknowledged within the source's ack window, or acknowledged but not
shipped within its ship window."""

from datetime import datetime, timedelta

from django.db.models import Case, CharField, Count, Q, QuerySet, Value, When
from django.utils import timezone

from sources.models import Source

from ..models import FulfillmentRequest

Status = FulfillmentRequest.Status
ShippingStatus = FulfillmentRequest.ShippingStatus

ACK_OVERDUE = "ack_overdue"
SHIP_OVERDUE = "ship_overdue"


def _overdue_conditions(now: datetime) -> tuple[Q, Q]:
    """The ack-overdue and ship-overdue conditions, one branch per distinct window among the sources.

    Written per window value rather than as ``hours × interval`` arithmetic in SQL, which SQLite (the embedded
    mode) cannot do; sources share a handful of window values, so the condition stays small.
    """
    windows = set(Source.objects.values_list("ack_window_hours", "ship_window_hours").distinct())
    ack_by_window = [
        Q(source__ack_window_hours=hours, sent_at__lt=now - timedelta(hours=hours))
        for hours in sorted({ack for ack, _ in windows})
    ]
    ship_by_window = [
        Q(source__ship_window_hours=hours, acknowledged_at__lt=now - timedelta(hours=hours))
        for hours in sorted({ship for _, ship in windows})
    ]
    ack = Q(status=Status.PROCESSED, sent_at__isnull=False) & _any(ack_by_window)
    ship = Q(
        status=Status.ACKNOWLEDGED,
        shipping_status__in=[ShippingStatus.AWAITING_SHIPMENT, ShippingStatus.PARTIALLY_SHIPPED],
        acknowledged_at__isnull=False,
    ) & _any(ship_by_window)
    return ack, ship


def _any(conditions: list[Q]) -> Q:
    """OR of ``conditions``; no condition matches nothing."""
    if not conditions:
        return Q(pk__in=[])
    combined = conditions[0]
    for condition in conditions[1:]:
        combined |= condition
    return combined


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
