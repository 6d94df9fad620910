"""Mapping-template editor: saving versions (built-ins untouched, invalid templates refused), the editor form's
round trip, the live preview partial (row errors, bad templates, sample size limit) and where saving goes next.
The browser flow is in tests/browser/test_mapping_editor.py."""

import os
import time
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from flxhub.exceptions import ApplicationError
from sources.builtin_templates import BUILTIN_TEMPLATES
from sources.mapping import TemplateError
from sources.mapping.kinds import KINDS
from sources.mapping_editor_forms import url_after_save
from sources.models import FieldRule, MappingTemplate
from sources.services.directory import template_ensure_builtin
from sources.services.templates import (
    MAX_SAMPLE_BYTES,
    MAX_SAMPLES_PER_SESSION,
    SAMPLE_TTL_SECONDS,
    mapping_template_save_version,
)
from tests.factories import IntegrationFactory

pytestmark = pytest.mark.django_db

FIELDS = [
    {"target": "sku", "source_type": "column", "source": "SKU", "transforms": [{"op": "trim"}], "required": True},
    {"target": "quantity", "source_type": "column", "source": "Qty", "transforms": [], "required": True},
    {"target": "title", "source_type": "constant", "source": "Widget", "default": None},
]
SAMPLE = b"SKU,Qty,Price\nA-1,5,1.50\nA-2,lots,2.00\n,3,4.00\nA-4,7,3.25\n"


def save(user=None, **overrides):
    arguments = {
        "base_id": None,
        "name": "Acme feed",
        "kind": "inventory",
        "format_options": {"delimiter": ","},
        "fields": FIELDS,
        "conditions": [],
        "exclusions": [],
        "user": user,
    }
    return mapping_template_save_version(**{**arguments, **overrides})


@pytest.fixture(autouse=True)
def sample_dir(settings, tmp_path):
    settings.FLXHUB_MAPPING_SAMPLE_DIR = str(tmp_path / "samples")
    return tmp_path / "samples"


@pytest.fixture
def admin_client(client, django_user_model):
    user = django_user_model.objects.create_user(username="admin", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="add_mappingtemplate"))
    client.force_login(user)
    return client


@pytest.fixture
def operator_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_user(username="operator", password="pw", is_staff=True))
    return client


# -- the service ---------------------------------------------------------------------------------


def test_saving_again_makes_the_next_version_with_its_rules_in_order():
    first = save()
    second = save(base_id=first.pk, fields=[FIELDS[1], FIELDS[0]])
    assert (first.version, second.version) == (1, 2)
    assert [rule.target for rule in first.field_rules.all()] == ["sku", "quantity", "title"]
    assert [rule.target for rule in second.field_rules.all()] == ["quantity", "sku"]
    assert second.to_spec()["fields"][1]["transforms"] == [{"op": "trim"}]
    assert second.format_options == {"delimiter": ","}


def test_saving_from_a_builtin_makes_a_version_of_your_own_and_leaves_the_builtin_as_shipped():
    builtin = template_ensure_builtin(key="us_direct_inventory")
    shipped = builtin.to_spec()
    copy = save(base_id=builtin.pk, name=builtin.name, fields=FIELDS[:2])
    builtin.refresh_from_db()
    assert builtin.to_spec() == shipped
    assert builtin.is_builtin and builtin.version == 1
    assert (copy.name, copy.version, copy.is_builtin) == (builtin.name, 2, False)


def test_an_invalid_template_is_refused_with_its_reason_and_nothing_is_saved():
    bad = [{**FIELDS[0], "transforms": [{"op": "regex", "pattern": "([unclosed"}]}]
    with pytest.raises(TemplateError, match=r"field 1 \(sku\): regex: invalid pattern"):
        save(fields=bad)
    with pytest.raises(TemplateError, match="unknown target 'colour'"):
        save(fields=[{"target": "colour", "source": "Color"}])
    assert MappingTemplate.objects.count() == 0
    assert FieldRule.objects.count() == 0


def test_a_base_of_another_kind_or_a_missing_name_is_refused():
    base = save()
    with pytest.raises(ApplicationError, match="is a inventory template, not ack"):
        save(base_id=base.pk, kind="ack", fields=[{"target": "fr_number", "source": "PO"}])
    with pytest.raises(ApplicationError, match="name"):
        save(name="  ")
    assert MappingTemplate.objects.count() == 1


def test_a_send_fr_template_is_checked_by_compiling_its_columns():
    with pytest.raises(TemplateError, match="unknown FR field 'colour'"):
        save(kind="send_fr", fields=[{"target": "Colour", "source_type": "column", "source": "colour"}])
    saved = save(kind="send_fr", fields=[{"target": "PO", "source_type": "column", "source": "fr_number"}])
    assert saved.kind == "send_fr"


def test_a_user_without_the_add_permission_cannot_save(django_user_model):
    operator = django_user_model.objects.create_user(username="op", password="pw", is_staff=True)
    with pytest.raises(ApplicationError, match="may not save"):
        save(user=operator)
    assert MappingTemplate.objects.count() == 0


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/sources/7/onboarding/finalize/?step=4", "/sources/7/onboarding/finalize/?step=4&template=42"),
        ("/onboarding/?template=3&x=1", "/onboarding/?x=1&template=42"),
        ("https://testserver/ok/", "https://testserver/ok/?template=42"),
        ("https://evil.example/phish", None),
        ("//evil.example/phish", None),
        ("javascript:alert(1)", None),
        ("", None),
    ],
)
def test_the_next_url_gets_the_new_template_only_when_it_is_local(next_url, expected):
    url = url_after_save(next_url=next_url, template_id=42, allowed_hosts={"testserver"}, require_https=False)
    assert url == expected


# -- the pages ---------------------------------------------------------------------------------------


class FormFields(HTMLParser):
    """Collect what a browser would post from #editor-form (ignoring the <template> rows the page clones)."""

    def __init__(self):
        super().__init__()
        self.pairs: list[tuple[str, str]] = []
        self.in_form = self.in_template = False
        self.select: str | None = None
        self.options: list[tuple[str, bool]] = []
        self.textarea: str | None = None
        self.text = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.in_form = attrs.get("id") == "editor-form"
        elif tag == "template":
            self.in_template = True
        if not self.in_form or self.in_template:
            return
        if tag == "input" and attrs.get("name"):
            if attrs.get("type") == "checkbox":
                if "checked" in attrs:
                    self.pairs.append((attrs["name"], attrs.get("value", "on")))
            else:
                self.pairs.append((attrs["name"], attrs.get("value") or ""))
        elif tag == "select":
            self.select, self.options = attrs["name"], []
        elif tag == "option" and self.select:
            self.options.append((attrs.get("value", ""), "selected" in attrs))
        elif tag == "textarea":
            self.textarea, self.text = attrs["name"], ""

    def handle_data(self, data):
        if self.textarea:
            self.text += data

    def handle_endtag(self, tag):
        if tag == "template":
            self.in_template = False
        elif tag == "form":
            self.in_form = False
        elif tag == "select" and self.select:
            chosen = [value for value, selected in self.options if selected] or [self.options[0][0]]
            self.pairs.append((self.select, chosen[0]))
            self.select = None
        elif tag == "textarea" and self.textarea:
            self.pairs.append((self.textarea, self.text))
            self.textarea = None


def posted(html: str, **changes) -> dict[str, list[str]]:
    parser = FormFields()
    parser.feed(html)
    data: dict[str, list[str]] = {}
    for name, value in parser.pairs:
        data.setdefault(name, []).append(value)
    data.update({name: [value] for name, value in changes.items()})
    return data


def assert_the_editor_posts_it_back_unchanged(client, template: MappingTemplate) -> None:
    page = client.get(reverse("sources:mapping_template_edit", args=[template.pk]))
    assert page.status_code == 200
    answer = client.post(reverse("sources:mapping_template_save"), posted(page.content.decode()))
    saved = MappingTemplate.objects.get(name=template.name, kind=template.kind, version=template.version + 1)
    assert answer.status_code == 302
    assert answer["Location"] == reverse("sources:mapping_template_edit", args=[saved.pk])
    original, copy = template.to_spec(), saved.to_spec()
    assert len(copy["fields"]) == len(original["fields"])
    for before, after in zip(original["fields"], copy["fields"], strict=True):
        assert after["target"] == before["target"]
        assert after["source_type"] == before["source_type"]
        assert after["source"] == before["source"]
        assert after["transforms"] == before["transforms"]
        assert after["required"] == before["required"]
        assert after["default"] == before["default"]
        assert (after["lookup"] or {}) == (before["lookup"] or {})
    assert copy["format_options"] == original["format_options"]
    assert copy["conditions"] == original["conditions"]
    assert copy["exclusions"] == original["exclusions"]


@pytest.mark.parametrize("key", BUILTIN_TEMPLATES)
def test_the_editor_posts_back_exactly_the_builtin_it_was_opened_with(admin_client, key):
    assert_the_editor_posts_it_back_unchanged(admin_client, template_ensure_builtin(key=key))


def test_the_editor_posts_back_a_send_fr_template_with_lookups_and_conditions(admin_client):
    fields = [
        {"target": "PO Number", "source_type": "column", "source": "fr_number", "required": True},
        {
            "target": "Ship Via",
            "source_type": "lookup",
            "source": "shipping_method",
            "lookup": {"table": {"ground": "UPS-GND", "2day": "UPS-2DA"}, "on_no_match": "error"},
        },
        {"target": "Qty", "source_type": "column", "source": "quantity", "transforms": [{"op": "integer"}]},
        {"target": "Account", "source_type": "constant", "source": "ACME-7", "default": "none"},
    ]
    conditions = [
        {"when": {"field": "ship_to_country", "op": "in", "value": ["CA", "MX"]}, "set": {"Ship Via": "INTL"}}
    ]
    template = save(
        name="Acme FR file",
        kind="send_fr",
        fields=fields,
        conditions=conditions,
        format_options={"delimiter": "\t", "decimal_comma": True},
    )
    assert_the_editor_posts_it_back_unchanged(admin_client, template)


def upload(client, content: bytes, name="sample.csv", **form):
    data = {"kind": "inventory", "rule": ["0", "1"], **rules_post(), **form}
    data["sample"] = SimpleUploadedFile(name, content, content_type="text/csv")
    return client.post(reverse("sources:mapping_template_sample"), data)


def rules_post(**extra) -> dict:
    return {
        "kind": "inventory",
        "rule": ["0", "1"],
        "rule-0-target": "sku",
        "rule-0-source_type": "column",
        "rule-0-source": "SKU",
        "rule-0-required": "1",
        "rule-1-target": "quantity",
        "rule-1-source_type": "column",
        "rule-1-source": "Qty",
        "rule-1-required": "1",
        **extra,
    }


def test_uploading_a_sample_previews_the_mapped_rows_and_every_row_error(operator_client):
    answer = upload(operator_client, SAMPLE)
    html = answer.content.decode()
    assert answer.status_code == 200
    assert 'data-testid="preview"' in html and 'data-testid="row-errors"' in html
    assert "4 rows read · 2 mapped" in html
    assert "<td>2</td><td>A-2</td><td>quantity</td><td>lots</td><td>&#x27;lots&#x27; is not a number</td>" in html
    assert "<td>3</td><td></td><td>sku</td><td></td><td>a value is required</td>" in html
    assert 'hx-swap-oob="true"' in html  # the page keeps the new sample's token


def test_the_preview_follows_the_posted_form_on_the_kept_sample(operator_client):
    token = sample_token(upload(operator_client, SAMPLE))
    preview = reverse("sources:mapping_template_preview")
    same = operator_client.post(preview, rules_post(sample_token=token, **{"rule-1-default": "0"})).content.decode()
    assert "4 rows read · 2 mapped" in same  # a default does not replace a bad value, only an empty one
    with_default = rules_post(sample_token=token, **{"rule-0-default": "UNKNOWN"})
    fixed = operator_client.post(preview, with_default).content.decode()
    assert "4 rows read · 3 mapped" in fixed
    assert "<tr><td>3</td><td>UNKNOWN</td><td>3</td></tr>" in fixed
    assert "a value is required" not in fixed


def test_an_invalid_template_shows_its_message_in_the_preview_instead_of_failing(operator_client):
    bad = {"rule-0-transform": "0", "rule-0-t-0-op": "regex", "rule-0-t-0-pattern": "([unclosed"}
    answer = operator_client.post(reverse("sources:mapping_template_preview"), rules_post(**bad))
    assert answer.status_code == 200
    assert 'data-testid="preview-error"' in answer.content.decode()
    assert "regex: invalid pattern" in answer.content.decode()
    lookup = operator_client.post(reverse("sources:mapping_template_preview"), rules_post(**{"rule-0-lookup": "oops"}))
    assert "Rule sku: lookup table, line 1: write it as &#x27;key = value&#x27;" in lookup.content.decode()


def test_a_sample_over_the_size_limit_is_refused_with_the_limit_named(operator_client, sample_dir):
    answer = upload(operator_client, b"SKU,Qty\n" + b"A,1\n" * (MAX_SAMPLE_BYTES // 4 + 1))
    html = answer.content.decode()
    assert 'data-testid="preview-error"' in html
    assert "samples are limited to 5 MB" in html
    assert not sample_dir.exists() or not any(sample_dir.iterdir())


def test_a_sample_token_of_another_session_reads_nothing(operator_client, client, django_user_model):
    token = sample_token(upload(operator_client, SAMPLE))
    client.logout()
    other = django_user_model.objects.create_user(username="other", password="pw", is_staff=True)
    client.force_login(other)
    answer = client.post(reverse("sources:mapping_template_preview"), rules_post(sample_token=token))
    assert "Upload a sample file" in answer.content.decode()


def test_saving_goes_to_a_safe_next_url_with_the_new_template(admin_client):
    data = rules_post(name="Acme feed", next="/sources/3/onboarding/?phase=4")
    answer = admin_client.post(reverse("sources:mapping_template_save"), data)
    saved = MappingTemplate.objects.get(name="Acme feed")
    assert answer["Location"] == f"/sources/3/onboarding/?phase=4&template={saved.pk}"
    unsafe = admin_client.post(reverse("sources:mapping_template_save"), {**data, "next": "https://evil.example/"})
    newer = MappingTemplate.objects.get(name="Acme feed", version=2)
    assert unsafe["Location"] == reverse("sources:mapping_template_edit", args=[newer.pk])


def test_a_refused_save_keeps_the_operators_edits_on_the_page(admin_client):
    bad = rules_post(
        name="Acme feed", **{"rule-1-transform": "0", "rule-1-t-0-op": "multiply", "rule-1-t-0-value": "x"}
    )
    answer = admin_client.post(reverse("sources:mapping_template_save"), bad)
    html = answer.content.decode()
    assert answer.status_code == 400
    assert "Not saved: field 2 (quantity): multiply:" in html
    assert 'name="rule-1-t-0-value" value="x"' in html
    assert MappingTemplate.objects.count() == 0


def test_operators_may_view_and_preview_but_not_save(operator_client):
    page = operator_client.get(reverse("sources:mapping_template_new") + "?kind=inventory")
    assert page.status_code == 200
    assert 'data-testid="save-template"' not in page.content.decode()
    assert 'data-testid="rule-0"' in page.content.decode()
    answer = operator_client.post(reverse("sources:mapping_template_save"), rules_post(name="Acme feed"))
    assert answer.status_code == 403
    assert MappingTemplate.objects.count() == 0


def test_the_list_shows_each_family_once_with_its_latest_version_and_the_integrations_using_it(operator_client):
    builtin = template_ensure_builtin(key="us_direct_inventory")
    mine = save(base_id=builtin.pk, name=builtin.name, fields=FIELDS[:2])
    IntegrationFactory(mapping_template=builtin, source__name="Acme Supply")
    page = operator_client.get(reverse("sources:mapping_template_list")).content.decode()
    assert page.count(">US Direct inventory</a>") == 1
    assert f'href="{reverse("sources:mapping_template_edit", args=[mine.pk])}">US Direct inventory' in page
    assert "v2" in page and "built-in" in page
    assert "Acme Supply" in page


def test_new_from_a_template_starts_with_its_rules(operator_client):
    builtin = template_ensure_builtin(key="us_direct_inventory")
    page = operator_client.get(reverse("sources:mapping_template_new") + f"?kind=inventory&from={builtin.pk}&next=/x/")
    html = page.content.decode()
    assert 'name="rule-4-source" value="Quantity"' in html
    assert f'name="base_id" value="{builtin.pk}"' in html
    assert 'name="next" value="/x/"' in html


def sample_token(answer) -> str:
    return answer.content.decode().split('id="sample-token" value="')[1].split('"')[0]


def test_a_session_keeps_its_last_samples_and_old_sample_files_are_swept(operator_client, sample_dir):
    tokens = [sample_token(upload(operator_client, SAMPLE)) for _ in range(MAX_SAMPLES_PER_SESSION)]
    abandoned = sample_dir / "abandoned-by-another-session"
    abandoned.write_bytes(SAMPLE)
    long_ago = time.time() - SAMPLE_TTL_SECONDS - 60
    os.utime(abandoned, (long_ago, long_ago))
    newest = sample_token(upload(operator_client, SAMPLE))
    assert sorted(path.name for path in sample_dir.iterdir()) == sorted([*tokens[1:], newest])
    answer = operator_client.post(reverse("sources:mapping_template_preview"), rules_post(sample_token=tokens[0]))
    assert "Upload a sample file" in answer.content.decode()


def test_a_sample_in_a_format_without_a_reader_is_refused_by_name(operator_client):
    answer = upload(operator_client, SAMPLE, name="stock.csv", sample_format="pdf")
    assert "Unknown sample format &#x27;pdf&#x27;; use one of csv" in answer.content.decode()


@pytest.mark.parametrize("kind", MappingTemplate.Kind.values)
def test_a_new_template_of_each_kind_opens_with_that_kinds_targets(operator_client, kind):
    page = operator_client.get(reverse("sources:mapping_template_new") + f"?kind={kind}")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'name="kind" value="{kind}"' in html
    first_target = next(iter(KINDS[kind]))
    if kind == "send_fr":  # output columns are the file's own names, typed in
        assert f'<input type="text" name="rule-0-target" value="{first_target}"' in html
    else:
        assert f'<option value="{first_target}" selected>' in html


def test_a_send_fr_preview_lists_its_output_columns(operator_client):
    data = {"kind": "send_fr", "rule": ["0"], "rule-0-target": "PO", "rule-0-source": "fr_number"}
    answer = operator_client.post(reverse("sources:mapping_template_preview"), data)
    assert "Output columns of this Send FR template" in answer.content.decode()
    assert "<th>PO</th>" in answer.content.decode()
