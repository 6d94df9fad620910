"""Shared plumbing of the order-side runners: folder transports, inbound files, applying located results."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import Any

from django.db import IntegrityError, transaction

from flxhub.exceptions import ApplicationError
from sources.services.connections import connection_settings
from sources.transports import get_transport
from sources.transports.base import join_folder

from ..models import InboundFile
from .apply import ack_apply, invoice_apply, shipment_apply

KIND_OF_OPERATION = {
    "get_fr_acknowledgements": "ack",
    "get_shipments": "shipment",
    "get_source_invoices": "invoice",
}


@dataclass
class RowProblem:
    """A row error in the shape ``RunContext.row_errors`` stores."""

    row: int | None
    sku: str
    field: str
    value: Any
    message: str


@dataclass
class Located:
    """One result read from a file or an API, with where it came from (row number and a label)."""

    row: int | None
    label: str
    kind: str  # ack, shipment, invoice
    result: Any = None
    error: str = ""


class Folders:
    """Transports onto folders under the connection's root, opened on first use and closed together."""

    def __init__(self, integration):
        self.integration = integration
        self.settings = connection_settings(integration.connection)
        self._open: dict[str, Any] = {}

    def path_of(self, folder: str) -> str:
        base = self.settings.path
        return join_folder(base or ".", folder) if folder else base

    def get(self, folder: str = ""):
        path = self.path_of(folder)
        if path not in self._open:
            self._open[path] = get_transport(replace(self.settings, path=path))
        return self._open[path]

    def archive_folder(self) -> str:
        folder = self.integration.archive_folder
        return self.path_of(folder) if folder else ""

    def close(self) -> None:
        for transport in self._open.values():
            transport.close()
        self._open.clear()


@dataclass
class IncomingFile:
    name: str
    data: bytes
    digest: str


def incoming_files(ctx, folders: Folders, transport, pattern: str) -> list[IncomingFile]:
    """The folder's files matching ``pattern``, oldest first; ones already applied are archived and skipped."""
    files = []
    for remote in transport.list_files(pattern or "*"):
        if remote.name.startswith("."):
            continue  # an upload still in progress
        data = transport.fetch(remote.name)
        digest = hashlib.sha256(data).hexdigest()
        ctx.counts["read"] += 1
        seen = InboundFile.objects.filter(integration=ctx.integration, digest=digest).exists()
        if seen and not ctx.run.force:
            ctx.counts["skipped"] += 1
            ctx.log(f"{remote.name} was applied before (same content); skipped")
            file_done(ctx, folders, transport, remote.name, digest, record=False)
            continue
        files.append(IncomingFile(remote.name, data, digest))
    if files:
        combined = hashlib.sha256("".join(f.digest for f in files).encode()).hexdigest()
        ctx.set_input(name=", ".join(f.name for f in files), size=sum(len(f.data) for f in files), digest=combined)
    return files


def file_done(ctx, folders: Folders, transport, name: str, digest: str, *, record: bool = True) -> None:
    """Remember the file's content as applied and move it to the archive folder, if the integration has one."""
    if record:
        try:
            with transaction.atomic():
                InboundFile.objects.get_or_create(
                    integration=ctx.integration, digest=digest, defaults={"name": name[:500], "run_id": ctx.run.pk}
                )
        except IntegrityError:
            pass
    archive = folders.archive_folder()
    if archive and transport.can_move:
        transport.move(name, archive)
        ctx.counts["archived"] += 1


APPLY = {
    "ack": lambda ctx, result: ack_apply(source_id=ctx.integration.source_id, ack=result, actor_label=_label(ctx)),
    "shipment": lambda ctx, result: shipment_apply(
        source_id=ctx.integration.source_id, shipment=result, actor_label=_label(ctx)
    ),
    "invoice": lambda ctx, result: invoice_apply(source_id=ctx.integration.source_id, invoice=result),
}


def _label(ctx) -> str:
    return f"run:{ctx.run.pk}"


def apply_located(ctx, items: list[Located]) -> dict[str, int]:
    """Apply each result through its service; a result that fails becomes a row error, the others still apply."""
    outcomes = {"created": 0, "unchanged": 0, "error": 0}
    problems = []
    for position, item in enumerate(items, start=1):
        number = getattr(item.result, "fr_number", "") if item.result is not None else ""
        if item.error:
            problems.append(RowProblem(item.row, number, item.kind, item.label, item.error))
            outcomes["error"] += 1
            continue
        try:
            outcome = APPLY[item.kind](ctx, item.result)
        except ApplicationError as error:
            problems.append(RowProblem(item.row, number, item.kind, item.label, error.message))
            outcomes["error"] += 1
            continue
        outcomes[outcome] += 1
        ctx.counts["created" if outcome == "created" else "unchanged"] += 1
        if position % 100 == 0:
            ctx.progress(position, len(items))
    if problems:
        ctx.row_errors(problems)
    return outcomes
