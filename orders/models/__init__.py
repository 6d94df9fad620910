from .edi import EdiDocument, FRSubmission, InboundFile
from .fulfillment import (
    AckLine,
    Acknowledgement,
    FRDocument,
    FREvent,
    FRLine,
    FulfillmentRequest,
    Shipment,
    ShipmentLine,
    SourceInvoice,
    SourceInvoiceLine,
)
from .orders import Order, OrderLine, RoutingGroup, RoutingPriority
from .tokens import ApiToken, IdempotencyKey

__all__ = [
    "AckLine",
    "Acknowledgement",
    "ApiToken",
    "EdiDocument",
    "FRDocument",
    "FREvent",
    "FRLine",
    "FRSubmission",
    "FulfillmentRequest",
    "IdempotencyKey",
    "InboundFile",
    "Order",
    "OrderLine",
    "RoutingGroup",
    "RoutingPriority",
    "Shipment",
    "ShipmentLine",
    "SourceInvoice",
    "SourceInvoiceLine",
]
