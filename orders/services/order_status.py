"""Order status that follows from its FRs."""

from django.db import transaction
from django.db.models import F, Sum

from ..models import FRLine, Order


def order_refresh_status(*, order_id: int) -> Order:
    """Close the order when every line has been shipped or canceled and no FR line is still open; return it.

    The open-line check keeps an order whose rejected lines were regenerated onto a new FR open until
    that FR ships too.
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.status not in Order.ROUTABLE:
            return order
        lines = list(order.lines.all())
        done = {
            row["order_line_id"]: (row["shipped"] or 0) + (row["canceled"] or 0)
            for row in FRLine.objects.filter(order_line__order=order)
            .values("order_line_id")
            .annotate(shipped=Sum("shipped_quantity"), canceled=Sum("canceled_quantity"))
        }
        still_open = (
            FRLine.objects.filter(order_line__order=order)
            .exclude(fulfillment_request__status__in=["voided", "canceled"])
            .filter(quantity__gt=F("shipped_quantity") + F("canceled_quantity") + F("voided_quantity"))
            .exists()
        )
        if lines and not still_open and all(done.get(line.pk, 0) >= line.quantity for line in lines):
            order.status = Order.Status.CLOSED
            order.save(update_fields=["status", "updated_at"])
    return order
