"""The dashboard: what needs attention today (counts linking to filtered lists), stale stock, sync history charts."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from orders.dashboard import bar_chart
from orders.models import FulfillmentRequest, SourceInvoice
from orders.selectors.dashboard import dashboard_attention, fr_attention_counts, sources_with_stale_stock
from sources.models import Integration, IntegrationRun
from sources.selectors import SyncPoint
from tests.factories import IntegrationFactory, SourceFactory, VariantFactory

Status = IntegrationRun.Status
PRIMARY = Integration.Operation.GET_INVENTORY_PRIMARY


def make_run(integration, status, *, hours_ago=1, created=0, updated=0, seconds=30):
    """A finished run row as the run machinery leaves it (the machinery itself is tested in tests/sources)."""
    finished = timezone.now() - timedelta(hours=hours_ago)
    run = IntegrationRun.objects.create(integration=integration, status=status, created_count=created)
    IntegrationRun.objects.filter(pk=run.pk).update(
        queued_at=finished - timedelta(seconds=seconds),
        started_at=finished - timedelta(seconds=seconds),
        finished_at=finished,
        updated_count=updated,
        message=f"{status} run",
    )
    run.refresh_from_db()
    return run


@pytest.mark.django_db
def test_fr_attention_counts_unprocessed_failed_and_on_hold(make_fr):
    frs = [make_fr((VariantFactory(), 1)) for _ in range(4)]
    FulfillmentRequest.objects.filter(pk=frs[1].pk).update(status="failed")
    FulfillmentRequest.objects.filter(pk__in=[frs[2].pk, frs[3].pk]).update(status="on_hold")
    assert fr_attention_counts() == {"unprocessed": 1, "failed": 1, "on_hold": 2}


@pytest.mark.django_db
def test_stale_stock_flags_never_synced_old_and_missing_quantities_per_source_age_limit():
    now = timezone.now()
    fresh = VariantFactory(source__name="Fresh", quantity_updated_at=now - timedelta(hours=2)).source
    old = VariantFactory(source__name="Old", quantity_updated_at=now - timedelta(hours=30)).source
    strict = VariantFactory(
        source__name="Strict", source__max_stock_age_hours=1, quantity_updated_at=now - timedelta(hours=2)
    ).source
    VariantFactory(source__name="No quantity", quantity_updated_at=None)
    VariantFactory(source__name="Inactive", source__is_active=False, quantity_updated_at=None)
    never = IntegrationFactory(operation=PRIMARY, source__name="Never synced")
    make_run(never, Status.FAILED)
    synced = IntegrationFactory(operation=PRIMARY, source=fresh)
    make_run(synced, Status.SUCCEEDED)
    SourceFactory(name="Orders only")  # no stock integration, no inventory: nothing to be stale

    stale = {s.source.name: s.reason for s in sources_with_stale_stock(now=now)}
    assert stale == {
        "Never synced": "no successful Get Inventory run yet",
        "No quantity": "no quantity received yet",
        "Old": "last quantity update 30 h ago (limit 24 h)",
        "Strict": "last quantity update 2 h ago (limit 1 h)",
    }
    assert old.pk and strict.pk


@pytest.mark.django_db
def test_dashboard_attention_gathers_everything_in_one_place(make_fr):
    integration = IntegrationFactory(operation=PRIMARY)
    make_run(integration, Status.FAILED, hours_ago=2)
    make_run(integration, Status.FAILED, hours_ago=30)  # older than a day: not today's problem
    held = make_run(IntegrationFactory(operation=PRIMARY), Status.HELD)
    fr = make_fr((VariantFactory(quantity_updated_at=timezone.now()), 1))
    FulfillmentRequest.objects.filter(pk=fr.pk).update(status="processed", sent_at=timezone.now() - timedelta(days=3))
    SourceInvoice.objects.create(
        source=fr.source, fulfillment_request=fr, invoice_number="INV-1", total=Decimal("9.00"), match_status="mismatch"
    )
    attention = dashboard_attention()
    assert [r.message for r in attention.failed_runs] == ["failed run"]
    assert attention.held_runs == [held]
    assert attention.overdue == {"ack_overdue": 1, "ship_overdue": 0, "total": 1}
    assert attention.invoice_mismatches == 1
    assert attention.total >= 4


@pytest.mark.django_db
def test_dashboard_page_links_each_count_to_its_filtered_list(admin_client, make_fr):
    integration = IntegrationFactory(operation=PRIMARY, source__name="Acme")
    failed = make_run(integration, Status.FAILED)
    on_hold = make_fr((VariantFactory(), 1))
    FulfillmentRequest.objects.filter(pk=on_hold.pk).update(status="on_hold")
    body = admin_client.get("/dashboard/").content.decode()
    for href in (
        "/frs/?status=unprocessed",
        "/frs/?status=failed",
        "/frs/?status=on_hold",
        "/frs/?overdue=1",
        "/runs/?status=failed",
        "/runs/?status=held",
        "/admin/orders/sourceinvoice/?match_status__exact=mismatch",
    ):
        assert f'href="{href}"' in body, href
    assert f'href="/runs/{failed.pk}/"' in body and "failed run" in body
    assert "Acme: no successful Get Inventory run yet" in body.replace("</a>", "")
    assert "<script" not in body and "cdn" not in body.lower()


@pytest.mark.django_db
def test_dashboard_says_all_clear_when_nothing_needs_attention(admin_client):
    body = admin_client.get("/dashboard/").content.decode()
    assert 'data-testid="all-clear"' in body and "No inventory syncs have finished yet." in body


@pytest.mark.django_db
def test_landing_page_is_the_dashboard_and_needs_staff(client, admin_client):
    assert admin_client.get("/").url == "/dashboard/"
    assert client.get("/dashboard/").status_code == 302 and "/admin/login/" in client.get("/dashboard/").url


@pytest.mark.django_db
def test_dashboard_draws_sync_history_as_inline_svg_bars_per_source(admin_client):
    integration = IntegrationFactory(operation=PRIMARY, source__name="Acme")
    small = make_run(integration, Status.SUCCEEDED, hours_ago=3, created=10, seconds=20)
    big = make_run(integration, Status.SUCCEEDED, hours_ago=2, created=30, updated=10, seconds=40)
    body = admin_client.get("/dashboard/").content.decode()
    assert body.count("<svg") == 2 and 'aria-label="Acme: Rows changed per run"' in body
    assert f'href="/runs/{big.pk}/"' in body and f'href="/runs/{small.pk}/"' in body
    assert "40 rows" in body and "40.0 s" in body and "(max 40 rows)" in body


def test_bar_chart_scales_bars_to_the_largest_value():
    now = timezone.now()
    points = [
        SyncPoint(1, now, 0, 5.0, "failed"),
        SyncPoint(2, now, 50, 10.0, "succeeded"),
        SyncPoint(3, now, 100, 2.5, "succeeded"),
    ]
    rows = bar_chart(points, value="rows_changed", title="Rows", unit="rows")
    assert [b.height for b in rows.bars] == [1.0, 40.0, 80.0]  # a zero stays visible as a 1-px bar
    assert [b.y for b in rows.bars] == [79.0, 40.0, 0.0]
    assert rows.bars[1].x > rows.bars[0].x and rows.max_value == 100
    assert rows.bars[0].status == "failed" and "Run 1 (failed" in rows.bars[0].label
    duration = bar_chart(points, value="duration_seconds", title="Duration", unit="s")
    assert [b.height for b in duration.bars] == [40.0, 80.0, 20.0] and "10.0 s" in duration.bars[1].label
    assert bar_chart([], value="rows_changed", title="Rows", unit="rows").bars == []
