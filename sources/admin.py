"""Admin for sources, connections, integrations, runs and mapping templates. Secrets are write-only."""

import json

from django import forms
from django.contrib import admin, messages
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html

from flxhub.exceptions import ApplicationError

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
from .selectors import run_row_errors_csv
from .services.connections import connection_test
from .services.runs import integration_trigger, run_release_held
from .services.schedules import integration_sync_schedule


@admin.register(GlobalSettings)
class GlobalSettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "sku_limit", "auto_process_frs", "fr_number_prefix", "feed_safety_threshold"]

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not GlobalSettings.objects.exists()


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
    actions = ["test_connection"]

    @admin.action(description="Test connection")
    def test_connection(self, request, queryset):
        for connection in queryset:
            verdict = connection_test(connection_id=connection.pk)
            level = messages.SUCCESS if verdict.ok else messages.ERROR
            self.message_user(request, f"{connection}: {verdict.message}", level)

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
    actions = ["run_now", "run_now_forced"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        integration_sync_schedule(integration_id=obj.pk)

    def _run(self, request, queryset, force):
        for integration in queryset:
            run = integration_trigger(integration_id=integration.pk, force=force)
            self.message_user(request, f"Queued run {run.pk} of {integration}.", messages.SUCCESS)

    @admin.action(description="Run now")
    def run_now(self, request, queryset):
        self._run(request, queryset, force=False)

    @admin.action(description="Run now, even if the same file was applied before")
    def run_now_forced(self, request, queryset):
        self._run(request, queryset, force=True)


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
    actions = ["release_held"]

    def get_urls(self):
        extra = [
            path("<int:run_id>/row-errors.csv", self.admin_site.admin_view(self.row_errors_csv), name="run_row_errors"),
        ]
        return extra + super().get_urls()

    def row_errors_csv(self, request, run_id):
        run = get_object_or_404(IntegrationRun, pk=run_id)
        response = StreamingHttpResponse(run_row_errors_csv(run_id=run.pk), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="run-{run.pk}-row-errors.csv"'
        return response

    @admin.display(description="row errors")
    def row_errors_link(self, obj):
        if not obj.error_count:
            return "none"
        url = reverse("admin:run_row_errors", args=[obj.pk])
        return format_html('<a href="{}">{} errors (CSV)</a>', url, obj.error_count)

    @admin.action(description="Release held feed (apply it)")
    def release_held(self, request, queryset):
        for run in queryset:
            try:
                new = run_release_held(run_id=run.pk)
                self.message_user(request, f"Run {run.pk} released as run {new.pk}.", messages.SUCCESS)
            except ApplicationError as exc:
                self.message_user(request, exc.message, messages.ERROR)

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields] + ["row_errors_link"]

    def has_add_permission(self, request):
        return False
