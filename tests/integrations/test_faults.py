"""Faults: a connection dropped mid-upload, a crash between upload and status update, a supplier API that
answers 500, a rejection — each FR ends sent exactly once, or failed with the source's words."""

from __future__ import annotations

import pytest

from flxhub.exceptions import TransientError
from orders.integrations import file_channel
from orders.integrations.send_now import fr_send_now
from orders.models import EdiDocument, FulfillmentRequest
from sources.formats import x12
from sources.models import Connection, IntegrationRun
from tests.factories import ConnectionFactory

from . import supplier as play
from .conftest import Operation, file_connection, integrations, paid_order_fr, run_now, supplier_source

pytestmark = pytest.mark.django_db
FR = FulfillmentRequest
Run = IntegrationRun.Status
SEND = Operation.SEND_FULFILLMENT_REQUESTS


def rest_integrations(supplier):
    source = supplier_source("API supplier")
    connection = ConnectionFactory(
        source=source,
        kind=Connection.Kind.REST,
        url=supplier.url,
        options={"protocol": "generic_json"},
        secrets={"api_token": supplier.token},
    )
    return source, integrations(source, connection, file_format="json")


def test_sftp_connection_dropped_mid_upload_retries_the_fr_once(dropping_sftp_server):
    source = supplier_source("EDI supplier")
    made = integrations(source, file_connection(source, "sftp", dropping_sftp_server), file_format="x12",
                        edi_receiver_id=play.PARTNER)  # fmt: skip
    fr = paid_order_fr(source, [(f"DROP-{n}", 1, "2.00") for n in range(4)])

    with pytest.raises(TransientError):
        run_now(made[SEND])
    assert dropping_sftp_server.thread.dropped == 1
    fr.refresh_from_db()
    assert (fr.status, fr.send_attempt) == (FR.Status.PROCESSING, 1)
    assert list((dropping_sftp_server.root / "in").glob("850_*")) == []

    run = run_now(made[SEND])
    assert (run.status, run.created_count) == (Run.SUCCEEDED, 1), run.log
    fr.refresh_from_db()
    assert (fr.status, fr.send_attempt, fr.submissions.count()) == (FR.Status.PROCESSED, 1, 1)
    [(_, po)] = play.read_850s(dropping_sftp_server.root / "in")
    assert po.number == fr.number
    statuses = sorted(EdiDocument.objects.filter(fulfillment_request=fr).values_list("status", flat=True))
    assert statuses == [EdiDocument.Status.SENT, EdiDocument.Status.UNDELIVERED]
    assert run_now(made[SEND]).created_count == 0


def test_crash_between_upload_and_status_update_is_not_sent_again(ftp_server, monkeypatch):
    source = supplier_source("CSV supplier")
    made = integrations(source, file_connection(source, "ftp", ftp_server), file_format="csv")
    fr = paid_order_fr(source, [("CRASH-A", 2, "5.00")])
    real_finish = file_channel.submission_finish

    def crash(**kwargs):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(file_channel, "submission_finish", crash)
    assert run_now(made[SEND]).status == Run.FAILED
    assert len(list((ftp_server.root / "in").glob("*.csv"))) == 1
    monkeypatch.setattr(file_channel, "submission_finish", real_finish)

    run = run_now(made[SEND])
    assert (run.status, run.created_count, run.unchanged_count) == (Run.SUCCEEDED, 0, 1), run.log
    assert len(list((ftp_server.root / "in").glob("*.csv"))) == 1
    fr.refresh_from_db()
    assert (fr.status, fr.send_attempt) == (FR.Status.PROCESSED, 1)


def test_rest_500_then_200_ends_with_one_submission(json_supplier):
    source, made = rest_integrations(json_supplier)
    fr = paid_order_fr(source, [("API-500", 1, "9.00")])
    json_supplier.fail_next_posts = 1
    with pytest.raises(TransientError):
        run_now(made[SEND])
    run = run_now(made[SEND])
    assert run.status == Run.SUCCEEDED, run.log
    assert [post["number"] for post in json_supplier.posts] == [fr.number]
    fr.refresh_from_db()
    assert (fr.status, fr.send_attempt) == (FR.Status.PROCESSED, 1)


def test_rest_answer_lost_after_the_supplier_stored_the_fr_is_found_not_resent(json_supplier):
    source, made = rest_integrations(json_supplier)
    fr = paid_order_fr(source, [("API-LOST", 1, "9.00")])
    json_supplier.store_then_fail = 1
    json_supplier.outcome = "accepted"
    with pytest.raises(TransientError):
        run_now(made[SEND])
    run = run_now(made[SEND])
    assert (run.status, run.unchanged_count) == (Run.SUCCEEDED, 1), run.log
    assert json_supplier.attempts == 1 and len(json_supplier.posts) == 1
    fr.refresh_from_db()
    assert (fr.status, fr.source_reference) == (FR.Status.ACKNOWLEDGED, f"SUP-{fr.number}")


def test_rest_rejection_fails_the_fr_with_the_suppliers_message(json_supplier):
    source, made = rest_integrations(json_supplier)
    fr = paid_order_fr(source, [("API-REJ", 1, "9.00")])
    json_supplier.reject[fr.number] = "Invalid city/ZIP combination"
    run = run_now(made[SEND])
    assert run.status == Run.SUCCEEDED
    fr.refresh_from_db()
    assert (fr.status, fr.status_reason) == (FR.Status.FAILED, "Invalid city/ZIP combination")


def test_send_one_fr_now_sends_only_that_fr(json_supplier):
    source, _ = rest_integrations(json_supplier)
    first = paid_order_fr(source, [("NOW-A", 1, "1.00")], process=False)
    other = paid_order_fr(source, [("NOW-B", 1, "1.00")])
    run = fr_send_now(fr_id=first.pk)
    assert run.status == Run.SUCCEEDED
    assert [post["number"] for post in json_supplier.posts] == [first.number]
    other.refresh_from_db()
    assert other.status == FR.Status.PROCESSING


def test_an_850_without_a_997_after_the_window_is_flagged(ftp_server):
    source = supplier_source("Slow EDI supplier", ack_window_hours=0)
    made = integrations(source, file_connection(source, "ftp", ftp_server), file_format="x12",
                        edi_receiver_id=play.PARTNER)  # fmt: skip
    fr = paid_order_fr(source, [("SLOW-A", 1, "1.00")])
    run_now(made[SEND])
    run_now(made[Operation.GET_FR_ACKNOWLEDGEMENTS])
    assert EdiDocument.objects.get(kind="850", fulfillment_request=fr).status == EdiDocument.Status.OVERDUE
    assert fr.events.filter(reason__startswith="No 997").exists()
    assert x12.read  # the reader is what the partner would use; nothing arrived
