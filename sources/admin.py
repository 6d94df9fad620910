"""Admin for sources, connections, integrations, runs and mapping templates. Secrets are write-only."""

import json

from django import forms
from django.contrib import admin

from .models import (
    Connection,
    FieldRule,
    GlobalSettings,
    Integration,
    IntegrationRun,
    MappingTemplate,
    RunRowError,
    Source,
    SupplierDirectoryEntry,
)


@admin.register(GlobalSettings)
class GlobalSettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "sku_limit", "auto_process_frs", "fr_number_prefix", "feed_safety_threshold"]

    def has_add_permission(self, request):
        return not GlobalSettings.objects.exists()


@admin.register(SupplierDirectoryEntry)
class SupplierDirectoryEntryAdmin(admin.ModelAdmin):
    list_display = ["name", "connection_kind", "sku_prefix"]
    search_fields = ["name", "description"]
    prepopulated_fields = {"slug": ["name"]}


class ConnectionForm(forms.ModelForm):
    """Secrets are typed in as JSON and never shown again; leaving the box empty keeps what is stored."""

    new_secrets = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off"}),
        label="Secrets",
        help_text='JSON, e.g. {"password": "…"} or {"api_token": "…"}. Stored encrypted; never displayed. '
        "Leave empty to keep the current secrets.",
    )

    class Meta:
        model = Connection
        fields = ["source", "name", "kind", "host", "port", "username", "path", "url", "options"]

    def clean_new_secrets(self):
        raw = self.cleaned_data["new_secrets"].strip()
        if not raw:
            return None
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}).")
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise forms.ValidationError('Give an object of names to text values, e.g. {"password": "…"}.')
        return value

    def save(self, commit=True):
        if self.cleaned_data.get("new_secrets") is not None:
            self.instance.secrets = self.cleaned_data["new_secrets"]
        return super().save(commit)


class ConnectionInline(admin.StackedInline):
    model = Connection
    form = ConnectionForm
    extra = 0
    show_change_link = True


class IntegrationInline(admin.TabularInline):
    model = Integration
    extra = 0
    fields = ["operation", "connection", "file_format", "schedule", "is_enabled"]
    show_change_link = True


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ["name", "type", "sku_prefix", "is_active", "commit_stock", "auto_process_frs", "priority"]
    list_filter = ["type", "is_active", "commit_stock", "override_global_settings"]
    search_fields = ["name", "sku_prefix"]
    inlines = [ConnectionInline, IntegrationInline]


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    form = ConnectionForm
    list_display = ["__str__", "kind", "host", "username", "has_secrets", "last_test_ok", "last_tested_at"]
    list_filter = ["kind", "last_test_ok"]
    search_fields = ["source__name", "host", "username"]
    readonly_fields = ["pinned_host_key", "last_tested_at", "last_test_ok", "last_test_message"]

    @admin.display(boolean=True, description="secrets set")
    def has_secrets(self, obj):
        return bool(obj.secrets)


class FieldRuleInline(admin.TabularInline):
    model = FieldRule
    extra = 1


@admin.register(MappingTemplate)
class MappingTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "version", "is_builtin", "created_at"]
    list_filter = ["kind", "is_builtin"]
    search_fields = ["name"]
    inlines = [FieldRuleInline]


@admin.register(Integration)
class IntegrationAdmin(admin.ModelAdmin):
    list_display = ["__str__", "source", "operation", "file_format", "schedule", "is_enabled"]
    list_filter = ["operation", "file_format", "schedule", "is_enabled", "source"]
    search_fields = ["name", "source__name", "path", "file_pattern"]
    readonly_fields = ["periodic_task", "claimed_by_run", "claim_expires_at"]


class RunRowErrorInline(admin.TabularInline):
    model = RunRowError
    extra = 0
    can_delete = False
    readonly_fields = ["row_number", "sku", "field", "value", "message"]
    max_num = 0


@admin.register(IntegrationRun)
class IntegrationRunAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "integration",
        "status",
        "trigger",
        "queued_at",
        "progress_done",
        "progress_total",
        "read_count",
        "created_count",
        "updated_count",
        "error_count",
    ]
    list_filter = ["status", "trigger", "integration__operation", "integration__source"]
    search_fields = ["integration__name", "integration__source__name", "input_name", "input_hash"]
    date_hierarchy = "queued_at"
    inlines = [RunRowErrorInline]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False
