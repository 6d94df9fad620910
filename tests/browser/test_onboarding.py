"""A new operator onboards a CSV-over-SFTP source end to end in a real browser, against a real SFTP server and a real
Celery worker: directory pick, Test Connection failing then passing, order processing, a mapping template saved from
the editor with its live preview, the SKU prefix, save — and the first run's progress bar reaches 100 %.

The operator is a staff user in the Operators group plus exactly the permissions onboarding needs (add/change
source, change connection, add mapping template) rather than a superuser, so the walk also shows those are enough.
"""

import os
import re
import uuid

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from playwright.sync_api import expect

from flxhub.celery import app as celery_app
from inventory.models import InventoryVariant
from sources.management.commands.ensure_operator_group import GROUP_NAME, operator_group_ensure
from sources.models import Connection, Integration, IntegrationRun, MappingTemplate, Source
from sources.services.directory import directory_entry_get
from sources.services.onboarding import onboarding_setup
from sources.services.onboarding_connection import onboarding_connection_save
from tests.workers import celery_worker_process, database_url_of

pytest_plugins = ["tests.browser.conftest_sftp"]
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
ONBOARDING_PERMISSIONS = ("add_source", "change_source", "change_connection", "add_mappingtemplate")
PASSWORD = "correct horse battery"


@pytest.fixture
def worker_queue(monkeypatch, tmp_path):
    """A Celery worker process on a private queue against this test's database; tasks sent here go to it."""
    queue = f"test-onboarding-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.integrations.worker_settings",
        "DATABASE_URL": database_url_of(connection),
        "FLXHUB_TEST_QUEUE": queue,
    }
    monkeypatch.setitem(celery_app.conf, "task_default_queue", queue)  # the live server's enqueue goes there too
    with celery_worker_process(env, queue=queue, log_path=tmp_path / "worker.log"):
        yield queue


def operator(django_user_model, username: str):
    """A staff user in the Operators group."""
    operator_group_ensure()
    user = django_user_model.objects.create_user(username=username, password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=GROUP_NAME))
    return user


def log_in(page, live_server, user, next_path: str):
    page.goto(f"{live_server.url}/admin/login/?next={next_path}")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}{next_path}")
    return page


@pytest.fixture
def new_operator_page(page, live_server, django_user_model):
    user = operator(django_user_model, "nora")
    user.user_permissions.add(*Permission.objects.filter(codename__in=ONBOARDING_PERMISSIONS))
    return log_in(page, live_server, user, "/sources/")


def htmx_ready(page) -> None:
    """Wait until htmx (loaded deferred) has processed the page, so typing triggers its requests."""
    page.wait_for_function("() => window.htmx !== undefined && document.readyState === 'complete'")


def test_a_new_operator_onboards_a_csv_over_sftp_source_and_watches_the_first_sync(
    new_operator_page, live_server, onboarding_sftp, worker_queue, artifacts
):
    page = new_operator_page
    shot = lambda name: page.screenshot(path=str(artifacts / f"onboarding-{name}.png"), full_page=True)  # noqa: E731

    # Phase 1: pick the connector in the directory (filtered as the operator types), confirm the account.
    page.get_by_test_id("new-source").click()
    htmx_ready(page)
    page.get_by_test_id("directory-search").fill("sftp")
    entries = page.get_by_test_id("directory-entry")
    expect(entries.filter(has_text="US Direct")).to_have_count(0)
    expect(entries.filter(has_text="Generic CSV/XLSX over SFTP")).to_have_count(1)
    entries.filter(has_text="Generic CSV/XLSX over SFTP").click()
    page.get_by_label("Name").fill("Acme Tools")
    page.get_by_label("I confirm we have an account with this supplier").check()
    shot("1-setup")
    page.get_by_role("button", name="Save and continue").click()

    # Phase 2: Test Connection fails with a wrong password, and the phase stays open; then it passes.
    expect(page.locator(".messages")).to_contain_text("initial setup saved")
    source = Source.objects.get(name="Acme Tools")
    page.get_by_label("Host").fill(onboarding_sftp.host)
    page.get_by_label("Port").fill(str(onboarding_sftp.port))
    page.get_by_label("Username").fill(onboarding_sftp.username)
    page.get_by_label("Folder").fill("/outgoing")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_test_id("save-and-test").click()
    verdict = page.get_by_test_id("verdict")
    expect(verdict.locator(".verdict.failed")).to_be_visible()
    expect(page.get_by_test_id("connection-phase-state")).to_contain_text("stays open")
    expect(page.get_by_test_id("secret-password")).to_have_text("set")
    expect(page.locator("[data-phase=connection]").first).to_have_class(re.compile("missing"))
    shot("2-connection-failed")

    page.get_by_label("Password").fill(onboarding_sftp.password)
    page.get_by_test_id("save-and-test").click()
    expect(verdict.locator(".verdict.ok")).to_contain_text("folder /outgoing has 2 files")
    expect(verdict).to_contain_text("Pinned host key")
    expect(page.get_by_test_id("connection-phase-state")).to_contain_text("Connection phase done")
    assert onboarding_sftp.password not in page.content()
    assert Connection.objects.get(source=source).pinned_host_key == onboarding_sftp.host_key
    shot("2-connection-passed")
    page.get_by_role("link", name="Next: order processing").click()

    # Phase 3: FRs sent by hand as CSV files into in/, and one shipping-method row.
    page.get_by_label("This source receives FRs").check()
    page.get_by_label("Send FRs to this source").check()
    page.get_by_label("Send to folder").fill("in")
    page.get_by_label("our method 1").fill("ground")
    page.get_by_label("source's code 1").fill("UPS-GND")
    shot("3-orders")
    page.get_by_role("button", name="Save and continue").click()
    expect(page.locator(".messages")).to_contain_text("Order processing saved")

    # Phase 4: the entry's built-in template is preselected; open it in the editor and save our own version.
    template_select = page.get_by_label("Inventory mapping template")
    builtin = MappingTemplate.objects.get(name="Generic CSV inventory", is_builtin=True)
    expect(template_select).to_have_value(str(builtin.pk))
    page.get_by_test_id("template-new").click()
    htmx_ready(page)
    feed = onboarding_sftp.root / "outgoing" / "inventory_20250101.csv"
    page.get_by_test_id("sample-file").set_input_files(str(feed))
    expect(page.get_by_test_id("preview")).to_contain_text("AC-001")
    expect(page.get_by_test_id("preview")).to_contain_text("Anvil 1")
    page.locator("input[name=name]").fill("Acme inventory")
    shot("4-mapping-editor")
    page.get_by_test_id("save-template").click()

    page.wait_for_url(re.compile(r"/onboarding/finalize/\?.*template=\d+"))
    htmx_ready(page)
    saved = MappingTemplate.objects.get(name="Acme inventory")
    expect(template_select).to_have_value(str(saved.pk))
    page.get_by_label("SKU prefix").fill("ACM-")
    page.get_by_label("Sample SKU from the feed").fill("AC-001")
    expect(page.get_by_test_id("example-master-sku")).to_have_text("ACM-AC-001")  # live, from the server
    page.get_by_label("File pattern").fill("inventory_*.csv")
    page.get_by_label("Schedule").select_option("interval")
    page.get_by_label("Every minutes").fill("60")
    expect(page.get_by_test_id("review")).to_contain_text("tested OK")
    shot("4-finalize")
    page.get_by_test_id("save-and-sync").click()

    # The first sync runs on the worker; its page shows the progress bar reaching 100 %.
    expect(page.locator(".messages")).to_contain_text("the first sync")
    run = IntegrationRun.objects.get(integration__operation=Integration.Operation.GET_INVENTORY_PRIMARY)
    assert page.url == f"{live_server.url}/runs/{run.pk}/"
    live = page.get_by_test_id("run-live")
    expect(live.get_by_test_id("run-status")).to_have_text("succeeded", timeout=60_000)
    expect(page.get_by_role("progressbar", name="run progress")).to_have_attribute("aria-valuenow", "100")
    expect(page.get_by_test_id("run-progress-text")).to_contain_text("40 rows · 100 %")
    expect(page.get_by_test_id("run-input")).to_contain_text("inventory_20250101.csv")
    shot("5-first-sync")

    variant = InventoryVariant.objects.get(source=source, sku="AC-001")
    assert (variant.master_sku, variant.quantity) == ("ACM-AC-001", 1)
    assert InventoryVariant.objects.filter(source=source).count() == 40

    page.goto(f"{live_server.url}/sources/{source.pk}/")
    expect(page.get_by_test_id("onboarding-checklist").locator("li.done")).to_have_count(4)
    expect(page.get_by_test_id("connections")).to_contain_text("passed")
    expect(page.get_by_test_id("connections")).not_to_contain_text(onboarding_sftp.password)
    shot("6-source-page")
    page.goto(f"{live_server.url}/sources/")
    expect(page.get_by_test_id("onboarding-progress")).to_have_text("4 of 4")
    shot("7-source-list")


def test_an_operator_tests_a_connection_inline_but_sees_no_secret_and_no_credential_form(
    page, live_server, django_user_model, onboarding_sftp, artifacts
):
    source = onboarding_setup(
        source_id=None,
        name="Bolt Supply",
        source_type="dropship_supplier",
        directory_entry_id=directory_entry_get(slug="generic-csv-sftp").pk,
        account_confirmed=True,
    )
    card = {"host": onboarding_sftp.host, "port": onboarding_sftp.port, "username": onboarding_sftp.username}
    onboarding_connection_save(
        source_id=source.pk, values={**card, "path": "/outgoing"}, secrets={"password": onboarding_sftp.password}
    )
    log_in(page, live_server, operator(django_user_model, "otto"), f"/sources/{source.pk}/onboarding/connection/")
    htmx_ready(page)

    expect(page.get_by_test_id("connection-readonly")).to_contain_text(onboarding_sftp.host)
    expect(page.get_by_test_id("secret-password")).to_have_text("set")
    expect(page.locator("input[type=password], textarea")).to_have_count(0)
    assert onboarding_sftp.password not in page.content()
    page.evaluate("window.loadedOnce = 'first load'")
    page.get_by_test_id("test-connection").click()
    expect(page.get_by_test_id("verdict").locator(".verdict.ok")).to_contain_text("passed")
    assert page.evaluate("window.loadedOnce") == "first load"  # the verdict came in place, without a reload
    page.screenshot(path=str(artifacts / "onboarding-operator-test-connection.png"), full_page=True)
    assert Connection.objects.get(source=source).last_test_ok is True
