"""Source onboarding in four phases: the services, the checklist, the pages and who may change what."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from flxhub.exceptions import ApplicationError, ValidationFailed
from sources.management.commands.ensure_operator_group import GROUP_NAME, operator_group_ensure
from sources.models import Connection, Integration, IntegrationRun, MappingTemplate, Source, SupplierDirectoryEntry
from sources.selectors_onboarding import onboarding_checklist, onboarding_first_missing, sku_example
from sources.services.directory import directory_ensure_builtin
from sources.services.onboarding import (
    onboarding_finalize,
    onboarding_orders_save,
    onboarding_setup,
)
from sources.services.onboarding_connection import onboarding_connection_save, onboarding_connection_test

pytest_plugins = ["tests.browser.conftest_sftp"]
pytestmark = pytest.mark.django_db
Op = Integration.Operation
STORED_PASSWORD = "stored-Pa55word-never-shown"
STORED_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nstored-key-material-never-shown\n-----END OPENSSH PRIVATE KEY-----"


@pytest.fixture
def entries():
    return {entry.slug: entry for entry in directory_ensure_builtin()}


@pytest.fixture
def admin_client(client, django_user_model):
    admin = django_user_model.objects.create_superuser("admin", "admin@example.com", "pw")
    client.force_login(admin)
    client.user = admin
    return client


@pytest.fixture
def operator_client(client, django_user_model):
    """A staff user in the Operators group (view everything; change orders, FRs and runs)."""
    operator_group_ensure()
    operator = django_user_model.objects.create_user("olivia", password="pw", is_staff=True)
    operator.groups.add(Group.objects.get(name=GROUP_NAME))
    client.force_login(operator)
    return client


def set_up(entry, *, name: str, confirmed: bool = True) -> Source:
    """Phase 1 for a dropship supplier picked as ``entry``."""
    return onboarding_setup(
        source_id=None,
        name=name,
        source_type="dropship_supplier",
        directory_entry_id=entry.pk,
        account_confirmed=confirmed,
    )


def sftp_source(entries, *, name="Acme Tools", **values) -> Source:
    source = set_up(entries["generic-csv-sftp"], name=name)
    card = {"host": "127.0.0.1", "port": 2222, "username": "acme", "path": "/outgoing", **values}
    onboarding_connection_save(source_id=source.pk, values=card, secrets={"password": STORED_PASSWORD})
    return source


def server_card(server) -> dict:
    return {"host": server.host, "port": server.port, "username": server.username, "path": "/outgoing"}


def phases(source) -> dict[str, bool]:
    source.refresh_from_db()
    return {phase.key: phase.done for phase in onboarding_checklist(source=source)}


# --- phase 1 -------------------------------------------------------------------------------------------------


def test_setup_prefills_the_source_from_its_directory_entry_and_marks_phase_one_done(entries):
    source = set_up(entries["us-direct"], name="US Direct")
    assert source.sku_prefix == "USD-"
    assert source.shipping_method_map == {"ground": "UPS-GND", "express": "FEDEX-EXP", "priority": "USPS-PRIORITY"}
    assert phases(source) == {"setup": True, "connection": False, "orders": False, "finalize": False}
    assert MappingTemplate.objects.filter(name="US Direct inventory", is_builtin=True).exists()
    assert MappingTemplate.objects.filter(name="Shopify product CSV", is_builtin=True).exists()


def test_setup_without_the_account_confirmation_is_refused_and_creates_nothing(entries):
    with pytest.raises(ValidationFailed, match="Confirm that we have an account"):
        set_up(entries["generic-csv-sftp"], name="Acme", confirmed=False)
    assert not Source.objects.exists()


def test_setup_refuses_a_second_source_with_the_same_name_in_other_case(entries):
    sftp_source(entries, name="Acme Tools")
    with pytest.raises(ValidationFailed, match="exists already"):
        set_up(entries["generic-csv-ftp"], name="ACME tools")


# --- phase 2 -------------------------------------------------------------------------------------------------


def test_saving_the_connection_again_with_empty_secrets_keeps_them_and_asks_for_a_new_test(entries):
    source = sftp_source(entries)
    connection = source.connections.get()
    Connection.objects.filter(pk=connection.pk).update(last_test_ok=True, pinned_host_key="ssh-ed25519 AAAA")

    onboarding_connection_save(
        source_id=source.pk,
        values={"host": "sftp.acme.example", "port": None, "username": "acme", "path": "/outgoing"},
        secrets={"password": "", "private_key": ""},
    )
    connection.refresh_from_db()
    assert connection.secrets == {"password": STORED_PASSWORD}
    assert (connection.host, connection.port, connection.last_test_ok) == ("sftp.acme.example", None, None)
    assert connection.pinned_host_key == ""  # another host: the old pin means nothing there
    assert phases(source)["connection"] is False


def test_a_failing_test_keeps_the_connection_phase_open_and_a_passing_one_pins_the_key_and_closes_it(
    entries, onboarding_sftp
):
    source = sftp_source(entries, **server_card(onboarding_sftp))
    [(connection, verdict)] = onboarding_connection_test(source_id=source.pk)
    assert not verdict.ok and connection.last_test_ok is False
    checklist = onboarding_checklist(source=Source.objects.get(pk=source.pk))
    assert not checklist[1].done and "failed its last test" in checklist[1].missing[0]
    assert onboarding_first_missing(checklist=checklist).key == "connection"

    onboarding_connection_save(
        source_id=source.pk,
        values=server_card(onboarding_sftp),
        secrets={"password": onboarding_sftp.password},
    )
    [(connection, verdict)] = onboarding_connection_test(source_id=source.pk)
    assert verdict.ok, verdict.message
    assert connection.pinned_host_key == onboarding_sftp.host_key
    assert phases(source)["connection"] is True


def test_us_direct_card_fills_both_connections_and_an_empty_token_keeps_the_stored_one(entries):
    source = set_up(entries["us-direct"], name="US Direct")
    values = {"base_url": "https://api.usdirect.example", "feed_url": "https://feeds.usdirect.example/inv.csv"}
    onboarding_connection_save(
        source_id=source.pk, values=values, secrets={"api_token": "tok-1", "reseller_token": "res-1"}
    )
    onboarding_connection_save(source_id=source.pk, values=values, secrets={"api_token": "", "reseller_token": ""})
    feed, api = source.connections.get(name="feed"), source.connections.get(name="api")
    assert (feed.kind, feed.url, feed.secrets) == ("http", values["feed_url"], {"token": "tok-1"})
    assert (api.kind, api.url, api.options["protocol"]) == ("rest", values["base_url"], "usdirect")
    assert api.secrets == {"api_token": "tok-1", "reseller_token": "res-1"}


# --- phase 3 -------------------------------------------------------------------------------------------------


def test_order_processing_creates_scheduled_integrations_and_the_shipping_method_map(entries):
    source = sftp_source(entries)
    onboarding_orders_save(
        source_id=source.pk,
        used=True,
        send_frs=True,
        auto_process_frs=True,
        send_path="in",
        shipments=True,
        shipment_path="out",
        shipping_method_map=[("ground", "UPS-GND"), ("", ""), ("express", " FEDEX-EXP ")],
    )
    source.refresh_from_db()
    send = source.integrations.get(operation=Op.SEND_FULFILLMENT_REQUESTS)
    ship = source.integrations.get(operation=Op.GET_SHIPMENTS)
    assert (send.is_enabled, send.path, ship.is_enabled, ship.path) == (True, "in", True, "out")
    assert PeriodicTask.objects.get(pk=send.periodic_task_id).enabled
    assert source.shipping_method_map == {"ground": "UPS-GND", "express": "FEDEX-EXP"}
    assert (source.auto_process_frs, source.override_global_settings) == (True, True)
    assert phases(source)["orders"] is True

    onboarding_orders_save(source_id=source.pk, used=False)
    assert not source.integrations.filter(is_enabled=True).exists()
    assert onboarding_checklist(source=Source.objects.get(pk=source.pk))[2].note == "Not used: inventory only."


def test_a_half_filled_shipping_method_row_is_refused_and_nothing_is_saved(entries):
    source = sftp_source(entries)
    with pytest.raises(ValidationFailed, match="needs both our method and the source's code"):
        onboarding_orders_save(
            source_id=source.pk, used=True, send_frs=True, shipping_method_map=[("ground", "UPS-GND"), ("express", "")]
        )
    source.refresh_from_db()
    assert not source.integrations.exists() and source.shipping_method_map == {}
    assert phases(source)["orders"] is False


# --- phase 4 -------------------------------------------------------------------------------------------------


def finalize(source, **changes):
    template = MappingTemplate.objects.get(name="Generic CSV inventory", is_builtin=True)
    arguments = {
        "source_id": source.pk,
        "sku_prefix": "ACM-",
        "sample_sku": "AC-001",
        "file_pattern": "inventory_*.csv",
        "file_format": "csv",
        "template_id": template.pk,
        "schedule": {"schedule": "daily", "daily_at": "04:30"},
        **changes,
    }
    return onboarding_finalize(**arguments)


def test_finalize_is_refused_until_the_earlier_phases_are_done(entries):
    source = sftp_source(entries)
    with pytest.raises(ApplicationError, match="Finish Connection, Order processing before the first sync"):
        finalize(source)
    assert not source.integrations.exists() and not IntegrationRun.objects.exists()


def test_finalize_saves_get_inventory_with_its_schedule_and_queues_the_first_sync(entries):
    source = sftp_source(entries)
    Connection.objects.filter(source=source).update(last_test_ok=True)
    onboarding_orders_save(source_id=source.pk, used=False)

    run = finalize(source)
    source.refresh_from_db()
    primary = source.integrations.get(operation=Op.GET_INVENTORY_PRIMARY)
    assert (run.integration_id, run.status, run.trigger) == (primary.pk, "queued", "manual")
    assert (primary.file_pattern, primary.schedule, primary.daily_at.strftime("%H:%M")) == (
        "inventory_*.csv",
        "daily",
        "04:30",
    )
    assert PeriodicTask.objects.get(pk=primary.periodic_task_id).crontab.hour == "4"
    assert source.sku_prefix == "ACM-"
    assert all(phases(source).values())
    assert source.onboarding["finalize"]["first_run_id"] == run.pk


def test_a_template_of_another_kind_is_refused_for_get_inventory(entries):
    source = sftp_source(entries)
    Connection.objects.filter(source=source).update(last_test_ok=True)
    onboarding_orders_save(source_id=source.pk, used=False)
    send_template = MappingTemplate.objects.create(name="Orders out", kind="send_fr")
    with pytest.raises(ValidationFailed, match="is not a inventory template"):
        finalize(source, template_id=send_template.pk)
    assert not source.integrations.exists()


def test_the_sku_example_prefixes_the_sample_sku():
    example = sku_example(prefix="ACM-", sample_sku=" AC-001 ")
    assert (example.inventory_sku, example.master_sku, example.listing_sku) == ("AC-001", "ACM-AC-001", "ACM-AC-001")


# --- pages ---------------------------------------------------------------------------------------------------


def test_the_source_list_shows_onboarding_progress_and_links_to_the_first_missing_phase(entries, admin_client):
    source = sftp_source(entries)
    Connection.objects.filter(source=source).update(last_test_ok=True)
    page = admin_client.get(reverse("sources:source_list")).content.decode()
    assert "2 of 4" in page
    assert reverse("sources:onboarding_orders", args=[source.pk]) in page
    assert reverse("sources:source_new") in page


def test_an_admin_walks_the_phases_through_the_pages(entries, admin_client):
    entry = entries["generic-csv-sftp"]
    response = admin_client.post(
        reverse("sources:source_new"),
        {"name": "Acme Tools", "type": "dropship_supplier", "directory_entry": entry.pk, "account_confirmed": "on"},
    )
    source = Source.objects.get(name="Acme Tools")
    assert response.url == reverse("sources:onboarding_connection", args=[source.pk])
    response = admin_client.post(
        response.url,
        {"host": "127.0.0.1", "port": "2222", "username": "acme", "path": "/outgoing", "password": "pw1"},
    )
    assert response.status_code == 302
    Connection.objects.filter(source=source).update(last_test_ok=True)
    response = admin_client.post(
        reverse("sources:onboarding_orders", args=[source.pk]), {"used": "0", "map_ours": [""], "map_theirs": [""]}
    )
    assert response.url == reverse("sources:onboarding_finalize", args=[source.pk])
    template = MappingTemplate.objects.get(name="Generic CSV inventory")
    page = admin_client.get(response.url, {"template": template.pk, "sku_prefix": "ACM-", "sample_sku": "AC-9"})
    assert 'data-testid="example-master-sku">ACM-AC-9<' in page.content.decode()
    response = admin_client.post(
        response.url,
        {
            "sku_prefix": "ACM-",
            "file_pattern": "*.csv",
            "file_format": "csv",
            "template": template.pk,
            "schedule": "interval",
            "every_minutes": "60",
        },
    )
    run = IntegrationRun.objects.get()
    assert response.url == reverse("sources:run_detail", args=[run.pk])
    detail = admin_client.get(reverse("sources:source_detail", args=[source.pk])).content.decode()
    assert detail.count('<span class="state">done</span>') == 4
    assert reverse("sources:integration_run_now", args=[run.integration_id]) in detail


def test_bad_input_says_what_and_where_and_changes_nothing(entries, admin_client):
    source = sftp_source(entries)
    url = reverse("sources:onboarding_finalize", args=[source.pk])
    response = admin_client.post(url, {"file_format": "csv", "schedule": "interval"})
    page = response.content.decode()
    assert response.status_code == 400
    assert "Choose the inventory mapping template." in page and "The interval schedule needs this." in page
    settings = admin_client.post(
        reverse("sources:source_settings", args=[source.pk]),
        {"allow_backorders": "on", "commit_stock": "on", "stock_buffer": "0", "map_ours": [""], "map_theirs": [""]},
    )
    assert settings.status_code == 400
    assert "Only internal warehouses may allow backorders." in settings.content.decode()
    source.refresh_from_db()
    assert source.allow_backorders is False


def test_an_admin_can_change_source_settings(entries, admin_client):
    source = sftp_source(entries)
    response = admin_client.post(
        reverse("sources:source_settings", args=[source.pk]),
        {
            "commit_stock": "on",
            "stock_buffer": "3",
            "fr_number_prefix": "AC",
            "feed_safety_threshold": "0.25",
            "map_ours": ["ground", ""],
            "map_theirs": ["UPS-GND", ""],
        },
    )
    assert response.status_code == 302
    source.refresh_from_db()
    assert (source.stock_buffer, source.fr_number_prefix, str(source.feed_safety_threshold)) == (3, "AC", "0.250")
    assert source.shipping_method_map == {"ground": "UPS-GND"}


# --- permissions ---------------------------------------------------------------------------------------------


def test_an_operator_sees_the_connection_page_without_any_secret_value(entries, operator_client):
    source = sftp_source(entries)
    Connection.objects.filter(source=source).update(secrets={"password": STORED_PASSWORD, "private_key": STORED_KEY})
    response = operator_client.get(reverse("sources:onboarding_connection", args=[source.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert STORED_PASSWORD not in page and "stored-key-material" not in page
    assert 'type="password"' not in page and "<textarea" not in page  # not even a masked field
    assert 'data-testid="secret-password">set<' in page
    assert 'data-testid="secret-passphrase">not set<' in page
    detail = operator_client.get(reverse("sources:source_detail", args=[source.pk])).content.decode()
    assert STORED_PASSWORD not in detail


def test_an_operator_posting_new_credentials_gets_403_and_nothing_changes(entries, operator_client):
    source = sftp_source(entries)
    before = Connection.objects.get(source=source)
    response = operator_client.post(
        reverse("sources:onboarding_connection", args=[source.pk]),
        {"host": "evil.example", "username": "mallory", "password": "new-password", "path": "/"},
    )
    assert response.status_code == 403
    after = Connection.objects.get(source=source)
    assert (after.host, after.username, after.secrets) == (before.host, before.username, {"password": STORED_PASSWORD})


def test_a_staff_user_outside_the_operators_group_cannot_create_or_change_sources(entries, client, django_user_model):
    source = sftp_source(entries)
    client.force_login(django_user_model.objects.create_user("stan", password="pw", is_staff=True))
    for name in ("onboarding_orders", "onboarding_finalize", "source_settings"):
        assert client.post(reverse(f"sources:{name}", args=[source.pk]), {}).status_code == 403
    assert client.get(reverse("sources:source_new")).status_code == 403


def test_an_operator_creates_a_source_and_changes_its_settings_but_not_its_credentials(entries, operator_client):
    assert operator_client.get(reverse("sources:source_new")).status_code == 200
    source = sftp_source(entries)
    page = operator_client.get(reverse("sources:source_detail", args=[source.pk])).content.decode()
    assert "Save settings" in page and STORED_PASSWORD not in page
    assert operator_client.get(reverse("sources:onboarding_connection", args=[source.pk])).status_code == 200


def test_an_operator_may_run_test_connection(entries, operator_client, onboarding_sftp):
    source = sftp_source(entries, **server_card(onboarding_sftp))
    Connection.objects.filter(source=source).update(secrets={"password": onboarding_sftp.password})
    response = operator_client.post(reverse("sources:onboarding_connection_test", args=[source.pk]))
    assert response.status_code == 200
    assert "passed" in response.content.decode()
    assert Connection.objects.get(source=source).last_test_ok is True


def test_an_admin_with_an_empty_secret_field_keeps_the_stored_secret(entries, admin_client):
    source = sftp_source(entries)
    response = admin_client.post(
        reverse("sources:onboarding_connection", args=[source.pk]),
        {"host": "sftp2.acme.example", "port": "", "username": "acme", "path": "/x", "password": "", "private_key": ""},
    )
    assert response.status_code == 302
    connection = Connection.objects.get(source=source)
    assert (connection.host, connection.secrets) == ("sftp2.acme.example", {"password": STORED_PASSWORD})
    page = admin_client.get(reverse("sources:onboarding_connection", args=[source.pk])).content.decode()
    assert STORED_PASSWORD not in page


def test_api_tokens_are_not_reachable_by_operators(operator_client, django_user_model):
    assert operator_client.get(reverse("admin:orders_apitoken_changelist")).status_code == 403
    user = django_user_model.objects.get(username="olivia")
    assert not user.has_perm("orders.view_apitoken")
    assert not user.has_perm("sources.change_connection")


def test_a_user_given_the_connection_permission_may_change_credentials(entries, client, django_user_model):
    source = sftp_source(entries)
    user = django_user_model.objects.create_user("ida", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="change_connection"))
    client.force_login(user)
    response = client.post(
        reverse("sources:onboarding_connection", args=[source.pk]),
        {"host": "h.example", "username": "u", "path": "/", "password": "rotated"},
    )
    assert response.status_code == 302
    assert Connection.objects.get(source=source).secrets == {"password": "rotated"}


def test_the_directory_search_filters_entries(entries, admin_client):
    page = admin_client.get(reverse("sources:source_new"), {"q": "edi"}).content.decode()
    assert 'data-slug="edi-x12-sftp"' in page and 'data-slug="us-direct"' not in page
    assert SupplierDirectoryEntry.objects.count() == len(entries)
