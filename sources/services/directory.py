"""The supplier directory: known connectors an operator picks when onboarding a source, kept in the database.

``directory_ensure_builtin()`` creates or refreshes the built-in entries (idempotent: entries are found by
slug). An entry's ``defaults`` say what to pre-fill: the source's settings, the credentials the connection
card asks for, the connections, and the integrations with their template (a key of
``sources.builtin_templates``) and default schedule. ``sources`` knows the US Direct protocol only by its
name (``"usdirect"``); the orders app implements it.
"""

from django.db import transaction

from ..builtin_templates import builtin_template
from ..models import FieldRule, MappingTemplate, SupplierDirectoryEntry

US_DIRECT = {
    "slug": "us-direct",
    "name": "US Direct",
    "description": (
        "US Direct's dropship API: inventory from the feed URL, orders sent by API, shipments with tracking and "
        "invoices by the Flx PO (FR) number. Verify first: send a single order by hand before enabling automatic "
        "sending."
    ),
    "connection_kind": "rest",
    "sku_prefix": "USD-",
    "defaults": {
        "source": {
            "type": "dropship_supplier",
            "sku_prefix": "USD-",
            "shipping_method_map": {"ground": "UPS-GND", "express": "FEDEX-EXP", "priority": "USPS-PRIORITY"},
            "auto_process_frs": False,
        },
        "credentials": [
            {"key": "api_token", "label": "API token", "secret": True, "help": "From the US Direct reseller portal."},
            {
                "key": "feed_url",
                "label": "Feed URL",
                "secret": False,
                "help": "For Get Inventory (primary, secondary).",
            },
            {"key": "reseller_token", "label": "Reseller token", "secret": True, "help": "Needed for Get Invoice."},
        ],
        "connections": {
            "feed": {"kind": "http", "url": "{feed_url}", "secrets": {"token": "{api_token}"}},
            "api": {
                "kind": "rest",
                "url": "{base_url}",
                "options": {"protocol": "usdirect"},
                "secrets": {"api_token": "{api_token}", "reseller_token": "{reseller_token}"},
            },
        },
        "integrations": [
            {
                "operation": "get_inventory_primary",
                "connection": "feed",
                "file_format": "csv",
                "template": "us_direct_inventory",
                "schedule": {"schedule": "daily", "daily_at": "04:00"},
            },
            {
                "operation": "get_inventory_secondary",
                "connection": "feed",
                "file_format": "csv",
                "template": "us_direct_inventory",
                "schedule": {"schedule": "interval", "every_minutes": 60},
            },
            {
                "operation": "send_fulfillment_requests",
                "connection": "api",
                "file_format": "json",
                "schedule": {"schedule": "interval", "every_minutes": 15},
            },
            {
                "operation": "get_shipments",
                "connection": "api",
                "file_format": "json",
                "schedule": {"schedule": "interval", "every_minutes": 60},
            },
            {
                "operation": "get_source_invoices",
                "connection": "api",
                "file_format": "json",
                "schedule": {"schedule": "daily", "daily_at": "06:00"},
            },
        ],
    },
}

GENERIC_ENTRIES = [
    (
        "generic-csv-sftp",
        "Generic CSV/XLSX over SFTP",
        "sftp",
        "A feed file in a folder on the supplier's SFTP server.",
    ),
    ("generic-csv-ftp", "Generic CSV/XLSX over FTP", "ftp", "A feed file in a folder on the supplier's FTP server."),
    ("generic-csv-http", "Generic CSV/XLSX feed URL", "http", "A feed file the supplier publishes at a URL."),
    ("edi-x12-sftp", "EDI X12 over SFTP", "sftp", "846 in, 850 out, 855/856/810 in, 997 both ways."),
    ("email-attachment", "Email attachment", "imap", "Feed files attached to emails in a mailbox."),
    ("supplier-api-push", "Supplier pushes to flxhub's API", "push", "The supplier calls flxhub with a source token."),
    ("manual-upload", "Manual upload", "upload", "An operator uploads the supplier's file."),
]


def directory_ensure_builtin() -> list[SupplierDirectoryEntry]:
    """Create or refresh the built-in directory entries (found by slug) and the templates they name."""
    specs = [US_DIRECT] + [
        {
            "slug": slug,
            "name": name,
            "connection_kind": kind,
            "description": description,
            "sku_prefix": "",
            "defaults": {"integrations": [{"operation": "get_inventory_primary", "template": "generic_csv_inventory"}]},
        }
        for slug, name, kind, description in GENERIC_ENTRIES
    ]
    entries = []
    with transaction.atomic():
        for spec in specs:
            for integration in spec["defaults"].get("integrations", []):
                if integration.get("template"):
                    template_ensure_builtin(key=integration["template"])
            entry, _ = SupplierDirectoryEntry.objects.update_or_create(
                slug=spec["slug"], defaults={key: value for key, value in spec.items() if key != "slug"}
            )
            entries.append(entry)
    return entries


def template_ensure_builtin(*, key: str) -> MappingTemplate:
    """Return the stored copy of built-in template ``key`` (version 1, marked built-in), creating it if missing.

    An existing copy is left as it is: operators may have tuned it, and a change to a built-in ships as a
    new version rather than rewriting the rules under running integrations.
    """
    spec = builtin_template(key)
    with transaction.atomic():
        template, created = MappingTemplate.objects.get_or_create(
            name=spec["name"],
            kind=spec["kind"],
            version=1,
            defaults={
                "is_builtin": True,
                "format_options": spec.get("format_options") or {},
                "conditions": spec.get("conditions") or [],
                "exclusions": spec.get("exclusions") or [],
            },
        )
        if created:
            FieldRule.objects.bulk_create(
                FieldRule(
                    template=template,
                    position=position,
                    target=rule["target"],
                    source_type=rule.get("source_type", "column"),
                    source=rule.get("source", ""),
                    transforms=rule.get("transforms") or [],
                    required=bool(rule.get("required")),
                    default=rule.get("default"),
                    lookup=rule.get("lookup") or {},
                )
                for position, rule in enumerate(spec["fields"])
            )
    return template


def directory_entry_get(*, slug: str) -> SupplierDirectoryEntry:
    """Return the directory entry ``slug``, creating the built-in entries first if it is one of them."""
    entry = SupplierDirectoryEntry.objects.filter(slug=slug).first()
    if entry is None:
        directory_ensure_builtin()
        entry = SupplierDirectoryEntry.objects.get(slug=slug)
    return entry
