"""Admin for orders and fulfillment requests. Statuses move only through the FR state machine's actions."""

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.urls import path

from flxhub.exceptions import ApplicationError
from inventory.models import Channel

from .models import (
    AckLine,
    Acknowledgement,
    ApiToken,
    FREvent,
    FRLine,
    FulfillmentRequest,
    Order,
    OrderLine,
    RoutingGroup,
    RoutingPriority,
    Shipment,
    ShipmentLine,
    SourceInvoice,
    SourceInvoiceLine,
)
from .services.fr_actions import OPERATOR_ACTIONS, fr_regenerate
from .services.order_contact import FR_VISIBLE_FIELDS, order_frs_touch
from .services.order_csv import orders_import_csv
from .services.routing import order_generate_frs


class OrderCsvForm(forms.Form):
    channel = forms.ModelChoiceField(queryset=Channel.objects.all())
    file = forms.FileField(help_text="CSV, one row per order line.")


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    raw_id_fields = ["product_variant"]


class FulfillmentRequestInline(admin.TabularInline):
    model = FulfillmentRequest
    extra = 0
    fields = ["number", "source", "status", "shipping_status", "invoice_status"]
    readonly_fields = fields
    show_change_link = True
    can_delete = False
    max_num = 0


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["channel_order_number", "channel", "status", "ship_name", "ship_country", "created_at"]
    list_filter = ["status", "channel", "ship_country"]
    search_fields = ["channel_order_number", "customer_name", "customer_email", "ship_name"]
    date_hierarchy = "created_at"
    inlines = [OrderLineInline, FulfillmentRequestInline]
    actions = ["generate_frs"]
    change_list_template = "admin/orders/order_change_list.html"

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and FR_VISIBLE_FIELDS.intersection(form.changed_data):
            # The FRs show the ship-to: sources polling for changes must see the new one.
            order_frs_touch(order_id=obj.pk)

    @admin.action(description="Generate FRs (route) for selected orders")
    def generate_frs(self, request, queryset):
        for order in queryset.order_by("pk"):
            try:
                result = order_generate_frs(order_id=order.pk, actor=request.user)
            except ApplicationError as exc:
                self.message_user(request, f"{order}: {exc.message}", messages.ERROR)
                continue
            numbers = ", ".join(fr.number for fr in result.frs) or "no FR"
            self.message_user(request, f"{order}: {numbers}.", messages.SUCCESS if result.frs else messages.WARNING)
            for block in result.roadblocks:
                self.message_user(request, f"{order}: {block.message}", messages.WARNING)

    def get_urls(self):
        view = self.admin_site.admin_view(self.import_csv)
        return [path("import-csv/", view, name="orders_order_import_csv"), *super().get_urls()]

    def import_csv(self, request):
        form = OrderCsvForm(request.POST or None, request.FILES or None)
        result = None
        if request.method == "POST" and form.is_valid():
            try:
                result = orders_import_csv(
                    channel_id=form.cleaned_data["channel"].pk, data=form.cleaned_data["file"].read()
                )
            except ApplicationError as exc:
                form.add_error("file", exc.message)
        context = {**self.admin_site.each_context(request), "form": form, "result": result, "opts": self.model._meta}
        return TemplateResponse(request, "admin/orders/import_csv.html", context)


class FRLineInline(admin.TabularInline):
    model = FRLine
    extra = 0
    can_delete = False
    max_num = 0
    fields = [
        "sku",
        "master_sku",
        "title",
        "cost",
        "quantity",
        "acknowledged_quantity",
        "backordered_quantity",
        "canceled_quantity",
        "shipped_quantity",
        "voided_quantity",
        "committed_quantity",
    ]
    readonly_fields = fields


class FREventInline(admin.TabularInline):
    model = FREvent
    extra = 0
    can_delete = False
    max_num = 0
    fields = ["created_at", "kind", "from_status", "to_status", "actor", "actor_label", "reason"]
    readonly_fields = fields


def _operator_action(name: str):
    """An admin action running the same operator action service as the FR page's button."""
    chosen = OPERATOR_ACTIONS[name]
    label = chosen.label

    def action(modeladmin, request, queryset):
        moved, refused = 0, []
        for fr in queryset.order_by("pk"):
            try:
                chosen.run(fr_id=fr.pk, actor=request.user, actor_label="", reason=f"Admin action: {label}")
                moved += 1
            except ApplicationError as exc:
                refused.append(exc.message)
        if moved:
            modeladmin.message_user(request, f"{label}: {moved} FR(s).", messages.SUCCESS)
        for message in refused:
            modeladmin.message_user(request, message, messages.ERROR)

    action.__name__ = f"fr_{name}"
    action.short_description = f"{label} selected FRs"
    return action


@admin.register(FulfillmentRequest)
class FulfillmentRequestAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "order",
        "source",
        "status",
        "shipping_status",
        "invoice_status",
        "generated_at",
        "updated_at",
    ]
    list_filter = ["status", "shipping_status", "invoice_status", "source"]
    search_fields = ["number", "order__channel_order_number", "source_reference", "lines__sku"]
    list_select_related = ["order", "source"]
    date_hierarchy = "generated_at"
    readonly_fields = [
        "number",
        "order",
        "source",
        "status",
        "shipping_status",
        "invoice_status",
        "status_reason",
        "routing_decision",
        "send_attempt",
        "generated_at",
        "sent_at",
        "acknowledged_at",
        "shipped_at",
        "canceled_at",
        "voided_at",
        "updated_at",
    ]
    inlines = [FRLineInline, FREventInline]
    actions = [
        *(_operator_action(name) for name in OPERATOR_ACTIONS),
        "regenerate",
    ]

    @admin.action(description="Regenerate selected FRs (void, route again)")
    def regenerate(self, request, queryset):
        for fr in queryset.order_by("pk"):
            try:
                result = fr_regenerate(fr_id=fr.pk, actor=request.user, reason="Admin action: regenerate")
                numbers = ", ".join(new.number for new in result.frs) or "no new FR"
                self.message_user(request, f"{fr.number} regenerated: {numbers}.", messages.SUCCESS)
            except ApplicationError as exc:
                self.message_user(request, exc.message, messages.ERROR)

    def has_add_permission(self, request):
        return False


class ShipmentLineInline(admin.TabularInline):
    model = ShipmentLine
    extra = 0
    raw_id_fields = ["fr_line"]


@admin.register(Shipment)
class ShipmentAdmin(admin.ModelAdmin):
    list_display = ["tracking_number", "carrier", "method", "fulfillment_request", "shipped_at", "created_at"]
    list_filter = ["carrier"]
    search_fields = ["tracking_number", "fulfillment_request__number"]
    raw_id_fields = ["fulfillment_request"]
    inlines = [ShipmentLineInline]


class AckLineInline(admin.TabularInline):
    model = AckLine
    extra = 0
    raw_id_fields = ["fr_line"]


@admin.register(Acknowledgement)
class AcknowledgementAdmin(admin.ModelAdmin):
    list_display = ["fulfillment_request", "source_reference", "received_at"]
    search_fields = ["fulfillment_request__number", "source_reference"]
    raw_id_fields = ["fulfillment_request"]
    inlines = [AckLineInline]


class SourceInvoiceLineInline(admin.TabularInline):
    model = SourceInvoiceLine
    extra = 0
    raw_id_fields = ["fr_line"]


@admin.register(SourceInvoice)
class SourceInvoiceAdmin(admin.ModelAdmin):
    list_display = ["invoice_number", "source", "po_number", "total", "match_status", "invoice_date"]
    list_filter = ["match_status", "source"]
    search_fields = ["invoice_number", "po_number", "fulfillment_request__number"]
    raw_id_fields = ["fulfillment_request"]
    inlines = [SourceInvoiceLineInline]


class RoutingPriorityInline(admin.TabularInline):
    model = RoutingPriority
    extra = 0


@admin.register(RoutingGroup)
class RoutingGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "is_default", "position", "allow_split"]
    inlines = [RoutingPriorityInline]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are created with `manage.py create_api_token` (shown once); the admin lists and revokes them."""

    list_display = ["name", "kind", "prefix", "source", "channel", "expires_at", "revoked_at", "last_used_at"]
    list_filter = ["kind"]
    search_fields = ["name", "prefix"]
    readonly_fields = ["prefix", "key_hash", "last_used_at", "created_at"]

    def has_add_permission(self, request):
        return False
