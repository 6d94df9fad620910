"""An order's ship-to and contact details as its FRs show them to their sources."""

from django.utils import timezone

from ..models import FulfillmentRequest
from .order_import import SHIP_TO_FIELDS

# The order's fields an FR carries in the supplier API (its ship_to, with the customer's email and phone).
FR_VISIBLE_FIELDS = frozenset({*(f"ship_{name}" for name in SHIP_TO_FIELDS), "customer_email", "customer_phone"})


def order_frs_touch(*, order_id: int) -> int:
    """Stamp the order's FRs as changed now, so sources polling with ``updated_after`` or a cursor get them again.

    Call it in the transaction that changes what the FRs show of the order; return how many FRs were stamped.
    """
    return FulfillmentRequest.objects.filter(order_id=order_id).update(updated_at=timezone.now())
