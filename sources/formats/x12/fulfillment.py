"""The 850 flxhub sends for an FR, built from a plain description of the FR (no database here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from .documents import Carrier, OrderLine, Party, PurchaseOrder, Reference

DROPSHIP = "DS"


@dataclass(frozen=True)
class ShipToAddress:
    """The consumer the supplier ships to."""

    name: str
    address_lines: tuple[str, ...]
    city: str
    state: str
    postal_code: str
    country: str = "US"


@dataclass(frozen=True)
class FRLine:
    """One FR line: the source's SKU (sent as VN), optional UPC (UP), quantity and unit cost."""

    sku: str
    quantity: int | Decimal
    unit_cost: Decimal | None = None
    upc: str = ""
    description: str = ""
    unit: str = "EA"


@dataclass(frozen=True)
class FROrder:
    """What an 850 needs to know of an FR: its number (BEG03), date, ship-to, shipping code and lines.

    ``shipping_code`` is the source's service code, sent in TD503 with qualifier ZZ as distributors expect.
    """

    number: str
    date: date
    ship_to: ShipToAddress
    lines: tuple[FRLine, ...]
    shipping_code: str = ""
    order_type: str = DROPSHIP
    references: dict[str, str] = field(default_factory=dict)


def purchase_order_from_fr(fr: FROrder) -> PurchaseOrder:
    """Return the 850 document for ``fr``; line numbers are the 1-based line positions."""
    ship_to = fr.ship_to
    party = Party(
        code="ST",
        name=ship_to.name,
        address=list(ship_to.address_lines),
        city=ship_to.city,
        state=ship_to.state,
        postal_code=ship_to.postal_code,
        country=ship_to.country,
    )
    lines = []
    for number, line in enumerate(fr.lines, start=1):
        ids = {"VN": line.sku} | ({"UP": line.upc} if line.upc else {})
        lines.append(
            OrderLine(
                identifiers=ids,
                line_number=str(number),
                quantity=Decimal(line.quantity),
                unit=line.unit,
                unit_price=line.unit_cost,
                price_basis="PE" if line.unit_cost is not None else "",
                description=line.description,
            )
        )
    return PurchaseOrder(
        order_type=fr.order_type,
        number=fr.number,
        date=fr.date.strftime("%Y%m%d"),
        references=[Reference(qualifier, value) for qualifier, value in fr.references.items()],
        carriers=[Carrier(routing_sequence="O", id_qualifier="ZZ", carrier_id=fr.shipping_code)]
        if fr.shipping_code
        else [],
        parties=[party],
        lines=lines,
    )
