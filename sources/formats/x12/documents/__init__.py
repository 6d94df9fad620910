"""Typed documents over the segment tree: read a transaction's body into a dataclass, write one back."""

from __future__ import annotations

from collections.abc import Callable
from itertools import count
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
    read_inventory_rows,
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

    The segment checks of the transaction run as its segments are split, so their findings come first; then
    the reader's. Returns None for transaction sets flxhub does not read (820, 860, …).
    """
    notes: list[Issue] = []
    first = transaction.first_position

    def note(code: str, message: str, segment: Segment | None, element: int | None) -> None:
        relative = None if segment is None else segment.position - first + 1
        location = transaction.location(relative, element, segment.tag if segment is not None else "")
        notes.append(Issue(code, message, location, severity_for(code, strict=transaction.strict)))

    from ..reader import collector_paused

    codec = CODECS.get(transaction.set_id)
    rows = transaction.checked_rows()
    with collector_paused():
        if transaction.set_id == "846":
            document: Document | None = read_inventory_rows(rows, first + 1, note)
        else:
            document = codec[0](map(Segment, rows, count(first + 1)), note) if codec is not None else None
        for _ in rows:  # the rest of the segments still get their checks
            pass
    transaction.issues.extend(notes)
    return document


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
