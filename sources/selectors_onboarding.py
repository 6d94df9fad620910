"""Reads for the source pages and onboarding: the checklist, the connection card, the source list, the SKU example.

Nothing here writes. The checklist is computed from the stored rows (connections, their last test, integrations)
and the phase flags kept in ``Source.onboarding``, so it cannot disagree with what is really configured.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet

from .builtin_templates import BUILTIN_TEMPLATES
from .models import Connection, Integration, MappingTemplate, Source, SupplierDirectoryEntry

PHASES = ("setup", "connection", "orders", "finalize")
PHASE_TITLES = {
    "setup": "Initial setup",
    "connection": "Connection",
    "orders": "Order processing",
    "finalize": "Finalize",
}
PHASE_URLS = {
    "setup": "sources:onboarding_setup",
    "connection": "sources:onboarding_connection",
    "orders": "sources:onboarding_orders",
    "finalize": "sources:onboarding_finalize",
}
# Kinds with nothing to test: the supplier calls us (push) or an operator hands us the file (upload needs no login).
UNTESTED_KINDS = {Connection.Kind.PUSH}
SECRET_KEYS = ("password", "private_key", "passphrase")


@dataclass(frozen=True)
class CardField:
    """One field of a connection card. ``target`` says where it is stored: ``model`` field, ``option`` or ``secret``."""

    key: str
    label: str
    target: str = "model"
    help: str = ""
    multiline: bool = False
    number: bool = False

    @property
    def secret(self) -> bool:
        return self.target == "secret"


HOST = CardField("host", "Host")
PORT = CardField("port", "Port", number=True, help="Empty for the protocol's default port.")
USERNAME = CardField("username", "Username")
FOLDER = CardField("path", "Folder", help="Remote folder the files are in, e.g. /outgoing.")
PASSWORD = CardField("password", "Password", target="secret")
CARD_FIELDS: dict[str, tuple[CardField, ...]] = {
    "ftp": (HOST, PORT, USERNAME, FOLDER, PASSWORD),
    "ftps": (HOST, PORT, USERNAME, FOLDER, PASSWORD),
    "sftp": (
        HOST,
        PORT,
        USERNAME,
        FOLDER,
        CardField("password", "Password", target="secret", help="A password, or a private key below."),
        CardField("private_key", "Private key", target="secret", multiline=True, help="OpenSSH or PEM text."),
        CardField("passphrase", "Key passphrase", target="secret"),
    ),
    "http": (
        CardField("url", "Feed URL", help="http:// or https://"),
        CardField("username", "Basic auth username", help="Empty if the feed needs no login."),
        CardField("password", "Basic auth password", target="secret"),
    ),
    "imap": (
        HOST,
        PORT,
        USERNAME,
        CardField("path", "Mailbox folder", help="Default INBOX."),
        CardField("sender", "Only mail from", target="option", help="Substring of the sender's address."),
        CardField("subject", "Only subjects containing", target="option"),
        PASSWORD,
    ),
    "rest": (CardField("url", "API base URL"),),
    "upload": (),
    "push": (),
}


@dataclass(frozen=True)
class ConnectionCard:
    """What phase 2 asks for. ``composite`` cards (US Direct) fill several connections from ``defaults``."""

    kind: str
    fields: tuple[CardField, ...]
    composite: bool = False

    @property
    def secret_keys(self) -> list[str]:
        return [f.key for f in self.fields if f.secret]


def connection_card(*, entry: SupplierDirectoryEntry | None) -> ConnectionCard | None:
    """The connection card of a directory entry; None without an entry (phase 1 is not done)."""
    if entry is None:
        return None
    defaults = entry.defaults or {}
    if defaults.get("connections"):
        fields = [CardField("base_url", "API base URL", help="The supplier's API address.")]
        fields += [
            CardField(c["key"], c["label"], target="secret" if c.get("secret") else "value", help=c.get("help", ""))
            for c in defaults.get("credentials", [])
        ]
        return ConnectionCard(entry.connection_kind, tuple(fields), composite=True)
    return ConnectionCard(entry.connection_kind, CARD_FIELDS.get(entry.connection_kind, ()))


def secret_status(*, source: Source, card: ConnectionCard) -> dict[str, bool]:
    """For each secret of the card: is a value stored? (Never the value itself.)"""
    connections = list(source.connections.all())
    if not card.composite:
        stored = connections[0].secrets if connections else {}
        return {key: bool(stored.get(key)) for key in card.secret_keys}
    stored_keys = {key for connection in connections for key, value in connection.secrets.items() if value}
    return {key: key in stored_keys for key in card.secret_keys}


def card_values(*, source: Source, card: ConnectionCard) -> dict[str, object]:
    """Current non-secret values of the card, to pre-fill the form."""
    connections = {c.name: c for c in source.connections.all()}
    if card.composite:
        saved = dict((source.onboarding.get("connection") or {}).get("values") or {})
        return {f.key: saved.get(f.key, "") for f in card.fields if not f.secret}
    connection = connections.get("default")
    if connection is None:
        return {}
    values: dict[str, object] = {}
    for f in card.fields:
        if f.target == "model":
            values[f.key] = getattr(connection, f.key)
        elif f.target == "option":
            values[f.key] = connection.options.get(f.key, "")
    return values


@dataclass
class PhaseStatus:
    key: str
    number: int
    title: str
    url_name: str
    done: bool
    missing: list[str] = field(default_factory=list)
    note: str = ""


def _setup_status(source: Source, state: dict) -> PhaseStatus:
    missing = []
    if source.directory_entry_id is None:
        missing.append("Pick the supplier in the directory.")
    if not (state.get("setup") or {}).get("account_confirmed"):
        missing.append("Confirm we have an account with this supplier.")
    return PhaseStatus("setup", 1, PHASE_TITLES["setup"], PHASE_URLS["setup"], not missing, missing)


def _connection_status(source: Source, connections: list[Connection]) -> PhaseStatus:
    missing = []
    if not connections:
        missing.append("Enter the connection details.")
    for connection in connections:
        if connection.kind in UNTESTED_KINDS:
            continue
        if connection.last_test_ok is None:
            missing.append(f"Test Connection {connection.name!r} (not tested since it was saved).")
        elif not connection.last_test_ok:
            missing.append(f"Connection {connection.name!r} failed its last test: {connection.last_test_message}")
    return PhaseStatus("connection", 2, PHASE_TITLES["connection"], PHASE_URLS["connection"], not missing, missing)


def _orders_status(state: dict, integrations: list[Integration]) -> PhaseStatus:
    orders = state.get("orders") or {}
    status = PhaseStatus("orders", 3, PHASE_TITLES["orders"], PHASE_URLS["orders"], bool(orders.get("done")))
    if not status.done:
        status.missing.append("Choose whether this source receives FRs and sends shipments (or mark it not used).")
    elif not orders.get("used"):
        status.note = "Not used: inventory only."
    else:
        enabled = [i.get_operation_display() for i in integrations if i.is_enabled and i.operation in ORDER_OPS]
        status.note = ", ".join(enabled) or "No order integration enabled."
    return status


ORDER_OPS = (Integration.Operation.SEND_FULFILLMENT_REQUESTS, Integration.Operation.GET_SHIPMENTS)


def _finalize_status(source: Source, state: dict, integrations: list[Integration]) -> PhaseStatus:
    missing = []
    primary = next((i for i in integrations if i.operation == Integration.Operation.GET_INVENTORY_PRIMARY), None)
    if primary is None:
        missing.append("Set up Get Inventory (file, format, schedule).")
    elif primary.mapping_template_id is None:
        missing.append("Choose the inventory mapping template.")
    finalize = state.get("finalize") or {}
    if not finalize.get("first_run_id"):
        missing.append("Save and start the first sync.")
    status = PhaseStatus("finalize", 4, PHASE_TITLES["finalize"], PHASE_URLS["finalize"], not missing, missing)
    if finalize.get("first_run_id"):
        status.note = f"First sync: run {finalize['first_run_id']}."
    return status


def onboarding_checklist(*, source: Source) -> list[PhaseStatus]:
    """The four phases of ``source``'s onboarding, each done or with what is missing."""
    state = source.onboarding or {}
    connections = list(source.connections.order_by("name"))
    integrations = list(source.integrations.all())
    return [
        _setup_status(source, state),
        _connection_status(source, connections),
        _orders_status(state, integrations),
        _finalize_status(source, state, integrations),
    ]


def onboarding_first_missing(*, checklist: list[PhaseStatus]) -> PhaseStatus | None:
    """The phase to resume at: the first one not done (None when onboarding is complete)."""
    return next((phase for phase in checklist if not phase.done), None)


def source_list() -> QuerySet[Source]:
    """Sources with their directory entry and counts of connections and integrations."""
    return Source.objects.select_related("directory_entry").annotate(
        connection_count=Count("connections", distinct=True),
        integration_count=Count("integrations", distinct=True),
    )


def directory_search(*, query: str = "") -> QuerySet[SupplierDirectoryEntry]:
    """Directory entries whose name, description or connection kind contain every word of ``query``."""
    entries = SupplierDirectoryEntry.objects.order_by("name")
    for word in query.split():
        entries = entries.filter(
            Q(name__icontains=word) | Q(description__icontains=word) | Q(connection_kind__iexact=word)
        )
    return entries


def templates_of_kind(*, kind: str) -> QuerySet[MappingTemplate]:
    """Every stored template of ``kind``, newest version first within a name."""
    return MappingTemplate.objects.filter(kind=kind).order_by("name", "-version")


def entry_integration(*, entry: SupplierDirectoryEntry | None, operation: str) -> dict:
    """The directory entry's default spec of one integration (``{}`` when it has none)."""
    for spec in (entry.defaults or {}).get("integrations", []) if entry else []:
        if spec.get("operation") == operation:
            return spec
    return {}


def builtin_template_stored(*, key: str | None) -> MappingTemplate | None:
    """The stored copy of built-in template ``key`` (None if it was never stored or ``key`` is empty)."""
    if not key or key not in BUILTIN_TEMPLATES:
        return None
    spec = BUILTIN_TEMPLATES[key]
    return (
        MappingTemplate.objects.filter(name=spec["name"], kind=spec["kind"], is_builtin=True)
        .order_by("version")
        .first()
    )


@dataclass(frozen=True)
class SkuExample:
    inventory_sku: str
    master_sku: str
    listing_sku: str


def sku_example(*, prefix: str, sample_sku: str) -> SkuExample:
    """How a source SKU becomes a master SKU (prefix + SKU, as the feed apply computes it) and a listing SKU.

    Channel listings are keyed by the master SKU unless a listing says otherwise, so the listing SKU shown is
    the master SKU.
    """
    sample = sample_sku.strip() or "ABC-123"
    master = f"{prefix}{sample}"
    return SkuExample(sample, master, master)
