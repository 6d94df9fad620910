"""The EDI channel: X12 850s out (one interchange per run), 855/856/810/997 in, a 997 for every group received.

Envelope settings come from the integration's options over the connection's: ``edi_sender_id`` (default
FLXHUB), ``edi_receiver_id`` (the partner; default ``SOURCE<id>``), their ``*_qualifier`` (default ZZ),
``edi_usage`` (P or T), ``edi_outbound_folder`` (where 997s go; default the Send FR integration's folder).
Control numbers are persisted per partner (``sources.services.x12_control``). Every sent 850 is an
``EdiDocument`` waiting for its 997; one still waiting after the partner's window is flagged overdue.
An inbound file is read as a whole: all its 855s, 856s, 810s and 997s apply, whichever run reads it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from sources.formats import x12
from sources.models import Integration
from sources.services.x12_control import DatabaseControlNumbers

from ..models import EdiDocument, FREvent, FulfillmentRequest
from ..services.fr_status import fr_transition
from .inbound import Folders, Located, RowProblem, apply_located, file_done, incoming_files
from .payloads import fr_purchase_order, frs_for_sending
from .rest import AckLine, AckResult, InvoiceLine, InvoiceResult, SendResult, ShipmentItem, ShipmentResult
from .submissions import pending_submission, submission_abandon, submission_finish, submission_start

Doc = EdiDocument
Status = FulfillmentRequest.Status
ITEM_QUALIFIERS = ("VN", "VP", "SK", "BP", "IN", "CB", "MG", "UP", "UK", "EN", "UA")
KIND_RANK = {"997": 0, "855": 1, "856": 2, "810": 3}
AK_STATUS = {
    "A": Doc.Status.ACCEPTED,
    "E": Doc.Status.ACCEPTED_WITH_ERRORS,
    "P": Doc.Status.ACCEPTED_WITH_ERRORS,
    "R": Doc.Status.REJECTED,
}


@dataclass
class EdiItem(ShipmentItem):
    alternatives: tuple[str, ...] = ()


@dataclass
class EdiAckLine(AckLine):
    alternatives: tuple[str, ...] = ()


@dataclass
class EdiInvoiceLine(InvoiceLine):
    alternatives: tuple[str, ...] = ()


class RecordingControlNumbers:
    """Hands out the partner's persisted numbers and remembers them, to store them with what was sent."""

    def __init__(self, partner: str):
        self.inner = DatabaseControlNumbers(partner)
        self.taken: dict[str, list[int]] = {"interchange": [], "group": [], "transaction": []}

    def next(self, kind: str) -> int:
        number = self.inner.next(kind)
        self.taken[kind].append(number)
        return number


def edi_options(integration: Integration) -> dict:
    return {**(integration.connection.options or {}), **(integration.options or {})}


def envelope_for(integration: Integration) -> x12.Envelope:
    options = edi_options(integration)
    return x12.Envelope(
        sender_id=options.get("edi_sender_id", "FLXHUB"),
        receiver_id=options.get("edi_receiver_id") or f"SOURCE{integration.source_id}",
        sender_qualifier=options.get("edi_sender_qualifier", "ZZ"),
        receiver_qualifier=options.get("edi_receiver_qualifier", "ZZ"),
        usage=options.get("edi_usage", "P"),
    )


def _key(number: str) -> str:
    """Control numbers compared without their zero padding."""
    text = (number or "").strip()
    return str(int(text)) if text.isdigit() else text


def _identifiers(ids: dict[str, str]) -> tuple[str, tuple[str, ...]]:
    ordered = [ids[q] for q in ITEM_QUALIFIERS if ids.get(q)] + [v for q, v in ids.items() if q not in ITEM_QUALIFIERS]
    ordered = [value.strip() for value in ordered if value and value.strip()]
    return (ordered[0] if ordered else ""), tuple(ordered[1:])


def _date(text: str) -> datetime | None:
    try:
        day = datetime.strptime((text or "")[:8], "%Y%m%d").date()
    except ValueError:
        return None
    return timezone.make_aware(datetime.combine(day, time(12)))


def _int(value) -> int:
    return int(value) if value is not None else 0


@dataclass
class Received:
    """One inbound file read: what to apply, the 997s to answer with, the problems found."""

    located: list[tuple[str, Located]] = field(default_factory=list)  # (set id, item)
    acks: list[x12.FunctionalAck] = field(default_factory=list)
    documents: list[dict] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)


class EdiChannel:
    name = "edi"

    def __init__(self, ctx):
        self.ctx = ctx
        self.integration = ctx.integration
        self.folders = Folders(ctx.integration)
        self.envelope = envelope_for(ctx.integration)
        self.partner = self.envelope.receiver_id

    def close(self) -> None:
        self.folders.close()

    # --- outbound 850 -------------------------------------------------------------------------------------

    def send(self, fr_ids: list[int]) -> None:
        ctx, integration = self.ctx, self.integration
        label = f"run:{ctx.run.pk}"
        transport = self.folders.get(integration.path)
        to_send = []
        for fr in frs_for_sending(fr_ids):
            pending = pending_submission(fr)
            if pending is not None and pending.reference:
                answered = Doc.objects.filter(
                    direction="out", kind="850", fulfillment_request=fr, file_name=pending.reference
                ).exclude(status=Doc.Status.SENT)
                if transport.exists(pending.reference) or answered.exists():
                    ctx.log(f"{fr.number}: already delivered in {pending.reference}; not sent again")
                    submission_finish(submission=pending, result=SendResult("received"), actor_label=label)
                    ctx.counts["unchanged"] += 1
                    continue
                Doc.objects.filter(direction="out", fulfillment_request=fr, file_name=pending.reference).update(
                    status=Doc.Status.UNDELIVERED
                )
            to_send.append(fr)
        documents, ready, problems = [], [], []
        for fr in to_send:
            try:
                document = fr_purchase_order(fr)
                x12.write([document], envelope=self.envelope, control_numbers=x12.InMemoryControlNumbers())
            except x12.X12Error as error:
                problems.append(RowProblem(None, fr.number, "850", "", str(error)))
                pending = pending_submission(fr)
                if pending is not None:
                    submission_abandon(submission=pending, message=str(error))
                fr_transition(
                    fr_id=fr.pk, to=Status.ON_HOLD, actor_label=label, reason=f"Cannot write its 850: {error}"
                )
                continue
            documents.append(document)
            ready.append(fr)
        if problems:
            ctx.row_errors(problems)
        if not ready:
            return
        numbers = RecordingControlNumbers(self.partner)
        with transaction.atomic():
            data = x12.write(documents, envelope=self.envelope, control_numbers=numbers)
            interchange, group = numbers.taken["interchange"][0], numbers.taken["group"][0]
            name = f"850_{self.partner}_{interchange:09d}.x12"
            submissions = []
            for fr, control in zip(ready, numbers.taken["transaction"], strict=True):
                submissions.append(
                    submission_start(fr_id=fr.pk, integration=integration, channel=self.name, reference=name)
                )
                Doc.objects.create(
                    direction="out",
                    partner=self.partner,
                    kind="850",
                    interchange_control=str(interchange),
                    group_control=str(group),
                    transaction_control=str(control),
                    fulfillment_request=fr,
                    reference=fr.number,
                    file_name=name,
                    status=Doc.Status.SENT,
                )
        transport.put(name, data)
        for submission in submissions:
            submission_finish(submission=submission, result=SendResult("received"), actor_label=label)
        ctx.counts["created"] += len(ready)
        ctx.log(f"Sent {len(ready)} 850(s) in {name} (interchange {interchange})")
        self.flag_overdue()

    # --- inbound ------------------------------------------------------------------------------------------

    def receive(self, kind: str) -> None:
        """Read every file in the folder; apply its documents (acks first, then shipments, then invoices)."""
        ctx, integration = self.ctx, self.integration
        transport = self.folders.get(integration.path)
        files = incoming_files(ctx, self.folders, transport, integration.file_pattern)
        readings = [(incoming, self.read(incoming.name, incoming.data)) for incoming in files]
        for incoming, received in readings:
            if received.acks:
                self.send_997s(received.acks, incoming.name)
        located = sorted(
            ((set_id, item) for _, received in readings for set_id, item in received.located),
            key=lambda pair: KIND_RANK.get(pair[0], 9),
        )
        problems = [problem for _, received in readings for problem in received.problems]
        if problems:
            ctx.row_errors(problems)
        outcome = apply_located(ctx, [item for _, item in located])
        for incoming, received in readings:
            self.record_documents(received.documents, incoming.name)
            file_done(ctx, self.folders, transport, incoming.name, incoming.digest)
        if files:
            ctx.log(
                f"{len(files)} file(s): {outcome['created']} new, {outcome['unchanged']} already known, "
                f"{outcome['error'] + len(problems)} with errors"
            )
        self.flag_overdue()

    def read(self, name: str, data: bytes) -> Received:
        received = Received()
        try:
            result = x12.read(data)
        except x12.X12Error as error:
            received.problems.append(RowProblem(None, "", "file", name, f"Not an X12 file: {error}"))
            return received
        for issue in result.file_issues:
            if issue.severity is x12.Severity.ERROR:
                received.problems.append(RowProblem(None, "", "file", name, str(issue)))
        number = 0
        for group in result.groups:
            if group.functional_id != "FA":
                received.acks.append(x12.acknowledge(group))
            for transaction_ in group.transactions:
                number += 1
                document = transaction_.document
                where = f"{name} transaction {number} (ST02 {transaction_.control_number})"
                meta = {
                    "kind": transaction_.set_id,
                    "group_control": group.control_number,
                    "transaction_control": transaction_.control_number,
                }
                errors = [issue for issue in transaction_.issues if issue.severity is x12.Severity.ERROR]
                if errors or document is None:
                    message = (
                        "; ".join(str(issue) for issue in errors)
                        or f"Transaction set {transaction_.set_id} is not read"
                    )
                    if errors:
                        received.problems.append(RowProblem(number, "", transaction_.set_id, where, message))
                    continue
                try:
                    items = self.convert(document, number, where)
                except (ArithmeticError, ValueError) as error:
                    received.problems.append(RowProblem(number, "", transaction_.set_id, where, str(error)))
                    continue
                received.located += [(transaction_.set_id, item) for item in items]
                reference = next((getattr(i.result, "fr_number", "") for i in items if i.result is not None), "")
                received.documents.append({**meta, "reference": reference})
        return received

    def convert(self, document, number: int, where: str) -> list[Located]:
        if isinstance(document, x12.FunctionalAck):
            self.match_997(document, where)
            return []
        if isinstance(document, x12.PurchaseOrderAck):
            return [Located(number, where, "ack", ack_from_855(document))]
        if isinstance(document, x12.ShipNotice):
            return [Located(number, where, "shipment", result, error) for result, error in shipments_from_856(document)]
        if isinstance(document, x12.Invoice):
            return [Located(number, where, "invoice", invoice_from_810(document))]
        return []

    def match_997(self, ack: x12.FunctionalAck, where: str) -> None:
        """Record a received 997 against the 850s it acknowledges (by group and transaction control numbers)."""
        sent = Doc.objects.filter(
            direction="out", partner=self.partner, kind="850", group_control=_key(ack.group_control_number)
        )
        for transaction_ack in ack.transactions:
            status = AK_STATUS.get(transaction_ack.status) or AK_STATUS.get(ack.status, Doc.Status.ACCEPTED)
            updated = sent.filter(transaction_control=_key(transaction_ack.control_number)).update(
                status=status, message=f"997 in {where}: AK5 {transaction_ack.status} {' '.join(transaction_ack.codes)}"
            )
            self.ctx.counts["updated"] += updated
        if not ack.transactions and ack.status:
            self.ctx.counts["updated"] += sent.update(
                status=AK_STATUS.get(ack.status, Doc.Status.ACCEPTED), message=f"997 in {where}: AK9 {ack.status}"
            )

    def send_997s(self, acks: list[x12.FunctionalAck], source_name: str) -> None:
        envelope = self.envelope
        numbers = RecordingControlNumbers(self.partner)
        data = x12.write(acks, envelope=envelope, control_numbers=numbers)
        interchange, group = numbers.taken["interchange"][0], numbers.taken["group"][0]
        name = f"997_{self.partner}_{interchange:09d}.x12"
        self.folders.get(self.outbound_folder()).put(name, data)
        for ack, control in zip(acks, numbers.taken["transaction"], strict=True):
            Doc.objects.create(
                direction="out",
                partner=self.partner,
                kind="997",
                interchange_control=str(interchange),
                group_control=str(group),
                transaction_control=str(control),
                reference=ack.group_control_number,
                file_name=name,
                status=Doc.Status.APPLIED,
                message=f"Answers group {ack.group_control_number} of {source_name} ({ack.status})",
            )
        self.ctx.log(f"Sent {len(acks)} 997(s) in {name} for {source_name}")

    def outbound_folder(self) -> str:
        folder = edi_options(self.integration).get("edi_outbound_folder")
        if folder:
            return folder
        send = Integration.objects.filter(
            source_id=self.integration.source_id, operation=Integration.Operation.SEND_FULFILLMENT_REQUESTS
        ).first()
        return send.path if send and send.path else "out"

    def record_documents(self, documents: list[dict], name: str) -> None:
        frs = dict(
            FulfillmentRequest.objects.filter(
                source_id=self.integration.source_id, number__in=[d["reference"] for d in documents if d["reference"]]
            ).values_list("number", "pk")
        )
        Doc.objects.bulk_create(
            Doc(
                direction="in",
                partner=self.partner,
                kind=d["kind"],
                group_control=_key(d["group_control"]),
                transaction_control=_key(d["transaction_control"]),
                reference=d["reference"][:100],
                fulfillment_request_id=frs.get(d["reference"]),
                file_name=name[:255],
                status=Doc.Status.APPLIED,
            )
            for d in documents
        )

    def flag_overdue(self) -> None:
        """Flag the partner's 850s still without a 997 after its window, with a note on each FR."""
        hours = edi_options(self.integration).get("edi_997_window_hours") or self.integration.source.ack_window_hours
        cutoff = timezone.now() - timedelta(hours=float(hours))
        overdue = list(
            Doc.objects.filter(
                direction="out", partner=self.partner, kind="850", status=Doc.Status.SENT, created_at__lt=cutoff
            )
        )
        for document in overdue:
            Doc.objects.filter(pk=document.pk, status=Doc.Status.SENT).update(status=Doc.Status.OVERDUE)
            if document.fulfillment_request_id:
                FREvent.objects.create(
                    fulfillment_request_id=document.fulfillment_request_id,
                    kind=FREvent.Kind.NOTE,
                    actor_label=f"run:{self.ctx.run.pk}",
                    reason=f"No 997 for the 850 in {document.file_name} within {hours} h.",
                )
        if overdue:
            self.ctx.log(f"{len(overdue)} 850(s) without a 997 after {hours} h flagged")


def ack_from_855(document: x12.PurchaseOrderAck) -> AckResult:
    if document.rejected:
        reason = document.rejection_reason or f"Order rejected by the source (BAK02 {document.acknowledgment_type})."
        return AckResult(
            fr_number=document.po_number, rejected_reason=reason, source_reference=document.seller_order_number
        )
    lines = []
    for line in document.lines:
        sku, alternatives = _identifiers(line.identifiers)
        ordered = _int(line.quantity)
        answer = EdiAckLine(sku=sku, alternatives=alternatives)
        if not line.statuses:
            answer.accepted = ordered
        for status in line.statuses:
            quantity = _int(status.quantity) if status.quantity is not None else ordered
            state = status.state
            if state == "rejected":
                answer.rejected += quantity
                answer.reason = status.reason or answer.reason
            elif state in ("backordered", "on_hold"):
                answer.backordered += quantity
            else:
                answer.accepted += quantity
        lines.append(answer)
    return AckResult(fr_number=document.po_number, lines=lines, source_reference=document.seller_order_number)


def shipments_from_856(document: x12.ShipNotice) -> list[tuple[ShipmentResult | None, str]]:
    """One shipment per pack with its own tracking number; an order's other items share the nearest one above."""
    results: list[tuple[ShipmentResult | None, str]] = []
    shipment_level = next(iter(document.levels_of("S")), None)
    shipped_at = _shipped_at(document, shipment_level)
    orders = document.levels_of("O")
    for order in orders:
        number = order.purchase_order or (shipment_level.purchase_order if shipment_level else "")
        if not number:
            results.append((None, f"Order level HL {order.id} has no PRF purchase order number."))
            continue
        items = [level for level in document.levels if level.code == "I" and document.ancestor(level, "O") is order]
        packs = {}
        leftover = []
        for item in items:
            pack = document.ancestor(item, "P")
            if pack is not None and pack.tracking_numbers():
                packs.setdefault(pack.id, (pack, []))[1].append(item)
            else:
                leftover.append(item)
        groups = [(pack.tracking_numbers()[0], pack, members) for pack, members in packs.values()]
        if leftover or not groups:
            above = order.tracking_numbers() or (shipment_level.tracking_numbers() if shipment_level else [])
            if not above:
                results.append(
                    (
                        ShipmentResult(fr_number=number, tracking_number=""),
                        f"PO {number}: the 856 carries no tracking number (MAN 2I/CP or REF CN/BM).",
                    )
                )
                continue
            groups.append((above[0], order, leftover))
        for tracking, level, members in groups:
            carrier = _carrier(document, level)
            result = ShipmentResult(
                fr_number=number, tracking_number=tracking, carrier=carrier[0], method=carrier[1], shipped_at=shipped_at
            )
            problem = ""
            for member in members:
                sku, alternatives = _identifiers(member.identifiers)
                if member.shipped_quantity is None or member.shipped_quantity <= 0:
                    problem = f"PO {number}: item HL {member.id} ({sku}) has no shipped quantity (SN102)."
                    break
                result.items.append(EdiItem(sku=sku, quantity=_int(member.shipped_quantity), alternatives=alternatives))
            results.append((result, problem))
    if not orders:
        results.append((None, "The 856 has no order level (HL O) naming the purchase order."))
    return results


def _carrier(document: x12.ShipNotice, level) -> tuple[str, str]:
    current = level
    seen = set()
    while current is not None and current.id not in seen:
        seen.add(current.id)
        for carrier in current.carriers:
            if carrier.carrier_id or carrier.routing:
                return carrier.carrier_id or carrier.routing, (carrier.routing or carrier.service_level)[:60]
        current = next((candidate for candidate in document.levels if candidate.id == current.parent_id), None)
    return "", ""


def _shipped_at(document: x12.ShipNotice, shipment_level) -> datetime | None:
    dates = list(shipment_level.dates if shipment_level else []) + list(document.dates)
    shipped = next((d for d in dates if d.qualifier == "011"), None)
    return _date(shipped.date) if shipped else _date(document.date)


def invoice_from_810(document: x12.Invoice) -> InvoiceResult:
    lines = []
    for line in document.lines:
        sku, alternatives = _identifiers(line.identifiers)
        lines.append(
            EdiInvoiceLine(
                sku=sku,
                quantity=_int(line.quantity),
                unit_cost=line.unit_price or Decimal(0),
                alternatives=alternatives,
            )
        )
    charges = Decimal(0)
    for charge in document.charges:
        if charge.amount is None or charge.indicator not in ("A", "C"):
            continue
        charges += charge.amount if charge.indicator == "C" else -charge.amount
    return InvoiceResult(
        fr_number=document.po_number,
        invoice_number=document.number,
        total=document.total if document.total is not None else Decimal(0),
        invoice_date=_date(document.date),
        charges=charges,
        lines=lines,
    )
