"""An X12 846 Inventory Advice as feed records, so an inventory template maps it like any other feed.

Each LIN loop becomes one record (row = its position in the file) with these keys, usable as ``x12_element``
or ``column`` sources: each identifier by its qualifier (``VN``, ``UP``, ``SK``, ``BP``, ``EN``, ``MG``…),
``sku`` (VN, else VP, else SK, else BP, else the first identifier), ``upc`` (UP), ``ean`` (EN), ``description``,
``quantity`` (available, else on hand), each price by qualifier (``price:CON``, ``price:MSR``…), ``cost``
(CON, else ACT, else the first price), ``msrp`` (MSR, else SLP), and ``report_type`` (BIA02: DD is a full
snapshot; CM/DM are changes). Values are text, as from CSV.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import IO, Any

from sources.formats import FormatError, Record, x12


def _text(value: Decimal | None) -> str:
    return "" if value is None else format(value, "f")


def read_846_records(file: IO[bytes], options: dict[str, Any] | None = None) -> Iterator[Record]:
    """Yield one Record per 846 item; raise FormatError for data with no readable interchange."""
    try:
        result = x12.read(file.read(), strict=bool((options or {}).get("strict")))
    except x12.X12Error as exc:
        raise FormatError(f"not a readable X12 file: {exc}") from None
    row = 0
    for _, document in result.documents():
        if not isinstance(document, x12.InventoryAdvice):
            continue
        for item in document.items:
            row += 1
            ids = dict(item.identifiers)
            values: dict[str, Any] = {**ids, "report_type": document.report_type, "description": item.description}
            values["sku"] = (
                ids.get("VN") or ids.get("VP") or ids.get("SK") or ids.get("BP") or next(iter(ids.values()), "")
            )
            values["upc"] = ids.get("UP", "")
            values["ean"] = ids.get("EN", "")
            values["quantity"] = _text(item.quantity())
            prices = {price.qualifier: price.amount for price in item.prices}
            for qualifier, amount in prices.items():
                values[f"price:{qualifier}"] = _text(amount)
            cost = prices.get("CON", prices.get("ACT", next(iter(prices.values()), None)))
            values["cost"] = _text(cost)
            values["msrp"] = _text(prices.get("MSR", prices.get("SLP")))
            yield Record(row, row, values)
