"""FR number strategies: small functions picked by the source's stored setting."""

from collections.abc import Callable
from dataclasses import dataclass

from sources.models import GlobalSettings, Source

from ..models import FulfillmentRequest, Order


@dataclass(frozen=True)
class FRSettings:
    """The FR settings in force for a source: its own when it overrides the global ones."""

    auto_process: bool
    prefix: str
    max_length: int


def fr_settings_for(source: Source) -> FRSettings:
    glob = GlobalSettings.load()
    if source.override_global_settings:
        return FRSettings(
            auto_process=source.auto_process_frs,
            prefix=source.fr_number_prefix,
            max_length=source.fr_number_max_length or glob.fr_number_max_length,
        )
    return FRSettings(glob.auto_process_frs, glob.fr_number_prefix, glob.fr_number_max_length)


def order_number_suffix(order: Order, source: Source, prefix: str) -> str:
    """``<prefix><order number>-<n>``, n counting every FR the order has had (54007-1, 54007-2…)."""
    n = FulfillmentRequest.objects.filter(order=order).count() + 1
    return f"{prefix}{order.channel_order_number}-{n}"


STRATEGIES: dict[str, Callable[[Order, Source, str], str]] = {"order_number_suffix": order_number_suffix}
