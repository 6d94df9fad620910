"""Canonical targets per template kind and the typed validation of each target.

A kind is a table ``target → value type``; a value type is a converter ``text → value`` that raises
ValueError with an operator-facing message. Adding a kind or a target is one line here, not a
branch in the engine.

Units are the source's unless the template converts them (e.g. Shopify grams → kg with
``multiply``); the built-in templates use kg and cm.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from .transforms import parse_decimal

Converter = Callable[[str], Any]

_DIGITS = re.compile(r"\d+")
_INFINITY = Decimal("Infinity")
_SCIENTIFIC = re.compile(r"^[+-]?\d+(\.\d+)?[eE][+-]?\d+$")


def to_text(text: str) -> str:
    return text


def to_amount(text: str) -> Decimal:
    """Return a Decimal ≥ 0 (money, weights, dimensions)."""
    try:
        value = Decimal(text)
        if 0 <= value < _INFINITY:
            return value
    except InvalidOperation:
        pass
    value = parse_decimal(text.strip())
    if value < 0:
        raise ValueError(f"{text!r} is negative; it must be 0 or more")
    raise ValueError(f"{text!r} is not a number")


def to_quantity(text: str) -> int:
    """Return an int ≥ 0, accepting ``12.0`` as spreadsheets write it."""
    try:
        value = int(text)
    except ValueError:
        decimal = parse_decimal(text.strip())
        if decimal != decimal.to_integral_value():
            raise ValueError(f"{text!r} is not a whole number") from None
        value = int(decimal)
    if value < 0:
        raise ValueError(f"{text!r} is negative; it must be 0 or more")
    return value


def barcode(label: str) -> Converter:
    """Return a converter for a barcode of 8–14 digits, explaining spreadsheet damage."""

    def to_barcode(text: str) -> str:
        if 8 <= len(text) <= 14 and text.isdigit() and text.isascii():
            return text
        value = text.strip()
        if _DIGITS.fullmatch(value) and 8 <= len(value) <= 14:
            return value
        if _SCIENTIFIC.match(value):
            raise ValueError(
                f"{label} looks like it was converted to scientific notation by a spreadsheet; digits are lost "
                f"({value!r}). Export the column as text and send the file again."
            )
        if _DIGITS.fullmatch(value):
            raise ValueError(f"{label} {value!r} has {len(value)} digits; it must have 8 to 14")
        raise ValueError(f"{label} {value!r} must be digits only (8 to 14)")

    to_barcode.plain_digits = (8, 14)  # type: ignore[attr-defined]  # the mapping's fast path inlines this case
    return to_barcode


STATUS_SYNONYMS = {
    "active": "active",
    "enabled": "active",
    "available": "active",
    "in stock": "active",
    "instock": "active",
    "published": "active",
    "publish": "active",
    "live": "active",
    "yes": "active",
    "y": "active",
    "true": "active",
    "1": "active",
    "archived": "archived",
    "inactive": "archived",
    "disabled": "archived",
    "draft": "archived",
    "hidden": "archived",
    "unavailable": "archived",
    "no": "archived",
    "n": "archived",
    "false": "archived",
    "0": "archived",
    "discontinued": "discontinued",
    "obsolete": "discontinued",
    "eol": "discontinued",
    "end of life": "discontinued",
    "retired": "discontinued",
}


def to_status(text: str) -> str:
    status = STATUS_SYNONYMS.get(text)
    if status is not None:
        return status
    try:
        return STATUS_SYNONYMS[text.strip().lower()]
    except KeyError:
        raise ValueError(f"unknown status {text!r}; use active, archived or discontinued") from None


def to_date(text: str) -> date | datetime:
    """Return an ISO date (``2024-05-31``, ``20240531``) or date-time; other formats need the date transform."""
    value = text.strip()
    try:
        if len(value) == 8 and value.isdigit():
            return datetime.strptime(value, "%Y%m%d").date()
        if len(value) == 10:
            return date.fromisoformat(value)
        return datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO date; add a date transform with the feed's format") from None


_TRUE = {"true", "yes", "y", "1", "t", "x"}
_FALSE = {"false", "no", "n", "0", "f", ""}


def to_bool(text: str) -> bool:
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{text!r} is not yes/no")


TEXT, AMOUNT, QUANTITY, DATE, BOOL = to_text, to_amount, to_quantity, to_date, to_bool

KINDS: dict[str, dict[str, Converter]] = {
    "inventory": {
        "sku": TEXT,
        "parent_sku": TEXT,
        "title": TEXT,
        "description": TEXT,
        "brand": TEXT,
        "category": TEXT,
        "upc": barcode("UPC"),
        "ean": barcode("EAN"),
        "mpn": TEXT,
        "master_sku": TEXT,
        "cost": AMOUNT,
        "msrp": AMOUNT,
        "map_price": AMOUNT,
        "shipping_cost": AMOUNT,
        "dropship_fee": AMOUNT,
        "quantity": QUANTITY,
        "status": to_status,
        "weight": AMOUNT,
        "length": AMOUNT,
        "width": AMOUNT,
        "height": AMOUNT,
    },
    "ack": {
        "fr_number": TEXT,
        "sku": TEXT,
        "accepted": QUANTITY,
        "backordered": QUANTITY,
        "rejected": QUANTITY,
        "reason": TEXT,
    },
    "shipment": {
        "fr_number": TEXT,
        "tracking_number": TEXT,
        "carrier": TEXT,
        "method": TEXT,
        "shipped_at": DATE,
        "sku": TEXT,
        "quantity": QUANTITY,
        "cost": AMOUNT,
    },
    "invoice": {
        "invoice_number": TEXT,
        "fr_number": TEXT,
        "invoice_date": DATE,
        "total": AMOUNT,
        "sku": TEXT,
        "quantity": QUANTITY,
        "unit_cost": AMOUNT,
    },
    # send_fr runs the other way: these are the keys of the canonical FR line a template reads from.
    "send_fr": {
        "fr_number": TEXT,
        "order_number": TEXT,
        "created_at": TEXT,
        "shipping_method": TEXT,
        "ship_to_name": TEXT,
        "ship_to_company": TEXT,
        "ship_to_address1": TEXT,
        "ship_to_address2": TEXT,
        "ship_to_city": TEXT,
        "ship_to_state": TEXT,
        "ship_to_postal_code": TEXT,
        "ship_to_country": TEXT,
        "ship_to_phone": TEXT,
        "ship_to_email": TEXT,
        "line_number": TEXT,
        "sku": TEXT,
        "master_sku": TEXT,
        "upc": TEXT,
        "mpn": TEXT,
        "title": TEXT,
        "quantity": TEXT,
        "unit_cost": TEXT,
    },
}
"""kind → canonical target → converter."""

COLLECTIONS: dict[str, dict[str, str]] = {
    "inventory": {"option:": "options", "attr:": "attributes", "image": "images"},
}
"""kind → target prefix → canonical collection: ``option:Color`` → options["Color"], ``image`` → images[]."""
