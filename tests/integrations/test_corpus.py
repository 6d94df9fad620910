"""Real partners' 855, 856 and 810 files (../shared/realdata/x12) applied to FRs numbered as their POs."""

from __future__ import annotations

import shutil
from decimal import Decimal

import pytest

from orders.models import FulfillmentRequest, SourceInvoice
from orders.services.fr_status import fr_transition
from sources.models import IntegrationRun, Source
from tests.conftest import REALDATA

from .conftest import Operation, file_connection, integrations, paid_order_fr, run_now, supplier_source

pytestmark = pytest.mark.django_db
FR = FulfillmentRequest
X12 = REALDATA / "x12"


@pytest.fixture
def edi(ftp_server):
    source = supplier_source("Ingram", sku_prefix="", rejected_line_strategy=Source.RejectedLineStrategy.CANCEL)
    made = integrations(source, file_connection(source, "ftp", ftp_server), file_format="x12",
                        edi_receiver_id="043109560")  # fmt: skip
    return source, made, ftp_server.root


def sent_fr(source, number: str, lines: list[tuple]) -> FulfillmentRequest:
    fr = paid_order_fr(source, lines, number=number)
    fr_transition(fr_id=fr.pk, to=FR.Status.PROCESSED, actor_label="test")
    fr.refresh_from_db()
    return fr


def drop(root, name: str) -> None:
    shutil.copy(X12 / name, root / "out" / name)


def test_ingram_855_accepts_backorders_and_rejects(edi):
    source, made, root = edi
    accepted = sent_fr(source, "1712223", [("COL D05517D", 1, "8.20", "043396055179")])
    two_lines = sent_fr(source, "1712245", [("COL D08549D", 1, "5.35"), ("COL D15384D", 1, "5.35")])
    backordered = sent_fr(source, "1712253", [("COL D05517E", 1, "8.20", "043396055179")])
    rejected = sent_fr(source, "1712257", [("SOMETHING", 1, "3.00")])
    drop(root, "855_ingram_coedition.edi")
    run = run_now(made[Operation.GET_FR_ACKNOWLEDGEMENTS])
    assert (run.status, run.created_count) == (IntegrationRun.Status.SUCCEEDED, 4), run.log
    for fr in (accepted, two_lines, backordered, rejected):
        fr.refresh_from_db()
    assert accepted.status == two_lines.status == backordered.status == FR.Status.ACKNOWLEDGED
    assert [line.backordered_quantity for line in backordered.lines.all()] == [1]
    assert (rejected.status, rejected.status_reason) == (FR.Status.CANCELED, "Every line rejected by the source.")
    assert rejected.lines.get().canceled_quantity == 1 and rejected.lines.get().committed_quantity == 0
    assert rejected.acks.get().lines.get().reason == "INVALID CITY/ZIP COMBINATION"
    assert list((root / "archive").iterdir()) == [root / "archive" / "855_ingram_coedition.edi"]
    assert len(list((root / "in").glob("997_*.x12"))) == 1


def test_ingram_856_records_tracking_per_package(edi):
    source, made, root = edi
    frs = [
        sent_fr(source, "1572098", [("WAR DP370462D", 1, "9.00", "883929303526")]),
        sent_fr(source, "1572114", [("PS2 ATL 53038", 1, "9.00", "730865530380")]),
        sent_fr(source, "1572130", [("PS2 ATL 53038X", 1, "9.00", "730865530380")]),
    ]
    drop(root, "856_ingram_coedition.edi")
    run = run_now(made[Operation.GET_SHIPMENTS])
    assert (run.status, run.created_count) == (IntegrationRun.Status.SUCCEEDED, 3), run.log
    for n, fr in enumerate(frs, start=1):
        fr.refresh_from_db()
        shipment = fr.shipments.get()
        assert (shipment.tracking_number, shipment.carrier) == (f"92748900000000000000{n:02d}", "UPS")
        assert fr.shipping_status == FR.ShippingStatus.SHIPPED
        assert shipment.shipped_at.date().isoformat() == "2013-04-01"


def test_malformed_856_gives_row_errors_while_good_transactions_apply(edi):
    source, made, root = edi
    one = sent_fr(
        source, "ordernumber1", [("A913", 24, "1.00", "8712345678913"), ("A906", 36, "1.00", "8712345678906")]
    )
    two = sent_fr(source, "ordernumber2", [("B913", 24, "1.00", "8712345678913"), ("B906", 36, "1.00", "8712345678906"),
                                           ("B920", 24, "1.00", "8712345678920")])  # fmt: skip
    four = sent_fr(source, "ordernumber4", [("C906", 36, "1.00", "8712345678906")])
    untracked = sent_fr(source, "ordernumber", [("D308", 24, "1.00", "499762800308")])
    drop(root, "856_bots_plus_apostrophe.edi")
    run = run_now(made[Operation.GET_SHIPMENTS])
    assert (run.status, run.created_count, run.error_count) == (IntegrationRun.Status.PARTIAL, 3, 1), run.log
    [error] = run.row_errors.all()
    assert "no tracking number" in error.message and error.sku == "ordernumber" and error.row_number == 2
    for fr in (one, two, four):
        fr.refresh_from_db()
        assert fr.shipping_status == FR.ShippingStatus.SHIPPED
    untracked.refresh_from_db()
    assert untracked.shipping_status == FR.ShippingStatus.AWAITING_SHIPMENT
    again = run_now(made[Operation.GET_SHIPMENTS])
    assert (again.status, again.created_count) == (IntegrationRun.Status.SUCCEEDED, 0)


def test_810_invoices_are_matched_three_ways(edi):
    source, made, root = edi
    fr = sent_fr(source, "DO091003", [("ID001", 2, "99.99"), ("ID002", 2, "79.99")])
    for line in fr.lines.all():
        from orders.services.shipments import ShipmentLineRequest, shipment_record

        shipment_record(
            fr_id=fr.pk, tracking_number=f"T-{line.pk}", lines=[ShipmentLineRequest(quantity=2, fr_line_id=line.pk)]
        )
    drop(root, "810_edinet_ariba.edi")
    run = run_now(made[Operation.GET_SOURCE_INVOICES])
    assert (run.status, run.created_count) == (IntegrationRun.Status.SUCCEEDED, 1), (
        run.log,
        list(run.row_errors.values_list("message", flat=True)),
    )
    invoice = SourceInvoice.objects.get(invoice_number="DO091003TESTINV01")
    assert invoice.total == Decimal("365.96") and invoice.charges == Decimal("6.00")
    assert invoice.match_status == SourceInvoice.MatchStatus.MATCHED, invoice.mismatches
