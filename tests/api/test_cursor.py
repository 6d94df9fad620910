"""The FR change feed under concurrent updates: nothing is skipped, nothing repeats unless it changed."""

import threading

import psycopg
import pytest
from django.db import connection, transaction
from django.utils import timezone

from flxhub.api.pagination import CLOCK_SKEW_MARGIN, HORIZON_SQL, MAX_WRITER_AGE
from orders.models import FulfillmentRequest
from orders.services.fr_status import fr_transition

Status = FulfillmentRequest.Status


def poll(client, cursor=None, limit=5):
    url = f"/api/v1/fulfillment-requests?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
    response = client.get(url)
    assert response.status_code == 200, response.json()
    return response.json()


@pytest.mark.django_db
def test_frs_updated_while_a_client_pages_are_never_skipped(api, tokens, sent_fr):
    frs = [sent_fr(1) for _ in range(23)]
    client = api(tokens.source)
    seen: list[tuple[int, str]] = []
    cursor, touched = None, []
    while True:
        page = poll(client, cursor)
        seen += [(row["id"], row["status"]) for row in page["data"]]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
        # Between pages, others move one FR already read and one not yet read.
        read = {fr_id for fr_id, _ in seen}
        for fr in (
            next((f for f in frs if f.pk in read and f.pk not in touched), None),
            next((f for f in reversed(frs) if f.pk not in read and f.pk not in touched), None),
        ):
            if fr is not None:
                fr_transition(fr_id=fr.pk, to=Status.PROCESSED)
                touched.append(fr.pk)
    ids = [fr_id for fr_id, _ in seen]
    assert set(ids) == {fr.pk for fr in frs}
    # An FR appears twice only if it changed after it was read, and then its last sighting is the new state.
    for fr_id in {i for i in ids if ids.count(i) > 1}:
        assert fr_id in touched and [s for i, s in seen if i == fr_id][-1] == Status.PROCESSED
    # Every change is eventually read in its new state.
    final = {fr_id: status for fr_id, status in seen}
    assert all(final[fr_id] == Status.PROCESSED for fr_id in touched)
    # A poll with the last cursor finds nothing new.
    assert poll(client, cursor)["data"] == []


@pytest.mark.django_db
def test_cursor_from_updated_after_and_a_bad_cursor(api, tokens, sent_fr):
    first, second = sent_fr(1), sent_fr(1)
    client = api(tokens.source)
    page = client.get("/api/v1/fulfillment-requests", {"updated_after": first.updated_at.isoformat()}).json()
    assert [row["id"] for row in page["data"]] == [second.pk]
    bad = client.get("/api/v1/fulfillment-requests?cursor=not-a-cursor")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_cursor"


@pytest.mark.django_db(transaction=True)
def test_a_change_committed_after_a_later_one_is_not_skipped(api, tokens, sent_fr):
    """A writer stamps FR A, a second writer stamps and commits FR B, a client polls, then A commits.

    Ordering by updated_at alone would hand the client B, move its cursor past A's stamp, and lose A.
    """
    fr_a, fr_b = sent_fr(1), sent_fr(1)
    client = api(tokens.source)
    cursor = poll(client)["next_cursor"]
    stamped, release, done = threading.Event(), threading.Event(), threading.Event()

    def slow_writer():
        try:
            with transaction.atomic():
                fr_transition(fr_id=fr_a.pk, to=Status.PROCESSED)
                stamped.set()
                release.wait(timeout=30)
        finally:
            connection.close()
            done.set()

    thread = threading.Thread(target=slow_writer)
    thread.start()
    try:
        assert stamped.wait(timeout=30)
        # A second writer that commits at once. (A plain update: fr_transition locks the FR's source row too,
        # so two transitions of one source's FRs would queue behind each other instead of overlapping.)
        FulfillmentRequest.objects.filter(pk=fr_b.pk).update(status_reason="changed", updated_at=timezone.now())
        page = poll(client, cursor)
        assert fr_b.pk not in [row["id"] for row in page["data"]]  # held back behind the open writer
        cursor = page["next_cursor"]
    finally:
        release.set()
        thread.join(timeout=30)
    assert done.is_set()
    page = poll(client, cursor)
    assert [row["id"] for row in page["data"]] == [fr_a.pk, fr_b.pk]


@pytest.mark.django_db(transaction=True)
def test_a_writer_gone_between_the_snapshot_and_the_activity_read_holds_the_page_back_all_the_way():
    """The snapshot saw a writer in progress; by the time the writers are read it has committed, start unknown.

    A repeatable-read transaction keeps the snapshot of its first statement, so the horizon read in a later one
    sees a snapshot from before the writer's commit and an activity table from after it.
    """
    settings = connection.settings_dict
    dsn = f"dbname={settings['NAME']} user={settings['USER']} host={settings['HOST']} port={settings['PORT'] or 5432}"
    with psycopg.connect(dsn, autocommit=True) as writer, psycopg.connect(dsn, autocommit=True) as later_writer:
        writer.execute("BEGIN")
        ((writer_xid,),) = writer.execute("SELECT pg_current_xact_id()::text").fetchall()
        # A later transaction that completes puts the writer below the snapshot's xmax, among its in-progress ones.
        later_writer.execute("BEGIN")
        later_writer.execute("SELECT pg_current_xact_id()")
        later_writer.execute("COMMIT")
        with psycopg.connect(dsn) as reader:
            reader.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            ((in_progress,),) = reader.execute(
                "SELECT array_agg(xid::text) FROM pg_snapshot_xip(pg_current_snapshot()) AS xid"
            ).fetchall()
            writer.execute("COMMIT")
            ((horizon, now),) = reader.execute(f"SELECT ({HORIZON_SQL}), statement_timestamp()").fetchall()
    assert writer_xid in in_progress
    assert horizon == now - MAX_WRITER_AGE - CLOCK_SKEW_MARGIN
