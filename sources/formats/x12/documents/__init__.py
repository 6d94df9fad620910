"""Typed documents over the segment tree: read a transaction's body into a dataclass, write one back."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..errors import Issue, severity_for
from ..tokenizer import Segment
from .common import Carrier, Charge, DateTime, Elements, Party, Reference
from .functional_ack import (
    ElementError,
    FunctionalAck,
    SegmentError,
    TransactionAck,
    read_functional_ack,
    write_functional_ack,
)
from .inventory import (
    InventoryAdvice,
    InventoryItem,
    Price,
    Quantity,
    WarehouseQuantity,
    read_inventory_advice,
    write_inventory_advice,
)
from .orders import (
    Invoice,
    LineStatus,
    OrderLine,
    PurchaseOrder,
    PurchaseOrderAck,
    read_invoice,
    read_purchase_order,
    read_purchase_order_ack,
    write_invoice,
    write_purchase_order,
    write_purchase_order_ack,
)
from .ship_notice import Mark, ShipLevel, ShipNotice, read_ship_notice, write_ship_notice

if TYPE_CHECKING:
    from ..envelope import Transaction

Document = InventoryAdvice | PurchaseOrder | PurchaseOrderAck | ShipNotice | Invoice | FunctionalAck

# Transaction set ID → (reader of the body, writer of the body).
CODECS: dict[str, tuple[Callable, Callable]] = {
    "846": (read_inventory_advice, write_inventory_advice),
    "850": (read_purchase_order, write_purchase_order),
    "855": (read_purchase_order_ack, write_purchase_order_ack),
    "856": (read_ship_notice, write_ship_notice),
    "810": (read_invoice, write_invoice),
    "997": (read_functional_ack, write_functional_ack),
}


def parse_document(transaction: Transaction) -> Document | None:
    """Read ``transaction`` into its typed document, adding what the reader finds odd to its issues.

    Returns None for transaction sets flxhub does not read (820, 860, …).
    """
    codec = CODECS.get(transaction.set_id)
    if codec is None:
        return None
    first = transaction.segments[0].position

    def note(code: str, message: str, segment: Segment | None, element: int | None) -> None:
        relative = None if segment is None else segment.position - first + 1
        location = transaction.location(relative, element, segment.tag if segment is not None else "")
        transaction.issues.append(Issue(code, message, location, severity_for(code, strict=transaction.strict)))

    from ..reader import collector_paused

    with collector_paused():
        return codec[0](transaction.body, note)


def document_segments(document: Document) -> list[Elements]:
    """Return the segments between ST and SE that represent ``document``."""
    return CODECS[document.SET_ID][1](document)


__all__ = [
    "Carrier",
    "Charge",
    "DateTime",
    "Document",
    "ElementError",
    "FunctionalAck",
    "InventoryAdvice",
    "InventoryItem",
    "Invoice",
    "LineStatus",
    "Mark",
    "OrderLine",
    "Party",
    "Price",
    "PurchaseOrder",
    "PurchaseOrderAck",
    "Quantity",
    "Reference",
    "SegmentError",
    "ShipLevel",
    "ShipNotice",
    "TransactionAck",
    "WarehouseQuantity",
    "document_segments",
    "parse_document",
]
