"""Non-trivial reads for orders and FRs."""

from .overdue import fr_overdue_counts, fr_overdue_queryset
from .routing import Roadblock, RoutingInput, routing_input_for_order, routing_policy_for_country

__all__ = [
    "Roadblock",
    "RoutingInput",
    "fr_overdue_counts",
    "fr_overdue_queryset",
    "routing_input_for_order",
    "routing_policy_for_country",
]
