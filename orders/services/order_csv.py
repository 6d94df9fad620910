"""Orders from a CSV file uploaded by an operator: one row per order line, grouped by order number.

Columns (header names, case-insensitive): order_number, master_sku, quantity (required); price,
title, status (paid/deferred), customer_name, customer_email, customer_phone, ship_name, ship_company,
ship_address1, ship_address2, ship_city, ship_state, ship_postal_code, ship_country, shipping_method.
An order any of whose rows is wrong is not imported; every wrong row is reported with its row number.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from flxhub.exceptions import ApplicationError, ValidationFailed
from sources.formats import read_records

from ..models import Order
from .order_import import SHIP_TO_FIELDS, OrderImport, OrderLineImport, order_import

REQUIRED = ("order_number", "master_sku", "quantity")
MAX_BYTES = 20 * 1024 * 1024


@dataclass
class CsvRowError:
    row: int
    order_number: str
    field: str
    value: str
    message: str


@dataclass
class CsvImportResult:
    created: list[Order] = field(default_factory=list)
    existing: list[Order] = field(default_factory=list)
    errors: list[CsvRowError] = field(default_factory=list)


def _line(row: int, values: dict[str, str], errors: list[CsvRowError]) -> OrderLineImport | None:
    number = values.get("order_number", "")
    before = len(errors)
    for name in REQUIRED:
        if not values.get(name):
            errors.append(CsvRowError(row, number, name, "", f"{name} is required"))
    quantity_text, price_text = values.get("quantity", ""), values.get("price", "")
    quantity = price = None
    if quantity_text:
        if quantity_text.isdigit() and int(quantity_text) > 0:
            quantity = int(quantity_text)
        else:
            errors.append(CsvRowError(row, number, "quantity", quantity_text, "quantity must be a positive integer"))
    if price_text:
        try:
            price = Decimal(price_text)
        except InvalidOperation:
            errors.append(CsvRowError(row, number, "price", price_text, "price is not a number"))
    status = values.get("status") or Order.Status.PAID
    if status not in Order.ROUTABLE:
        errors.append(CsvRowError(row, number, "status", status, "status must be paid or deferred"))
    if len(errors) > before:
        return None
    return OrderLineImport(
        master_sku=values["master_sku"], quantity=quantity, title=values.get("title", ""), price=price
    )


def orders_import_csv(*, channel_id: int, data: bytes) -> CsvImportResult:
    """Validate every row, then import each order whose rows are all valid (idempotent per order number)."""
    if len(data) > MAX_BYTES:
        raise ValidationFailed(f"The file is {len(data)} bytes; the limit is {MAX_BYTES}.")
    result = CsvImportResult()
    rows: dict[str, list[tuple[int, dict[str, str]]]] = defaultdict(list)
    bad_orders: set[str] = set()
    for record in read_records("csv", data, {}):
        if not isinstance(record.values, dict):
            raise ValidationFailed("The order CSV needs a header row (order_number, master_sku, quantity, …).")
        values = {str(k).strip().lower(): ("" if v is None else str(v).strip()) for k, v in record.values.items()}
        number = values.get("order_number", "")
        if record.error:
            result.errors.append(CsvRowError(record.row, number, "", "", record.error))
            bad_orders.add(number)
            continue
        rows[number].append((record.row, values))
    for number, order_rows in rows.items():
        lines = [_line(row, values, result.errors) for row, values in order_rows]
        if not number or number in bad_orders or None in lines:
            continue
        first = order_rows[0][1]
        data_in = OrderImport(
            channel_order_number=number,
            lines=lines,
            status=first.get("status") or Order.Status.PAID,
            customer={k: first.get(f"customer_{k}", "") for k in ("name", "email", "phone")},
            ship_to={name: first.get(f"ship_{name}", "") for name in SHIP_TO_FIELDS},
            requested_shipping_method=first.get("shipping_method", ""),
        )
        try:
            order, created = order_import(channel_id=channel_id, data=data_in)
        except ApplicationError as exc:
            result.errors.append(CsvRowError(order_rows[0][0], number, "", "", exc.message))
            continue
        (result.created if created else result.existing).append(order)
    return result
