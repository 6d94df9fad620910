"""An operator watches a run's progress bar move live (no reload) and sees what needs attention on the dashboard."""

import threading

import pytest
from django.db import connection
from playwright.sync_api import expect

from flxhub.exceptions import ApplicationError
from sources import runners
from sources.models import Integration, IntegrationRun
from sources.runners import RunHeld
from sources.services.runs import integration_trigger, run_execute
from tests.factories import IntegrationFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
OPERATION = Integration.Operation.GET_INVENTORY_IMAGES
STEPS = 4


@pytest.fixture
def stepped_runner(monkeypatch):
    """A runner for OPERATION that reports one more step of progress each time the test releases it."""
    monkeypatch.setattr(runners, "_RUNNERS", dict(runners._RUNNERS))
    gate = threading.Semaphore(0)
    behaviour = {"mode": "stepped"}

    def run(ctx):
        if behaviour["mode"] == "fail":
            raise ApplicationError("SFTP login refused for user acme")
        if behaviour["mode"] == "hold" and not ctx.run.force:
            raise RunHeld("Feed would archive 80% of active variants (threshold 50%).")
        if behaviour["mode"] == "quick":
            ctx.counts.update(read=120, created=20, updated=100)
            return
        ctx.set_input(name="images.zip", size=4096, digest="c0ffee" * 10 + "abcd")
        ctx.progress(0, STEPS)
        for step in range(1, STEPS + 1):
            if not gate.acquire(timeout=30):
                raise ApplicationError("the test never released the next step")
            ctx.progress(step, STEPS)
        ctx.counts.update(read=STEPS, created=STEPS)
        ctx.log(f"stored {STEPS} images")

    runners.register_runner(OPERATION, run)
    behaviour["gate"] = gate
    return behaviour


def execute_in_background(run_id: int) -> threading.Thread:
    def target():
        try:
            run_execute(run_id=run_id)
        finally:
            connection.close()

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def test_run_progress_bar_moves_to_100_percent_without_a_reload(operator_page, live_server, stepped_runner, artifacts):
    page = operator_page
    integration = IntegrationFactory(operation=OPERATION, source__name="Acme Images")
    run = integration_trigger(integration_id=integration.pk, enqueue=False)
    page.goto(f"{live_server.url}/runs/{run.pk}/")
    page.evaluate("window.loadedOnce = 'first load'")
    live = page.get_by_test_id("run-live")
    expect(live.get_by_test_id("run-status")).to_have_text("queued")

    worker = execute_in_background(run.pk)
    bar = page.get_by_role("progressbar", name="run progress")
    expect(live.get_by_test_id("run-status")).to_have_text("running")
    expect(bar).to_have_attribute("aria-valuenow", "0")
    for step in range(1, STEPS + 1):
        stepped_runner["gate"].release()
        expect(bar).to_have_attribute("aria-valuenow", str(100 * step // STEPS))
        if step == 2:
            expect(page.get_by_test_id("run-progress-text")).to_contain_text(f"2 / {STEPS} rows · 50 %")
            expect(page.get_by_test_id("run-progress-text")).to_contain_text("rows/s")
            page.screenshot(path=str(artifacts / "run-progress-half.png"), full_page=True)
    worker.join(timeout=30)

    expect(live.get_by_test_id("run-status")).to_have_text("succeeded")
    expect(page.get_by_test_id("run-counts")).to_contain_text(str(STEPS))
    expect(page.get_by_test_id("run-log")).to_contain_text(f"stored {STEPS} images")
    expect(page.get_by_test_id("run-input")).to_contain_text("images.zip")
    assert page.evaluate("window.loadedOnce") == "first load"  # the same document throughout: no reload
    assert page.evaluate("performance.getEntriesByType('navigation').map(e => e.type)") == ["navigate"]
    expect(live).not_to_have_attribute("hx-trigger", "every 1s")  # polling stopped
    page.screenshot(path=str(artifacts / "run-progress-done.png"), full_page=True)
    assert IntegrationRun.objects.get(pk=run.pk).status == "succeeded"


def test_operator_runs_now_retries_a_failed_run_and_releases_a_held_feed(
    operator_page, live_server, stepped_runner, artifacts
):
    page = operator_page
    integration = IntegrationFactory(operation=OPERATION, source__name="Acme Images")
    page.goto(f"{live_server.url}/sources/{integration.source_id}/runs/")
    page.get_by_role("button", name=f"Run {integration} now").click()
    expect(page.locator(".messages")).to_contain_text("Queued run")
    queued = IntegrationRun.objects.get()
    assert page.url == f"{live_server.url}/runs/{queued.pk}/"

    stepped_runner["mode"] = "fail"
    failed = run_execute(run_id=queued.pk)
    page.reload()
    expect(page.get_by_test_id("run-message")).to_have_text("SFTP login refused for user acme")
    page.get_by_role("button", name="Retry").click()
    expect(page.locator(".messages")).to_contain_text(f"Retrying run {failed.pk} as run")

    stepped_runner["mode"] = "hold"
    retry = IntegrationRun.objects.exclude(pk=failed.pk).get()
    held = run_execute(run_id=retry.pk)
    page.goto(f"{live_server.url}/runs/{held.pk}/")
    expect(page.get_by_test_id("run-status")).to_have_text("held")
    page.screenshot(path=str(artifacts / "run-held.png"), full_page=True)
    page.get_by_role("button", name="Release held feed").click()
    expect(page.locator(".messages")).to_contain_text(f"Held run {held.pk} released as run")
    released = IntegrationRun.objects.order_by("-pk").first()
    assert released.force and released.status == "queued"

    page.goto(f"{live_server.url}/runs/?status=failed")
    expect(page.get_by_test_id("runs").locator("tbody tr")).to_have_count(1)
    page.screenshot(path=str(artifacts / "runs-list.png"), full_page=True)


def test_dashboard_shows_failed_runs_and_held_feeds_and_sync_history(
    operator_page, live_server, stepped_runner, make_fr, artifacts
):
    from orders.models import FulfillmentRequest
    from tests.factories import VariantFactory

    page = operator_page
    images = IntegrationFactory(operation=OPERATION, source__name="Acme Images")
    other = IntegrationFactory(operation=OPERATION, source__name="Bolt Supply")
    stepped_runner["mode"] = "quick"
    for integration in (images, images, other):
        run_execute(run_id=integration_trigger(integration_id=integration.pk, enqueue=False).pk)
    stepped_runner["mode"] = "fail"
    failed = run_execute(run_id=integration_trigger(integration_id=images.pk, enqueue=False).pk)
    stepped_runner["mode"] = "hold"
    held = run_execute(run_id=integration_trigger(integration_id=other.pk, enqueue=False).pk)
    on_hold = make_fr((VariantFactory(), 1))
    FulfillmentRequest.objects.filter(pk=on_hold.pk).update(status="on_hold")

    page.goto(f"{live_server.url}/")
    assert page.url == f"{live_server.url}/dashboard/"
    expect(page.get_by_test_id("failed-runs").locator("strong")).to_have_text("1")
    expect(page.get_by_test_id("held-feeds").locator("strong")).to_have_text("1")
    expect(page.get_by_test_id("frs-on-hold").locator("strong")).to_have_text("1")
    expect(page.get_by_test_id("held-run-list")).to_contain_text(f"Run {held.pk}")
    expect(page.get_by_test_id("sync-history")).to_have_count(2)
    expect(page.get_by_role("img", name="Acme Images: Rows changed per run").locator("rect")).to_have_count(3)
    page.screenshot(path=str(artifacts / "dashboard.png"), full_page=True)

    page.get_by_test_id("failed-runs").click()
    expect(page.get_by_test_id("runs").locator("tbody tr")).to_have_count(1)
    expect(page.get_by_test_id("runs").locator(f"tr[data-run='{failed.pk}']")).to_be_visible()
    page.goto(f"{live_server.url}/dashboard/")
    page.get_by_test_id("frs-on-hold").click()
    expect(page.get_by_role("cell", name=on_hold.number, exact=True)).to_be_visible()
