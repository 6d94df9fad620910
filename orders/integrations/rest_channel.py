"""The REST channel: one call per FR to the source's API (its protocol from ``connection.options["protocol"]``)."""

from __future__ import annotations

from sources.services.connections import connection_settings

from ..models import FulfillmentRequest
from .inbound import Located, RowProblem, apply_located
from .payloads import fr_payload, frs_for_sending
from .rest import IncompleteAnswer, get_rest_protocol
from .submissions import pending_submission, submission_finish, submission_start

Status = FulfillmentRequest.Status
FETCH = {"ack": "get_acks", "shipment": "get_shipments", "invoice": "get_invoices"}


class RestChannel:
    name = "rest"

    def __init__(self, ctx):
        self.ctx = ctx
        self.settings = connection_settings(ctx.integration.connection)
        self.protocol = get_rest_protocol(self.settings.options.get("protocol", "generic_json"))

    def close(self) -> None:
        pass

    def send(self, fr_ids: list[int]) -> None:
        """Send each FR; after an interrupted attempt, ask the source whether it has the FR before sending again."""
        ctx = self.ctx
        label = f"run:{ctx.run.pk}"
        for done, fr in enumerate(frs_for_sending(fr_ids), start=1):
            if pending_submission(fr) is not None:
                known = self.protocol.find_fr(self.settings, fr.number)
                if known is not None:
                    ctx.log(f"{fr.number}: the source already has it from the last attempt; not sent again")
                    submission = submission_start(fr_id=fr.pk, integration=ctx.integration, channel=self.name)
                    submission_finish(submission=submission, result=known, actor_label=label)
                    ctx.counts["unchanged"] += 1
                    continue
            submission = submission_start(fr_id=fr.pk, integration=ctx.integration, channel=self.name)
            result = self.protocol.send_fr(self.settings, fr_payload(fr))
            fr = submission_finish(submission=submission, result=result, actor_label=label)
            if result.outcome == "rejected":
                ctx.counts["skipped"] += 1
                ctx.log(f"{fr.number}: rejected by the source: {result.message}")
            else:
                ctx.counts["created"] += 1
                ctx.log(f"{fr.number}: {result.outcome} (attempt {submission.attempt})")
            ctx.progress(done, len(fr_ids))

    def receive(self, kind: str) -> None:
        ctx = self.ctx
        numbers = list(_awaiting(ctx.integration.source_id, kind).values_list("number", flat=True))
        if not numbers:
            ctx.log("No FR awaits anything from the source.")
            return
        unusable = 0
        try:
            results = getattr(self.protocol, FETCH[kind])(self.settings, numbers)
        except IncompleteAnswer as answer:
            # Apply what is usable; each unusable record becomes a row error and is asked for again next run.
            ctx.log(answer.message)
            results, unusable = answer.results, len(answer.problems)
            ctx.counts["read"] += unusable
            ctx.row_errors(
                RowProblem(None, str(p.get("po_number", "")), kind, p.get("invoice_number", ""), p["reason"])
                for p in answer.problems
            )
        ctx.counts["read"] += len(results)
        items = [Located(position, f"{kind} {position}", kind, result) for position, result in enumerate(results, 1)]
        outcome = apply_located(ctx, items)
        ctx.log(
            f"{len(results)} {kind} result(s) from the API: {outcome['created']} new, "
            f"{outcome['unchanged']} already known, {outcome['error'] + unusable} with errors"
        )


def _awaiting(source_id: int, kind: str):
    frs = FulfillmentRequest.objects.filter(source_id=source_id, sent_at__isnull=False)
    if kind == "ack":
        return frs.filter(status=Status.PROCESSED)
    if kind == "shipment":
        return frs.filter(
            status__in=[Status.PROCESSED, Status.ACKNOWLEDGED],
            shipping_status__in=[
                FulfillmentRequest.ShippingStatus.AWAITING_SHIPMENT,
                FulfillmentRequest.ShippingStatus.PARTIALLY_SHIPPED,
            ],
        )
    return frs.filter(
        status__in=[Status.PROCESSED, Status.ACKNOWLEDGED], invoice_status=FulfillmentRequest.InvoiceStatus.NONE
    )
