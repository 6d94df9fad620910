"""The file channel: FRs dropped as one CSV/XLSX per run, acks/shipments/invoices read from CSV/XLSX/JSON files.

Files live in the integration's folder (``integration.path`` under the connection's folder). Outbound files
get a unique name and are stored atomically by the transport (temporary name, then rename), so a source
never reads half a file; an FR whose last file never arrived goes out again in the next run's file.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

from django.utils import timezone

from flxhub.exceptions import ApplicationError
from sources.formats import read_records
from sources.formats.csv import write_csv
from sources.formats.xlsx import write_xlsx
from sources.mapping import compile_template, render, render_headers

from ..models import FulfillmentRequest
from ..services.fr_status import fr_transition
from .inbound import Folders, Located, RowProblem, apply_located, file_done, incoming_files
from .payloads import fr_canonical_lines, frs_for_sending
from .rest import AckLine, AckResult, InvoiceLine, InvoiceResult, SendResult, ShipmentItem, ShipmentResult
from .submissions import pending_submission, submission_abandon, submission_finish, submission_start

Status = FulfillmentRequest.Status


def _rule(target: str, source: str | None = None, required: bool = False) -> dict:
    return {
        "target": target,
        "source_type": "column",
        "source": source or target,
        "transforms": [{"op": "trim"}],
        "required": required,
        "default": None,
        "lookup": None,
    }


SEND_FR_COLUMNS = (
    "fr_number",
    "order_number",
    "shipping_method",
    "ship_to_name",
    "ship_to_company",
    "ship_to_address1",
    "ship_to_address2",
    "ship_to_city",
    "ship_to_state",
    "ship_to_postal_code",
    "ship_to_country",
    "ship_to_phone",
    "line_number",
    "sku",
    "upc",
    "title",
    "quantity",
    "unit_cost",
)
DEFAULT_SPECS = {
    "send_fr": {
        "kind": "send_fr",
        "fields": [
            {**_rule(column), "transforms": [], "required": column in ("fr_number", "sku", "quantity")}
            for column in SEND_FR_COLUMNS
        ],
    },
    "ack": {
        "kind": "ack",
        "fields": [_rule("fr_number", required=True)]
        + [_rule(name) for name in ("sku", "accepted", "backordered", "rejected", "reason")],
    },
    "shipment": {
        "kind": "shipment",
        "fields": [_rule("fr_number", required=True), _rule("tracking_number", required=True)]
        + [_rule(name) for name in ("carrier", "method", "shipped_at", "sku", "quantity", "cost")],
    },
    "invoice": {
        "kind": "invoice",
        "fields": [
            _rule("fr_number", required=True),
            _rule("invoice_number", required=True),
            _rule("total", required=True),
        ]
        + [_rule(name) for name in ("invoice_date", "sku", "quantity", "unit_cost")],
    },
}


def template_spec(integration, kind: str) -> dict:
    """The integration's mapping template, else the built-in one whose columns are the canonical names."""
    if integration.mapping_template_id:
        return integration.mapping_template.to_spec()
    return DEFAULT_SPECS[kind]


class FileChannel:
    name = "file"

    def __init__(self, ctx):
        self.ctx = ctx
        self.folders = Folders(ctx.integration)

    def close(self) -> None:
        self.folders.close()

    def send(self, fr_ids: list[int]) -> None:
        ctx, integration = self.ctx, self.ctx.integration
        label = f"run:{ctx.run.pk}"
        transport = self.folders.get(integration.path)
        to_send = []
        for fr in frs_for_sending(fr_ids):
            pending = pending_submission(fr)
            if pending is not None and pending.reference and transport.exists(pending.reference):
                ctx.log(f"{fr.number}: already delivered in {pending.reference}; not sent again")
                submission_finish(submission=pending, result=SendResult("received"), actor_label=label)
                ctx.counts["unchanged"] += 1
            else:
                to_send.append(fr)
        if not to_send:
            return
        spec = template_spec(integration, "send_fr")
        rows, ready, problems = [], [], []
        for fr in to_send:
            errors = []
            fr_rows = list(render(spec, fr_canonical_lines(fr), errors.append))
            if errors:
                problems += [RowProblem(e.row, fr.number, e.field, e.value, e.message) for e in errors]
                reason = "; ".join(f"{e.field}: {e.message}" for e in errors[:3])
                pending = pending_submission(fr)
                if pending is not None:
                    submission_abandon(submission=pending, message=reason)
                fr_transition(fr_id=fr.pk, to=Status.ON_HOLD, actor_label=label, reason=f"Missing data: {reason}")
                continue
            rows += fr_rows
            ready.append(fr)
        if problems:
            ctx.row_errors(problems)
        if not ready:
            return
        fmt = integration.file_format if integration.file_format in ("csv", "xlsx") else "csv"
        prefix = integration.options.get("file_prefix", "frs_")
        name = f"{prefix}{timezone.now():%Y%m%dT%H%M%S}_{ctx.run.pk}.{fmt}"
        headers = render_headers(spec)
        data = write_xlsx(rows, headers) if fmt == "xlsx" else write_csv(rows, headers, spec.get("format_options"))
        submissions = [
            submission_start(fr_id=fr.pk, integration=integration, channel=self.name, reference=name) for fr in ready
        ]
        transport.put(name, data)
        for submission in submissions:
            submission_finish(submission=submission, result=SendResult("received"), actor_label=label)
        ctx.counts["created"] += len(ready)
        ctx.log(f"Sent {len(ready)} FR(s) in {name}")

    def receive(self, kind: str) -> None:
        ctx, integration = self.ctx, self.ctx.integration
        transport = self.folders.get(integration.path)
        spec = template_spec(integration, kind)
        mapper_spec = {**spec, "kind": kind}
        fmt = integration.file_format if integration.file_format in ("csv", "xlsx", "json") else "csv"
        for incoming in incoming_files(ctx, self.folders, transport, integration.file_pattern):
            errors = []
            try:
                records = read_records(fmt, incoming.data, spec.get("format_options") or {})
                rows = list(compile_template(mapper_spec, kind).map(records, errors.append))
            except ApplicationError as error:
                ctx.row_errors([RowProblem(None, "", "file", incoming.name, error.message)])
                file_done(ctx, self.folders, transport, incoming.name, incoming.digest)
                continue
            ctx.row_errors(errors)
            items = GROUPERS[kind]([(row.row, row.data) for row in rows], incoming.name)
            outcome = apply_located(ctx, items)
            ctx.log(
                f"{incoming.name}: {len(rows)} row(s), {outcome['created']} new, "
                f"{outcome['unchanged']} already known, {outcome['error'] + len(errors)} with errors"
            )
            file_done(ctx, self.folders, transport, incoming.name, incoming.digest)


def _moment(value) -> datetime | None:
    if isinstance(value, datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value)
    if isinstance(value, date):
        return timezone.make_aware(datetime.combine(value, time(12)))
    return None


def group_acks(rows: list[tuple[int, dict]], name: str) -> list[Located]:
    by_fr: dict[str, Located] = {}
    for row, data in rows:
        number = data["fr_number"]
        item = by_fr.setdefault(number, Located(row, f"{name} row {row}", "ack", AckResult(fr_number=number)))
        if data.get("sku"):
            item.result.lines.append(
                AckLine(
                    sku=data["sku"],
                    accepted=data.get("accepted") or 0,
                    backordered=data.get("backordered") or 0,
                    rejected=data.get("rejected") or 0,
                    reason=data.get("reason") or "",
                )
            )
        elif data.get("rejected"):
            item.result.rejected_reason = data.get("reason") or "Rejected by the source."
    return list(by_fr.values())


def group_shipments(rows: list[tuple[int, dict]], name: str) -> list[Located]:
    by_key: dict[tuple[str, str], Located] = {}
    for row, data in rows:
        key = (data["fr_number"], data["tracking_number"])
        if key not in by_key:
            result = ShipmentResult(
                fr_number=key[0],
                tracking_number=key[1],
                carrier=data.get("carrier") or "",
                method=data.get("method") or "",
                shipped_at=_moment(data.get("shipped_at")),
                cost=data.get("cost"),
            )
            by_key[key] = Located(row, f"{name} row {row}", "shipment", result)
        if data.get("sku") and data.get("quantity"):
            by_key[key].result.items.append(ShipmentItem(sku=data["sku"], quantity=data["quantity"]))
    return list(by_key.values())


def group_invoices(rows: list[tuple[int, dict]], name: str) -> list[Located]:
    by_key: dict[tuple[str, str], Located] = {}
    for row, data in rows:
        key = (data["fr_number"], data["invoice_number"])
        if key not in by_key:
            result = InvoiceResult(
                fr_number=key[0],
                invoice_number=key[1],
                total=data.get("total") or Decimal("0"),
                invoice_date=_moment(data.get("invoice_date")),
            )
            by_key[key] = Located(row, f"{name} row {row}", "invoice", result)
        if data.get("sku") and data.get("quantity"):
            by_key[key].result.lines.append(
                InvoiceLine(sku=data["sku"], quantity=data["quantity"], unit_cost=data.get("unit_cost") or Decimal(0))
            )
    return list(by_key.values())


GROUPERS = {"ack": group_acks, "shipment": group_shipments, "invoice": group_invoices}
