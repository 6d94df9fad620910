"""The full order loop on real servers and a real Celery worker: EDI over SFTP, CSV over FTP, a JSON supplier.

A paid order is generated and processed; scheduled Send FR delivers it; the test plays the supplier; the
scheduled Get Acks / Shipments / Invoices runs apply the answers; the FR ends acknowledged, shipped with the
right tracking number, invoiced and matched, the order closed and its stock released. Every integration then
runs twice more, and nothing is sent or recorded twice.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from inventory.models import InventoryVariant
from orders.models import EdiDocument, FRSubmission, FulfillmentRequest, Order, Shipment, SourceInvoice
from sources.formats import x12
from sources.models import Connection, IntegrationRun
from tests.factories import ConnectionFactory

from . import supplier as play
from .conftest import Operation, file_connection, integrations, paid_order_fr, run_scheduled, supplier_source, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
FR = FulfillmentRequest
GET_OPERATIONS = (Operation.GET_FR_ACKNOWLEDGEMENTS, Operation.GET_SHIPMENTS, Operation.GET_SOURCE_INVOICES)
OK = (IntegrationRun.Status.SUCCEEDED,)


def assert_loop_closed(fr: FulfillmentRequest, tracking: str) -> None:
    fr.refresh_from_db()
    assert fr.status == FR.Status.ACKNOWLEDGED
    assert fr.shipping_status == FR.ShippingStatus.SHIPPED
    assert list(fr.shipments.values_list("tracking_number", flat=True)) == [tracking]
    assert fr.invoice_status == FR.InvoiceStatus.MATCHED
    invoice = fr.invoices.get()
    assert invoice.match_status == SourceInvoice.MatchStatus.MATCHED, invoice.mismatches
    assert all(line.acknowledged_quantity == line.quantity == line.shipped_quantity for line in fr.lines.all())
    wait_for(lambda: Order.objects.get(pk=fr.order_id).status == Order.Status.CLOSED, what="order closed")
    committed = InventoryVariant.objects.filter(fr_lines__fulfillment_request=fr).values_list(
        "committed_quantity", flat=True
    )
    assert list(committed) and set(committed) == {0}


def run_everything_twice_more(queue, made, fr) -> None:
    for _ in range(2):
        for integration in made.values():
            run = run_scheduled(queue, integration)
            assert run.status in OK, (run.status, run.message, list(run.row_errors.values_list("message", flat=True)))
            assert run.created_count == 0, (integration.operation, run.log)
    fr.refresh_from_db()
    assert fr.submissions.count() == 1 and fr.send_attempt == 1
    assert Shipment.objects.filter(fulfillment_request=fr).count() == 1
    assert SourceInvoice.objects.filter(fulfillment_request=fr).count() == 1
    assert fr.acks.count() == 1


def test_csv_files_over_ftp(worker_queue, ftp_server):
    source = supplier_source("CSV supplier")
    made = integrations(
        source,
        file_connection(source, "ftp", ftp_server),
        file_format="csv",
        patterns={
            Operation.GET_FR_ACKNOWLEDGEMENTS: "ack_*.csv",
            Operation.GET_SHIPMENTS: "ship_*.csv",
            Operation.GET_SOURCE_INVOICES: "inv_*.csv",
        },
    )
    fr = paid_order_fr(source, [("CSV-A", 2, "12.50"), ("CSV-B", 1, "3.25")])

    run = run_scheduled(worker_queue, made[Operation.SEND_FULFILLMENT_REQUESTS])
    assert (run.status, run.created_count) == (IntegrationRun.Status.SUCCEEDED, 1), run.log
    fr.refresh_from_db()
    assert fr.status == FR.Status.PROCESSED
    sent = play.read_frs_csv(ftp_server.root / "in")
    assert list(sent) == [fr.number]
    assert {row["shipping_method"] for row in sent[fr.number]} == {"UPS-GND"}
    assert list((ftp_server.root / "in").glob(".*")) == []  # no temporary upload left behind

    play.answer_csv(ftp_server.root / "out", sent, tracking="7489 2201 5566")
    for operation in GET_OPERATIONS:
        run = run_scheduled(worker_queue, made[operation])
        assert (run.status, run.created_count) == (IntegrationRun.Status.SUCCEEDED, 1), (run.message, run.log)
    assert sorted(p.name for p in (ftp_server.root / "archive").iterdir()) == ["ack_1.csv", "inv_1.csv", "ship_1.csv"]
    assert_loop_closed(fr, "7489 2201 5566")
    assert fr.shipments.get().carrier == "FedEx"
    run_everything_twice_more(worker_queue, made, fr)


def test_edi_over_sftp(worker_queue, sftp_server):
    source = supplier_source("EDI supplier")
    made = integrations(
        source, file_connection(source, "sftp", sftp_server), file_format="x12", edi_receiver_id=play.PARTNER
    )
    fr = paid_order_fr(source, [("EDI-A", 3, "12.50"), ("EDI-B", 1, "4.00")])

    run = run_scheduled(worker_queue, made[Operation.SEND_FULFILLMENT_REQUESTS])
    assert (run.status, run.created_count) == (IntegrationRun.Status.SUCCEEDED, 1), run.log
    [(transaction, po)] = play.read_850s(sftp_server.root / "in")
    assert po.number == fr.number and po.carriers[0].carrier_id == "UPS-GND"
    assert [line.identifiers["VN"] for line in po.lines] == list(fr.lines.values_list("sku", flat=True))
    sent = EdiDocument.objects.get(direction="out", kind="850", fulfillment_request=fr)
    assert sent.status == EdiDocument.Status.SENT

    numbers = x12.InMemoryControlNumbers(start=500)
    play.answer_edi(sftp_server.root / "out", sftp_server.root / "in", "1Z999AA10123456784", numbers)
    for operation in GET_OPERATIONS:
        run = run_scheduled(worker_queue, made[operation])
        assert run.status == IntegrationRun.Status.SUCCEEDED, (run.message, run.log)
    sent.refresh_from_db()
    assert sent.status == EdiDocument.Status.ACCEPTED
    # One 997 back for each group received (855, 856 and 810 groups), into the partner's pickup folder.
    answers = [d for p in (sftp_server.root / "in").glob("997_*.x12") for _, d in x12.read(p.read_bytes()).documents()]
    assert sorted(a.functional_id for a in answers) == ["IN", "PR", "SH"]
    assert {a.status for a in answers} == {"A"}
    assert_loop_closed(fr, "1Z999AA10123456784")
    assert fr.shipments.get().carrier == "UPS"
    run_everything_twice_more(worker_queue, made, fr)
    assert len(list((sftp_server.root / "in").glob("850_*.x12"))) == 1
    assert len(list((sftp_server.root / "in").glob("997_*.x12"))) == 3


def test_rest_json_supplier(worker_queue, json_supplier):
    source = supplier_source("JSON supplier")
    connection = ConnectionFactory(
        source=source,
        kind=Connection.Kind.REST,
        url=json_supplier.url,
        options={"protocol": "generic_json"},
        secrets={"api_token": json_supplier.token},
    )
    made = integrations(source, connection, file_format="json")
    fr = paid_order_fr(source, [("API-A", 2, "12.50")])

    run = run_scheduled(worker_queue, made[Operation.SEND_FULFILLMENT_REQUESTS])
    assert (run.status, run.created_count) == (IntegrationRun.Status.SUCCEEDED, 1), run.log
    [posted] = json_supplier.posts
    assert posted["number"] == fr.number and posted["shipping_code"] == "UPS-GND"
    fr.refresh_from_db()
    assert (fr.status, fr.source_reference) == (FR.Status.PROCESSED, f"SUP-{fr.number}")

    line = posted["lines"][0]
    json_supplier.acks[fr.number] = {"lines": [{"sku": line["sku"], "accepted": 2}]}
    json_supplier.shipments[fr.number] = [
        {"tracking_number": "9400111899223856924510", "carrier": "US Postal Service", "shipped_at": "2025-05-02",
         "items": [{"sku": line["sku"], "quantity": 2}]}
    ]  # fmt: skip
    json_supplier.invoices[fr.number] = [
        {
            "invoice_number": "A-100",
            "total": "25.00",
            "lines": [{"sku": line["sku"], "quantity": 2, "unit_cost": "12.50"}],
        }
    ]
    for operation in GET_OPERATIONS:
        run = run_scheduled(worker_queue, made[operation])
        assert (run.status, run.created_count) == (IntegrationRun.Status.SUCCEEDED, 1), (run.message, run.log)
    assert_loop_closed(fr, "9400111899223856924510")
    assert fr.shipments.get().carrier == "USPS"
    run_everything_twice_more(worker_queue, made, fr)
    assert len(json_supplier.posts) == 1 and json_supplier.attempts == 1
    assert FRSubmission.objects.filter(fulfillment_request=fr).count() == 1
    assert Decimal(posted["lines"][0]["unit_cost"]) == Decimal("12.50")
