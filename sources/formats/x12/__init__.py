"""EDI X12 codec: bytes ⇄ interchanges ⇄ typed 846/850/855/856/810/997 documents. Pure code, no database.

Reading takes the delimiters from each interchange's own ISA and never raises on a bad envelope: what is wrong
becomes an ``Issue`` with its location (interchange, group, transaction, segment, element), a warning when
the partner is read leniently, an error when strictly. Only input without any readable ISA raises ``X12Error``.

    from sources.formats import x12

    result = x12.read(data, strict=partner.strict_edi)
    for transaction, document in result.documents():
        if isinstance(document, x12.PurchaseOrderAck) and document.rejected:
            print(document.po_number, document.rejection_reason)
    for issue in result.issues:
        print(issue)  # "warning: interchange 1, group 1, transaction 2, segment 8 (SE), element 1: …"

    envelope = x12.Envelope(sender_id="FLXHUB", receiver_id="043109560", receiver_qualifier="01")
    numbers = x12.InMemoryControlNumbers()  # the app passes its persisted per-partner sequence
    po = x12.purchase_order_from_fr(fr_order)
    data = x12.write([po], envelope=envelope, control_numbers=numbers)
    acks = [x12.acknowledge(group) for group in result.groups]  # one 997 per received group
    reply = x12.write(acks, envelope=envelope, control_numbers=numbers)
"""

from .ack997 import acknowledge
from .documents import (
    Carrier,
    Charge,
    DateTime,
    Document,
    ElementError,
    FunctionalAck,
    InventoryAdvice,
    InventoryItem,
    Invoice,
    LineStatus,
    Mark,
    OrderLine,
    Party,
    Price,
    PurchaseOrder,
    PurchaseOrderAck,
    Quantity,
    Reference,
    SegmentError,
    ShipLevel,
    ShipNotice,
    TransactionAck,
    WarehouseQuantity,
)
from .envelope import FunctionalGroup, Interchange, Transaction
from .errors import Issue, Location, Severity, X12Error
from .fulfillment import FRLine, FROrder, ShipToAddress, purchase_order_from_fr
from .reader import ReadResult, read
from .tokenizer import Delimiters, Segment
from .writer import ControlNumbers, Envelope, InMemoryControlNumbers, write

__all__ = [
    "Carrier",
    "Charge",
    "ControlNumbers",
    "DateTime",
    "Delimiters",
    "Document",
    "ElementError",
    "Envelope",
    "FRLine",
    "FROrder",
    "FunctionalAck",
    "FunctionalGroup",
    "InMemoryControlNumbers",
    "Interchange",
    "InventoryAdvice",
    "InventoryItem",
    "Invoice",
    "Issue",
    "LineStatus",
    "Location",
    "Mark",
    "OrderLine",
    "Party",
    "Price",
    "PurchaseOrder",
    "PurchaseOrderAck",
    "Quantity",
    "ReadResult",
    "Reference",
    "Segment",
    "SegmentError",
    "Severity",
    "ShipLevel",
    "ShipNotice",
    "ShipToAddress",
    "Transaction",
    "TransactionAck",
    "WarehouseQuantity",
    "X12Error",
    "acknowledge",
    "purchase_order_from_fr",
    "read",
    "write",
]
