"""Sources, their connections and integrations, runs, mapping templates and the supplier directory."""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from flxhub.fields import EncryptedJSONField


class GlobalSettings(models.Model):
    """The account's defaults; one row (pk=1). Sources may override the FR settings."""

    sku_limit = models.PositiveIntegerField(default=1_000_000, help_text="Plan limit on source inventory variants.")
    auto_process_frs = models.BooleanField(default=False, help_text="Launch new FRs to processing automatically.")
    fr_number_prefix = models.CharField(max_length=20, blank=True)
    fr_number_max_length = models.PositiveSmallIntegerField(default=30)
    feed_safety_threshold = models.DecimalField(
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.5"),
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text="Hold a feed that would archive or zero more than this share of a source's active variants.",
    )

    class Meta:
        verbose_name = verbose_name_plural = "global settings"

    def __str__(self) -> str:
        return "Global settings"

    @classmethod
    def load(cls) -> "GlobalSettings":
        obj, _ = cls.objects.get_or_create(pk=1)
        return obj


class SupplierDirectoryEntry(models.Model):
    """A known connector an operator can pick when onboarding a source (US Direct, generic CSV over SFTP, …)."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    connection_kind = models.CharField(max_length=10)  # one of Connection.Kind
    sku_prefix = models.CharField(max_length=20, blank=True)
    defaults = models.JSONField(default=dict, blank=True, help_text="Integrations, templates and settings to pre-fill.")

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "supplier directory entries"

    def __str__(self) -> str:
        return self.name


class Source(models.Model):
    class Type(models.TextChoices):
        DROPSHIP_SUPPLIER = "dropship_supplier", "Dropship supplier"
        INTERNAL_WAREHOUSE = "internal_warehouse", "Internal warehouse"
        THIRD_PARTY_LOGISTICS = "3pl", "3PL"

    class RejectedLineStrategy(models.TextChoices):
        CANCEL = "cancel", "Cancel rejected lines"
        REGENERATE = "regenerate", "Release rejected lines for regeneration"

    name = models.CharField(max_length=120, unique=True)
    type = models.CharField(max_length=20, choices=Type.choices, default=Type.DROPSHIP_SUPPLIER)
    sku_prefix = models.CharField(max_length=20, blank=True, help_text="Prefix of master SKUs, e.g. USD-.")
    directory_entry = models.ForeignKey(SupplierDirectoryEntry, null=True, blank=True, on_delete=models.SET_NULL)
    is_active = models.BooleanField(default=True)

    address = models.JSONField(default=dict, blank=True)
    contact_email = models.EmailField(blank=True)

    allow_backorders = models.BooleanField(default=False, help_text="Internal warehouses only.")
    commit_stock = models.BooleanField(default=True)
    override_global_settings = models.BooleanField(default=False)
    auto_process_frs = models.BooleanField(default=False)
    fr_number_prefix = models.CharField(max_length=20, blank=True)
    fr_number_max_length = models.PositiveSmallIntegerField(null=True, blank=True)
    fr_number_strategy = models.CharField(max_length=30, default="order_number_suffix")
    shipping_method_map = models.JSONField(default=dict, blank=True, help_text="Our method → the source's code.")
    rejected_line_strategy = models.CharField(
        max_length=20, choices=RejectedLineStrategy.choices, default=RejectedLineStrategy.REGENERATE
    )

    priority = models.PositiveSmallIntegerField(default=100, help_text="Lower wins under the source-priority rule.")
    stock_buffer = models.PositiveIntegerField(default=0, help_text="Units held back from routing.")
    max_stock_age_hours = models.PositiveIntegerField(null=True, blank=True)
    shipping_flat_cost = models.DecimalField(max_digits=12, decimal_places=4, default=Decimal("0"))
    shipping_weight_tiers = models.JSONField(default=list, blank=True, help_text='[{"up_to": 1.0, "cost": "5.00"}]')
    ack_window_hours = models.PositiveIntegerField(default=24)
    ship_window_hours = models.PositiveIntegerField(default=72)
    feed_safety_threshold = models.DecimalField(
        max_digits=4, decimal_places=3, null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(1)]
    )
    onboarding = models.JSONField(default=dict, blank=True, help_text="Onboarding phases done and their data.")

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(allow_backorders=False) | Q(type="internal_warehouse"),
                name="source_backorders_internal_only",
                violation_error_message="Only internal warehouses may allow backorders.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Connection(models.Model):
    """How bytes move between flxhub and a source. Secrets are encrypted and never shown again."""

    class Kind(models.TextChoices):
        FTP = "ftp", "FTP"
        FTPS = "ftps", "FTPS"
        SFTP = "sftp", "SFTP"
        HTTP = "http", "HTTP feed URL"
        REST = "rest", "Vendor REST API"
        IMAP = "imap", "Email (IMAP)"
        UPLOAD = "upload", "Operator upload"
        PUSH = "push", "Supplier pushes to our API"

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="connections")
    name = models.CharField(max_length=120, default="default")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    host = models.CharField(max_length=255, blank=True)
    port = models.PositiveIntegerField(null=True, blank=True)
    username = models.CharField(max_length=255, blank=True)
    path = models.CharField(max_length=500, blank=True, help_text="Remote folder.")
    url = models.URLField(max_length=1000, blank=True)
    options = models.JSONField(default=dict, blank=True)
    secrets = EncryptedJSONField(blank=True, default=dict, help_text="Password, API token, private key…")
    pinned_host_key = models.TextField(blank=True, help_text="SFTP host key, pinned on the first successful test.")

    last_tested_at = models.DateTimeField(null=True, blank=True)
    last_test_ok = models.BooleanField(null=True, blank=True)
    last_test_message = models.TextField(blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "name"], name="connection_unique_name_per_source")]

    def __str__(self) -> str:
        return f"{self.source} · {self.name} ({self.get_kind_display()})"


class MappingTemplate(models.Model):
    """A reusable, versioned mapping between a source's records and flxhub's canonical fields."""

    class Kind(models.TextChoices):
        INVENTORY = "inventory", "Inventory"
        SEND_FR = "send_fr", "Send FR"
        ACK = "ack", "Acknowledgement"
        SHIPMENT = "shipment", "Shipment"
        INVOICE = "invoice", "Invoice"

    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    version = models.PositiveIntegerField(default=1)
    is_builtin = models.BooleanField(default=False)
    format_options = models.JSONField(default=dict, blank=True, help_text="Delimiter, header row, JSON path…")
    conditions = models.JSONField(default=list, blank=True, help_text="Conditional rules: when … set ….")
    exclusions = models.JSONField(default=list, blank=True, help_text="Do-not-import rules.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["name", "kind", "version"], name="mapping_template_unique_version"),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version} ({self.kind})"

    def to_spec(self) -> dict:
        """Return the plain spec the pure mapping engine (sources.mapping) consumes."""
        return {
            "kind": self.kind,
            "format_options": self.format_options,
            "fields": [rule.to_spec() for rule in self.field_rules.all()],
            "conditions": self.conditions,
            "exclusions": self.exclusions,
        }


class FieldRule(models.Model):
    class SourceType(models.TextChoices):
        COLUMN = "column", "Column by header"
        INDEX = "index", "Column by index"
        JSON_PATH = "json_path", "JSON path"
        X12_ELEMENT = "x12_element", "X12 element"
        CONSTANT = "constant", "Constant"
        LOOKUP = "lookup", "Lookup table"

    template = models.ForeignKey(MappingTemplate, on_delete=models.CASCADE, related_name="field_rules")
    position = models.PositiveSmallIntegerField(default=0)
    target = models.CharField(max_length=80)
    source_type = models.CharField(max_length=20, choices=SourceType.choices, default=SourceType.COLUMN)
    source = models.CharField(max_length=255, blank=True)
    transforms = models.JSONField(default=list, blank=True)
    required = models.BooleanField(default=False)
    default = models.CharField(max_length=255, null=True, blank=True)
    lookup = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["template", "position", "id"]

    def __str__(self) -> str:
        return f"{self.target} ← {self.source_type}:{self.source}"

    def to_spec(self) -> dict:
        return {
            "target": self.target,
            "source_type": self.source_type,
            "source": self.source,
            "transforms": self.transforms,
            "required": self.required,
            "default": self.default,
            "lookup": self.lookup,
        }


class Integration(models.Model):
    """One operation of a source, on one connection, with a format, a template, options and a schedule."""

    class Operation(models.TextChoices):
        GET_INVENTORY_PRIMARY = "get_inventory_primary", "Get inventory (primary)"
        GET_INVENTORY_SECONDARY = "get_inventory_secondary", "Get inventory (secondary)"
        SEND_FULFILLMENT_REQUESTS = "send_fulfillment_requests", "Send fulfillment requests"
        GET_FR_ACKNOWLEDGEMENTS = "get_fr_acknowledgements", "Get FR acknowledgements"
        GET_SHIPMENTS = "get_shipments", "Get shipments"
        GET_SOURCE_INVOICES = "get_source_invoices", "Get source invoices"
        GET_INVENTORY_IMAGES = "get_inventory_images", "Get inventory images"

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "XLSX"
        JSON = "json", "JSON"
        X12 = "x12", "EDI X12"
        ZIP = "zip", "ZIP of images"
        FOLDER = "folder", "Folder of files"

    class Schedule(models.TextChoices):
        NONE = "none", "Manual only"
        INTERVAL = "interval", "Every N minutes"
        HOURLY = "hourly", "Hourly"
        DAILY = "daily", "Daily at a time"
        CRON = "cron", "Cron expression"

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="integrations")
    connection = models.ForeignKey(Connection, on_delete=models.PROTECT, related_name="integrations")
    operation = models.CharField(max_length=40, choices=Operation.choices)
    name = models.CharField(max_length=120, blank=True)
    file_format = models.CharField(max_length=10, choices=Format.choices, default=Format.CSV)
    path = models.CharField(max_length=500, blank=True, help_text="Remote folder or endpoint path.")
    file_pattern = models.CharField(max_length=255, blank=True, help_text="Glob of files to pick, e.g. inv_*.csv.")
    archive_folder = models.CharField(max_length=500, blank=True, help_text="Move processed files here.")
    mapping_template = models.ForeignKey(MappingTemplate, null=True, blank=True, on_delete=models.PROTECT)
    options = models.JSONField(default=dict, blank=True)
    is_enabled = models.BooleanField(default=True)

    schedule = models.CharField(max_length=10, choices=Schedule.choices, default=Schedule.NONE)
    every_minutes = models.PositiveIntegerField(null=True, blank=True)
    daily_at = models.TimeField(null=True, blank=True)
    cron = models.CharField(max_length=120, blank=True, help_text="minute hour day-of-month month day-of-week")
    periodic_task = models.OneToOneField(
        "django_celery_beat.PeriodicTask", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    # The claim that keeps one run per integration; a crashed worker's claim expires.
    claimed_by_run = models.ForeignKey(
        "IntegrationRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    claim_expires_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["source", "operation"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(schedule="interval") | Q(every_minutes__gte=1), name="integration_interval_needs_minutes"
            ),
            models.CheckConstraint(
                condition=~Q(schedule="daily") | Q(daily_at__isnull=False), name="integration_daily_needs_time"
            ),
            models.CheckConstraint(condition=~Q(schedule="cron") | ~Q(cron=""), name="integration_cron_needs_expr"),
        ]

    def __str__(self) -> str:
        return self.name or f"{self.source} · {self.get_operation_display()}"


class IntegrationRun(models.Model):
    """One execution of an integration: the unit an operator looks at when something is wrong."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        PARTIAL = "partial", "Partly succeeded (some rows failed)"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped (another run was in progress, or nothing new)"
        HELD = "held", "Held for an operator (feed safety)"

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "Schedule"
        MANUAL = "manual", "Manual"
        API = "api", "API"

    FINISHED = (Status.SUCCEEDED, Status.PARTIAL, Status.FAILED, Status.SKIPPED)

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="runs")
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.MANUAL)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    force = models.BooleanField(default=False, help_text="Apply even if the same input was applied before.")
    attempt = models.PositiveSmallIntegerField(default=1)
    message = models.TextField(blank=True)

    queued_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    progress_done = models.PositiveBigIntegerField(default=0)
    progress_total = models.PositiveBigIntegerField(null=True, blank=True)

    read_count = models.PositiveBigIntegerField(default=0)
    created_count = models.PositiveBigIntegerField(default=0)
    updated_count = models.PositiveBigIntegerField(default=0)
    unchanged_count = models.PositiveBigIntegerField(default=0)
    archived_count = models.PositiveBigIntegerField(default=0)
    skipped_count = models.PositiveBigIntegerField(default=0)
    error_count = models.PositiveBigIntegerField(default=0)

    input_name = models.CharField(max_length=500, blank=True)
    input_size = models.PositiveBigIntegerField(null=True, blank=True)
    input_hash = models.CharField(max_length=64, blank=True, db_index=True)
    log = models.TextField(blank=True)

    class Meta:
        ordering = ["-queued_at", "-id"]
        indexes = [models.Index(fields=["integration", "status"]), models.Index(fields=["status", "-queued_at"])]

    def __str__(self) -> str:
        return f"Run {self.pk} of {self.integration} ({self.status})"


class RunRowError(models.Model):
    run = models.ForeignKey(IntegrationRun, on_delete=models.CASCADE, related_name="row_errors")
    row_number = models.PositiveBigIntegerField(null=True, blank=True)
    sku = models.CharField(max_length=255, blank=True)
    field = models.CharField(max_length=120, blank=True)
    value = models.TextField(blank=True)
    message = models.TextField()

    class Meta:
        ordering = ["run", "row_number", "id"]

    def __str__(self) -> str:
        return f"row {self.row_number}: {self.message}"


class X12ControlSequence(models.Model):
    """Last control number used per trading partner and kind (interchange, group, transaction); never repeats."""

    partner = models.CharField(max_length=80)
    kind = models.CharField(max_length=20)
    last_value = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["partner", "kind"], name="x12_sequence_unique")]

    def __str__(self) -> str:
        return f"{self.partner} {self.kind}={self.last_value}"
