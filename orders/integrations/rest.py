"""Vendor REST protocols: one object per supplier API, registered by name.

A connection of kind ``rest`` names its protocol in ``connection.options["protocol"]`` (e.g.
``"generic_json"``, ``"usdirect"``). The order-side runners call the protocol; the protocol speaks
HTTP to the supplier and translates answers into the plain results below. Protocols move data only:
they never touch the database (the runners apply results through the orders services).
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from flxhub.exceptions import ApplicationError
from sources.transports.base import ConnectionSettings


class IncompleteAnswer(ApplicationError):
    """Part of a supplier's answer cannot be used: ``results`` holds the usable records, ``problems`` the others.

    Each problem is a dict with at least ``po_number`` (the FR number) and ``reason`` (what is wrong with it). The
    REST channel applies ``results`` and stores each problem as a row error, so one incomplete record never holds
    back the rest; the next run asks again for the FRs still waiting.
    """

    def __init__(self, message: str, *, code: str, results: list, problems: list[dict[str, Any]], **kwargs):
        super().__init__(message, code=code, details={"problems": problems}, **kwargs)
        self.results = results
        self.problems = problems


@dataclass
class SendResult:
    """The supplier's answer to one FR: ``accepted`` (acknowledged at once), ``received`` (processed) or rejected."""

    outcome: str  # "accepted" | "received" | "rejected"
    source_reference: str = ""
    message: str = ""


@dataclass
class AckLine:
    sku: str
    accepted: int = 0
    backordered: int = 0
    rejected: int = 0
    reason: str = ""


@dataclass
class AckResult:
    fr_number: str
    lines: list[AckLine] = field(default_factory=list)  # empty: the whole FR is accepted
    rejected_reason: str = ""  # set when the whole FR is rejected
    source_reference: str = ""


@dataclass
class ShipmentItem:
    sku: str
    quantity: int


@dataclass
class ShipmentResult:
    fr_number: str
    tracking_number: str
    carrier: str = ""
    method: str = ""
    shipped_at: datetime | None = None
    status: str = ""
    cost: Decimal | None = None
    items: list[ShipmentItem] = field(default_factory=list)  # empty: every open line ships in full


@dataclass
class InvoiceLine:
    sku: str
    quantity: int
    unit_cost: Decimal


@dataclass
class InvoiceResult:
    fr_number: str
    invoice_number: str
    total: Decimal
    invoice_date: datetime | None = None
    charges: Decimal = Decimal("0")
    lines: list[InvoiceLine] = field(default_factory=list)


class RestProtocol(Protocol):
    """What a supplier API must offer flxhub. ``fr`` is the rendered FR payload (a dict)."""

    name: str

    def test(self, settings: ConnectionSettings) -> tuple[bool, str]: ...

    def send_fr(self, settings: ConnectionSettings, fr: dict[str, Any]) -> SendResult: ...

    def find_fr(self, settings: ConnectionSettings, fr_number: str) -> SendResult | None:
        """Whether the supplier already has this FR (to never send twice after a crash)."""

    def get_acks(self, settings: ConnectionSettings, fr_numbers: list[str]) -> list[AckResult]: ...

    def get_shipments(self, settings: ConnectionSettings, fr_numbers: list[str]) -> list[ShipmentResult]: ...

    def get_invoices(self, settings: ConnectionSettings, fr_numbers: list[str]) -> list[InvoiceResult]: ...


PROTOCOLS: dict[str, RestProtocol] = {}


def register_rest_protocol(protocol: RestProtocol) -> None:
    PROTOCOLS[protocol.name] = protocol


def get_rest_protocol(name: str) -> RestProtocol:
    try:
        return PROTOCOLS[name]
    except KeyError:
        known = ", ".join(sorted(PROTOCOLS)) or "none"
        raise ApplicationError(
            f"The connection names REST protocol {name!r}, which flxhub does not know (known: {known}).",
            code="unknown_rest_protocol",
        )


def rest_connection_test(settings: ConnectionSettings) -> tuple[bool, str]:
    """Test Connection for a ``rest`` connection: ask its protocol (named in ``options["protocol"]``)."""
    name = settings.options.get("protocol", "")
    if not name:
        return False, 'This REST connection names no protocol; set options {"protocol": "usdirect"} or similar.'
    try:
        protocol = get_rest_protocol(name)
    except ApplicationError as exc:
        return False, exc.message
    return protocol.test(settings)
