"""Forms of the onboarding phases and the source settings: parse and check input; the services do the rest."""

from __future__ import annotations

from django import forms

from .models import Integration, MappingTemplate, Source, SupplierDirectoryEntry
from .selectors_onboarding import ConnectionCard
from .services.onboarding import SOURCE_SETTINGS


class SetupForm(forms.Form):
    name = forms.CharField(max_length=120)
    type = forms.ChoiceField(choices=Source.Type.choices, initial=Source.Type.DROPSHIP_SUPPLIER)
    directory_entry = forms.ModelChoiceField(
        queryset=SupplierDirectoryEntry.objects.order_by("name"),
        widget=forms.RadioSelect,
        error_messages={"required": "Pick the supplier in the directory.", "invalid_choice": "Pick a listed supplier."},
    )
    account_confirmed = forms.BooleanField(
        label="I confirm we have an account with this supplier",
        error_messages={"required": "Confirm that we have an account with this supplier."},
    )


class ConnectionForm(forms.Form):
    """Built from a connection card: non-secret fields pre-filled, secrets write-only (empty keeps the stored one)."""

    def __init__(self, *args, card: ConnectionCard, secret_set: dict[str, bool], **kwargs):
        super().__init__(*args, **kwargs)
        self.card = card
        for f in card.fields:
            if f.secret:
                state = "set" if secret_set.get(f.key) else "not set"
                help_text = f"{f.help} Currently {state}; leave empty to keep it.".strip()
                widget = (
                    forms.Textarea(attrs={"rows": 3, "autocomplete": "off"})
                    if f.multiline
                    else forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})
                )
                field = forms.CharField(label=f.label, required=False, widget=widget, help_text=help_text, strip=False)
                field.secret_state = state
            elif f.number:
                field = forms.IntegerField(
                    label=f.label, required=False, min_value=1, max_value=65535, help_text=f.help
                )
            else:
                field = forms.CharField(label=f.label, required=False, max_length=1000, help_text=f.help)
            self.fields[f.key] = field

    def values(self) -> dict:
        return {f.key: self.cleaned_data.get(f.key) for f in self.card.fields if not f.secret}

    def secrets(self) -> dict[str, str]:
        return {f.key: self.cleaned_data.get(f.key) or "" for f in self.card.fields if f.secret}

    def secret_fields(self):
        return [self[f.key] for f in self.card.fields if f.secret]

    def plain_fields(self):
        return [self[f.key] for f in self.card.fields if not f.secret]


def parse_method_map(data) -> list[tuple[str, str]]:
    """Rows ``map_ours`` / ``map_theirs`` (parallel lists) → [(our method, the source's code)]; the service drops
    empty rows and refuses half-filled ones."""
    ours, theirs = data.getlist("map_ours"), data.getlist("map_theirs")
    return [(method, theirs[index] if index < len(theirs) else "") for index, method in enumerate(ours)]


def _template_choice(kind: str, label: str) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        queryset=MappingTemplate.objects.filter(kind=kind).order_by("name", "-version"),
        required=False,
        label=label,
        empty_label="The connector's built-in format",
    )


class OrdersForm(forms.Form):
    used = forms.TypedChoiceField(
        choices=[("1", "This source receives FRs"), ("0", "Not used: inventory only")],
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
        initial="1",
        label="Order processing",
    )
    send_frs = forms.BooleanField(required=False, label="Send FRs to this source")
    auto_process_frs = forms.BooleanField(
        required=False, label="Automatically", help_text="Launch new FRs to processing without an operator."
    )
    send_template = _template_choice(MappingTemplate.Kind.SEND_FR, "Order field mapping")
    send_path = forms.CharField(required=False, max_length=500, label="Send to folder", help_text="e.g. in")
    shipments = forms.BooleanField(required=False, label="Retrieve shipments from this source")
    shipment_template = _template_choice(MappingTemplate.Kind.SHIPMENT, "Shipment mapping")
    shipment_path = forms.CharField(required=False, max_length=500, label="Shipments folder", help_text="e.g. out")


SCHEDULES = Integration.Schedule.choices


class FinalizeForm(forms.Form):
    sku_prefix = forms.CharField(
        max_length=20, required=False, label="SKU prefix", help_text="Master SKU = prefix + the source's SKU."
    )
    sample_sku = forms.CharField(max_length=120, required=False, label="Sample SKU from the feed")
    file_pattern = forms.CharField(max_length=255, required=False, help_text="Glob in the folder, e.g. inventory*.csv")
    archive_folder = forms.CharField(max_length=500, required=False, help_text="Move applied files here (optional).")
    file_format = forms.ChoiceField(choices=Integration.Format.choices, initial=Integration.Format.CSV)
    template = forms.ModelChoiceField(
        queryset=MappingTemplate.objects.filter(kind=MappingTemplate.Kind.INVENTORY).order_by("name", "-version"),
        label="Inventory mapping template",
        error_messages={"required": "Choose the inventory mapping template."},
    )
    schedule = forms.ChoiceField(choices=SCHEDULES, initial=Integration.Schedule.DAILY)
    every_minutes = forms.IntegerField(required=False, min_value=1)
    daily_at = forms.TimeField(required=False, help_text="HH:MM (UTC)")
    cron = forms.CharField(required=False, max_length=120)

    def clean(self):
        data = super().clean()
        needs = {"interval": "every_minutes", "daily": "daily_at", "cron": "cron"}.get(data.get("schedule"))
        if needs and not data.get(needs):
            self.add_error(needs, f"The {data['schedule']} schedule needs this.")
        return data

    def schedule_spec(self) -> dict:
        data = self.cleaned_data
        daily_at = data.get("daily_at")
        return {
            "schedule": data["schedule"],
            "every_minutes": data.get("every_minutes") if data["schedule"] == "interval" else None,
            "daily_at": daily_at.strftime("%H:%M") if daily_at and data["schedule"] == "daily" else None,
            "cron": data.get("cron", "") if data["schedule"] == "cron" else "",
        }


class SourceSettingsForm(forms.ModelForm):
    class Meta:
        model = Source
        fields = [name for name in SOURCE_SETTINGS if name != "shipping_method_map"]  # the map has its own rows
        labels = {
            "auto_process_frs": "Auto-process FRs",
            "fr_number_prefix": "FR number prefix",
            "fr_number_max_length": "FR number max length",
            "feed_safety_threshold": "Feed-safety threshold",
        }
        help_texts = {
            "feed_safety_threshold": "Share 0–1; empty uses the global threshold.",
            "fr_number_max_length": "Empty uses the global maximum; a longer FR number holds the FR.",
            "auto_process_frs": "Applies when overriding the global settings.",
        }

    def _post_clean(self):
        """Leave model validation to the service (it validates the whole row once, inside its transaction)."""
