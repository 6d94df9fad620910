"""Integration run pages: lists with filters, run detail with live progress, Run now / Release / Retry, row errors
CSV; the run selectors; and the operator permission split (the browser flow is in tests/browser)."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from flxhub.exceptions import ApplicationError
from orders.models import ApiToken
from sources import runners
from sources.models import Connection, GlobalSettings, Integration, IntegrationRun
from sources.runners import RunHeld
from sources.selectors import (
    run_progress,
    runs_failed_since,
    runs_held,
    source_last_stock_runs,
    source_sync_history,
)
from sources.services.runs import integration_trigger, run_execute
from tests.factories import ConnectionFactory, IntegrationFactory, SourceFactory
from tests.sources.test_runs import Err

Status = IntegrationRun.Status
OPERATION = Integration.Operation.GET_INVENTORY_IMAGES


@pytest.fixture
def runner(monkeypatch):
    """Register a runner for OPERATION that logs "done" unless the test sets another behaviour."""
    monkeypatch.setattr(runners, "_RUNNERS", dict(runners._RUNNERS))
    behaviour = {"fn": lambda ctx: ctx.log("done")}
    runners.register_runner(OPERATION, lambda ctx: behaviour["fn"](ctx))
    return behaviour


@pytest.fixture
def integration(db):
    return IntegrationFactory(operation=OPERATION, source__name="Acme Supply")


def execute(integration, **kwargs) -> IntegrationRun:
    return run_execute(run_id=integration_trigger(integration_id=integration.pk, enqueue=False, **kwargs).pk)


def fail(message):
    def fn(ctx):
        raise ApplicationError(message)

    return fn


@pytest.fixture
def operator(django_user_model):
    return django_user_model.objects.create_user(username="operator", password="pw", is_staff=True)


@pytest.fixture
def operator_client(client, operator):
    client.force_login(operator)
    return client


# Lists


@pytest.mark.django_db
def test_run_list_filters_by_source_operation_and_status(admin_client, runner, integration):
    other = IntegrationFactory(operation=Integration.Operation.GET_INVENTORY_PRIMARY, source__name="Other Co")
    ok = execute(integration)
    runner["fn"] = fail("Feed URL not found (404)")
    failed = execute(integration)
    queued = integration_trigger(integration_id=other.pk, enqueue=False)

    def shown(query):
        body = admin_client.get("/runs/" + query).content.decode()
        return {run.pk for run in (ok, failed, queued) if f'data-run="{run.pk}"' in body}

    assert shown("") == {ok.pk, failed.pk, queued.pk}
    assert shown(f"?source={integration.source_id}") == {ok.pk, failed.pk}
    assert shown("?operation=get_inventory_primary") == {queued.pk}
    assert shown("?status=failed") == {failed.pk}
    assert shown(f"?source={integration.source_id}&status=queued") == set()


@pytest.mark.django_db
def test_source_runs_page_lists_its_integrations_with_run_now_and_only_its_runs(admin_client, runner, integration):
    mine = execute(integration)
    theirs = execute(IntegrationFactory(operation=OPERATION))
    body = admin_client.get(f"/sources/{integration.source_id}/runs/").content.decode()
    assert "Acme Supply · integration runs" in body
    assert reverse("sources:integration_run_now", args=[integration.pk]) in body
    assert f'data-run="{mine.pk}"' in body and f'data-run="{theirs.pk}"' not in body
    assert admin_client.get("/sources/999999/runs/").status_code == 404


@pytest.mark.django_db
def test_run_list_refuses_a_source_filter_that_is_not_an_id(admin_client):
    response = admin_client.get("/runs/?source=abc", follow=True)
    assert "is no source id" in response.content.decode()


@pytest.mark.django_db
def test_run_pages_need_a_staff_login(client, django_user_model, integration):
    run = integration_trigger(integration_id=integration.pk, enqueue=False)
    client.force_login(django_user_model.objects.create_user(username="customer", password="pw"))
    for url in ("/runs/", f"/runs/{run.pk}/", f"/runs/{run.pk}/live/", f"/sources/{integration.source_id}/runs/"):
        assert client.get(url).status_code == 302, url
    assert client.post(f"/integrations/{integration.pk}/run/").status_code == 302
    assert IntegrationRun.objects.count() == 1


# Detail


@pytest.mark.django_db
def test_finished_run_shows_counts_log_message_input_and_row_errors_csv(operator_client, runner, integration):
    def fn(ctx):
        ctx.set_input(name="images.zip", size=2048, digest="ab" * 32)
        ctx.counts.update(read=3, created=2)
        ctx.row_errors([Err(2, "A-1", "upc", "3.65275E+11", "UPC in scientific notation")])
        ctx.progress(3, 3)
        ctx.log("read 3 images")

    runner["fn"] = fn
    run = execute(integration)
    body = operator_client.get(f"/runs/{run.pk}/").content.decode()
    assert 'data-status="partial"' in body and "hx-trigger" not in body  # finished: no polling
    assert "read 3 images" in body and "<td>3</td><td>2</td>" in body
    assert "images.zip" in body and "2048 bytes" in body and "ab" * 32 in body
    csv_url = reverse("sources:run_row_errors", args=[run.pk])
    assert csv_url in body and "Download 1 row error (CSV)" in body
    response = operator_client.get(csv_url)
    assert response["Content-Disposition"] == f'attachment; filename="run-{run.pk}-row-errors.csv"'
    assert b"".join(response.streaming_content).decode().splitlines() == [
        "row,sku,field,value,message",
        "2,A-1,upc,3.65275E+11,UPC in scientific notation",
    ]


@pytest.mark.django_db
def test_running_run_polls_its_live_part_with_progress_rate_and_time_left(operator_client, integration):
    run = integration_trigger(integration_id=integration.pk, enqueue=False)
    IntegrationRun.objects.filter(pk=run.pk).update(
        status=Status.RUNNING, started_at=timezone.now() - timedelta(seconds=10), progress_done=250, progress_total=1000
    )
    page = operator_client.get(f"/runs/{run.pk}/").content.decode()
    live_url = reverse("sources:run_live", args=[run.pk])
    assert f'hx-get="{live_url}" hx-trigger="every 1s"' in page
    assert "htmx" in page and "cdn" not in page.lower()
    live = operator_client.get(live_url).content.decode()
    assert live.lstrip().startswith('<section id="run-live"') and "<html" not in live
    assert 'aria-valuenow="25"' in live and "250 / 1000 rows · 25 %" in live
    assert "rows/s" in live and "left" in live and "hx-trigger" in live

    IntegrationRun.objects.filter(pk=run.pk).update(
        status=Status.SUCCEEDED, progress_done=1000, finished_at=timezone.now()
    )
    live = operator_client.get(live_url).content.decode()
    assert 'aria-valuenow="100"' in live and "hx-trigger" not in live  # the swap ends the polling


@pytest.mark.django_db
def test_run_progress_rate_and_time_left(integration):
    run = integration_trigger(integration_id=integration.pk, enqueue=False)
    now = timezone.now()
    run.status, run.started_at, run.progress_done, run.progress_total = (
        Status.RUNNING,
        now - timedelta(seconds=20),
        400,
        1000,
    )
    progress = run_progress(run=run, now=now)
    assert (progress.percent, progress.rate, progress.seconds_left, progress.time_left) == (40, 20.0, 30, "30 s")
    assert progress.is_live
    run.progress_total = None
    assert run_progress(run=run, now=now).percent is None and run_progress(run=run, now=now).seconds_left is None
    run.status, run.finished_at = Status.SUCCEEDED, now
    assert run_progress(run=run, now=now + timedelta(hours=1)).elapsed == "20 s"


# Actions


@pytest.mark.django_db
def test_run_now_queues_a_manual_run_and_opens_it(operator_client, integration, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = operator_client.post(f"/integrations/{integration.pk}/run/", follow=True)
    run = IntegrationRun.objects.get()
    assert (run.status, run.trigger, run.integration_id) == (Status.QUEUED, "manual", integration.pk)
    assert len(callbacks) == 1  # its task is enqueued after commit
    assert response.redirect_chain[-1][0] == f"/runs/{run.pk}/"
    assert f"Queued run {run.pk} of" in response.content.decode()
    assert operator_client.get(f"/integrations/{integration.pk}/run/").status_code == 405


@pytest.mark.django_db
def test_release_held_feed_queues_a_forced_run_once(operator_client, runner, integration):
    def fn(ctx):
        if not ctx.run.force:
            raise RunHeld("Feed would archive 80% of active variants (threshold 50%).")
        ctx.log("applied")

    runner["fn"] = fn
    held = execute(integration)
    page = operator_client.get(f"/runs/{held.pk}/").content.decode()
    assert "Release held feed" in page and "archive 80%" in page
    response = operator_client.post(f"/runs/{held.pk}/release/", follow=True)
    released = IntegrationRun.objects.exclude(pk=held.pk).get()
    assert released.force and response.redirect_chain[-1][0] == f"/runs/{released.pk}/"
    assert f"released as run {released.pk}" in response.content.decode()
    assert "Release held feed" not in operator_client.get(f"/runs/{held.pk}/").content.decode()
    again = operator_client.post(f"/runs/{held.pk}/release/", follow=True)
    assert "already released" in again.content.decode() and IntegrationRun.objects.count() == 2
    assert run_execute(run_id=released.pk).status == Status.SUCCEEDED


@pytest.mark.django_db
def test_retry_of_a_failed_run_queues_a_new_run(operator_client, runner, integration):
    runner["fn"] = fail("Feed URL not found (404)")
    failed = execute(integration)
    assert "Retry" in operator_client.get(f"/runs/{failed.pk}/").content.decode()
    response = operator_client.post(f"/runs/{failed.pk}/retry/", follow=True)
    retry = IntegrationRun.objects.exclude(pk=failed.pk).get()
    assert (retry.status, retry.integration_id) == (Status.QUEUED, integration.pk)
    assert f"Retrying run {failed.pk} as run {retry.pk}" in response.content.decode()


@pytest.mark.django_db
def test_only_failed_runs_are_retried_and_only_held_ones_released(operator_client, runner, integration):
    done = execute(integration)
    page = operator_client.get(f"/runs/{done.pk}/").content.decode()
    assert ">Retry<" not in page and "Release held feed" not in page
    assert "only failed runs" in operator_client.post(f"/runs/{done.pk}/retry/", follow=True).content.decode()
    assert "not held" in operator_client.post(f"/runs/{done.pk}/release/", follow=True).content.decode()
    assert IntegrationRun.objects.count() == 1


# Selectors for the dashboard


@pytest.mark.django_db
def test_failed_and_held_selectors_skip_old_failures_and_released_holds(runner, integration):
    runner["fn"] = fail("boom")
    old = execute(integration)
    IntegrationRun.objects.filter(pk=old.pk).update(queued_at=timezone.now() - timedelta(days=2))
    recent = execute(integration)
    assert list(runs_failed_since(since=timezone.now() - timedelta(hours=24))) == [recent]

    def hold(ctx):
        raise RunHeld("held")

    runner["fn"] = hold
    held = execute(integration)
    other_held = execute(IntegrationFactory(operation=OPERATION))
    assert set(runs_held()) == {held, other_held}
    integration_trigger(integration_id=integration.pk, enqueue=False)  # a release or a later run supersedes it
    assert list(runs_held()) == [other_held]


@pytest.mark.django_db
def test_last_stock_run_per_source_counts_only_successful_inventory_runs(monkeypatch):
    monkeypatch.setattr(runners, "_RUNNERS", dict(runners._RUNNERS))
    primary = Integration.Operation.GET_INVENTORY_PRIMARY
    outcome = {"fail": False}

    def fn(ctx):
        if outcome["fail"]:
            raise ApplicationError("down")

    runners.register_runner(primary, fn)
    synced = IntegrationFactory(operation=primary)
    never = IntegrationFactory(operation=primary)
    IntegrationFactory(operation=OPERATION)  # images only: not a stock source
    good = execute(synced)
    outcome["fail"] = True
    execute(synced)
    execute(never)
    assert source_last_stock_runs() == {synced.source_id: good.finished_at, never.source_id: None}


@pytest.mark.django_db
def test_sync_history_keeps_the_last_runs_per_source_oldest_first(runner, integration):
    def fn(ctx):
        ctx.counts.update(created=1, updated=2, archived=3, unchanged=10)

    runner["fn"] = fn
    runs = [execute(integration) for _ in range(4)]
    skipped = integration_trigger(integration_id=integration.pk, enqueue=False)
    IntegrationRun.objects.filter(pk=skipped.pk).update(
        status=Status.SKIPPED, started_at=timezone.now(), finished_at=timezone.now()
    )
    history = source_sync_history(per_source=3)
    points = history[integration.source_id]
    assert [p.run_id for p in points] == [r.pk for r in runs[1:]]
    assert all(p.rows_changed == 6 and p.duration_seconds >= 0 for p in points)


# Permissions: operators run and handle; only admins touch credentials, tokens and global settings


@pytest.mark.django_db
def test_operator_group_handles_the_daily_work_but_never_credentials_tokens_settings_or_deletes():
    call_command("ensure_operator_group", stdout=open("/dev/null", "w"))
    call_command("ensure_operator_group", stdout=open("/dev/null", "w"))  # idempotent
    codenames = set(Permission.objects.filter(group__name="Operators").values_list("codename", flat=True))
    assert {"view_connection", "view_integrationrun", "view_fulfillmentrequest", "view_globalsettings"} <= codenames
    assert {"change_fulfillmentrequest", "change_order", "change_integrationrun"} <= codenames
    assert {"add_source", "change_source", "add_integration", "add_mappingtemplate"} <= codenames
    assert {"change_inventoryvariant", "add_product", "add_exclusionrule"} <= codenames
    for model in ("connection", "apitoken", "globalsettings"):
        assert not {f"add_{model}", f"change_{model}", f"delete_{model}"} & codenames
    assert "view_apitoken" not in codenames and not any(c.startswith("delete_") for c in codenames)


@pytest.fixture
def grouped_operator(operator):
    from django.contrib.auth.models import Group

    call_command("ensure_operator_group", stdout=open("/dev/null", "w"))
    operator.groups.add(Group.objects.get(name="Operators"))
    return operator


@pytest.mark.django_db
def test_operator_cannot_change_a_connection_or_see_its_secrets(client, grouped_operator):
    connection = ConnectionFactory(
        kind=Connection.Kind.SFTP, host="sftp.example.com", username="acme", secrets={"password": "s3cret-pw"}
    )
    client.force_login(grouped_operator)
    url = reverse("admin:sources_connection_change", args=[connection.pk])
    page = client.get(url)
    body = page.content.decode()
    assert page.status_code == 200 and "sftp.example.com" in body  # view only
    assert 'name="_save"' not in body and 'name="new_secrets"' not in body and "s3cret-pw" not in body
    assert client.post(url, {"source": connection.source_id, "name": "x", "kind": "ftp"}).status_code == 403
    assert client.get(reverse("admin:sources_connection_add")).status_code == 403
    settings_url = reverse("admin:sources_globalsettings_change", args=[GlobalSettings.load().pk])
    assert 'name="_save"' not in client.get(settings_url).content.decode()
    assert client.post(settings_url, {"sku_limit": 1}).status_code == 403
    connection.refresh_from_db()
    assert (connection.kind, connection.secrets) == ("sftp", {"password": "s3cret-pw"})


@pytest.mark.django_db
def test_operator_cannot_open_api_tokens_in_the_admin(client, grouped_operator):
    token = ApiToken.objects.create(
        name="acme feed", kind=ApiToken.Kind.SOURCE, prefix="fx_abc123", key_hash="0" * 64, source=SourceFactory()
    )
    client.force_login(grouped_operator)
    assert client.get(reverse("admin:orders_apitoken_change", args=[token.pk])).status_code == 403
    assert client.get(reverse("admin:orders_apitoken_changelist")).status_code == 403


@pytest.mark.django_db
def test_staff_without_permissions_cannot_open_connection_or_token_change_pages(operator_client):
    connection = ConnectionFactory(secrets={"api_token": "tok"})
    token = ApiToken.objects.create(name="t", kind=ApiToken.Kind.ACCOUNT, prefix="fx_zzz", key_hash="1" * 64)
    assert operator_client.get(reverse("admin:sources_connection_change", args=[connection.pk])).status_code == 403
    assert operator_client.get(reverse("admin:orders_apitoken_change", args=[token.pk])).status_code == 403


@pytest.mark.django_db
def test_operator_opens_runs_and_runs_now_without_superuser(client, grouped_operator, integration):
    assert not grouped_operator.is_superuser
    client.force_login(grouped_operator)
    assert client.get("/runs/").status_code == 200
    client.post(f"/integrations/{integration.pk}/run/")
    assert IntegrationRun.objects.filter(integration=integration, trigger="manual").count() == 1
