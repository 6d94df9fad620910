"""The test playing the supplier: read what flxhub delivered, write back acks, shipments and invoices."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

from sources.formats import x12

PARTNER = "SUPPLIER1"
HUB = "FLXHUB"


def read_frs_csv(folder: Path) -> dict[str, list[dict]]:
    """FR number → its rows, from every CSV flxhub dropped in ``folder``."""
    frs: dict[str, list[dict]] = {}
    for path in sorted(folder.glob("*.csv")):
        for row in csv.DictReader(io.StringIO(path.read_text())):
            frs.setdefault(row["fr_number"], []).append(row)
    return frs


def write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(buffer.getvalue())


def answer_csv(folder: Path, frs: dict[str, list[dict]], tracking: str) -> None:
    """Write an ack, a shipment and an invoice CSV for every FR into ``folder``."""
    acks, ships, invoices = [], [], []
    for number, rows in frs.items():
        total = Decimal(0)
        for row in rows:
            quantity = int(row["quantity"])
            acks.append([number, row["sku"], quantity, 0, 0, ""])
            ships.append([number, tracking, "fedex ground", "FEDEX-EXP", "2025-05-02", row["sku"], quantity, "7.10"])
            invoices.append([number, f"INV-{number}", "2025-05-03", "", row["sku"], quantity, row["unit_cost"]])
            total += Decimal(row["unit_cost"]) * quantity
        for invoice in invoices:
            if invoice[0] == number:
                invoice[3] = str(total)
    write_csv(folder / "ack_1.csv", ["fr_number", "sku", "accepted", "backordered", "rejected", "reason"], acks)
    write_csv(
        folder / "ship_1.csv",
        ["fr_number", "tracking_number", "carrier", "method", "shipped_at", "sku", "quantity", "cost"],
        ships,
    )
    write_csv(
        folder / "inv_1.csv",
        ["fr_number", "invoice_number", "invoice_date", "total", "sku", "quantity", "unit_cost"],
        invoices,
    )


def read_850s(folder: Path) -> list[tuple[x12.Transaction, x12.PurchaseOrder]]:
    found = []
    for path in sorted(folder.glob("850_*.x12")):
        result = x12.read(path.read_bytes())
        assert not result.errors, result.errors
        found += [(t, d) for t, d in result.documents() if isinstance(d, x12.PurchaseOrder)]
    return found


def supplier_envelope() -> x12.Envelope:
    return x12.Envelope(sender_id=PARTNER, receiver_id=HUB)


def answer_edi(folder: Path, inbox: Path, tracking: str, numbers: x12.InMemoryControlNumbers) -> None:
    """Write a 997 for each 850 file, then an 855, an 856 and an 810 for every PO, into ``folder``."""
    envelope = supplier_envelope()
    for path in sorted(inbox.glob("850_*.x12")):
        result = x12.read(path.read_bytes())
        acks = [x12.acknowledge(group) for group in result.groups]
        (folder / f"997_for_{path.stem}.x12").write_bytes(x12.write(acks, envelope=envelope, control_numbers=numbers))
    acks, notices, invoices = [], [], []
    for _, po in read_850s(inbox):
        lines = [
            x12.OrderLine(
                identifiers=line.identifiers,
                line_number=line.line_number,
                quantity=line.quantity,
                unit_price=line.unit_price,
                price_basis="PE",
                statuses=[x12.LineStatus("IA", line.quantity, "EA")],
            )
            for line in po.lines
        ]
        acks.append(x12.PurchaseOrderAck(acknowledgment_type="AD", po_number=po.number, po_date=po.date, lines=lines))
        levels = [
            x12.ShipLevel("1", "", "S", carriers=[x12.Carrier("O", "2", "UPSN", "M", "UPS GROUND")],
                          dates=[x12.DateTime("011", "20250502")]),
            x12.ShipLevel("2", "1", "O", purchase_order=po.number),
            x12.ShipLevel("3", "2", "P", marks=[x12.Mark("2I", tracking)]),
        ]  # fmt: skip
        for index, line in enumerate(po.lines, start=4):
            levels.append(
                x12.ShipLevel(
                    str(index),
                    "3",
                    "I",
                    line_number=line.line_number,
                    identifiers=line.identifiers,
                    shipped_quantity=line.quantity,
                    unit="EA",
                )  # fmt: skip
            )
        notices.append(x12.ShipNotice(shipment_id=f"SH-{po.number}", date="20250502", time="1200", levels=levels))
        total = sum((line.unit_price * line.quantity for line in po.lines), Decimal(0))
        invoice_lines = [
            x12.OrderLine(
                identifiers=line.identifiers,
                line_number=line.line_number,
                quantity=line.quantity,
                unit_price=line.unit_price,
                price_basis="PE",
            )  # fmt: skip
            for line in po.lines
        ]
        invoices.append(
            x12.Invoice(
                date="20250503", number=f"INV-{po.number}", po_number=po.number, total=total, lines=invoice_lines
            )
        )
    for name, documents in (("855", acks), ("856", notices), ("810", invoices)):
        data = x12.write(documents, envelope=envelope, control_numbers=numbers)
        (folder / f"{name}_{PARTNER}.x12").write_bytes(data)
