"""Send FR bookkeeping: which FRs go out, the attempt recorded before the bytes leave, the outcome after.

The order of writes is what keeps an FR from being sent twice: ``submission_start`` commits a pending
submission (and the attempt number) before delivery; ``submission_finish`` records the outcome and moves the
FR through the state machine in one transaction. A run that dies between the two leaves the submission
pending, and the next run asks the channel whether that delivery arrived before sending anything.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F

from sources.models import Integration

from ..models import FRSubmission, FulfillmentRequest
from ..services.acks import fr_acknowledge
from ..services.fr_numbers import fr_settings_for
from ..services.fr_status import fr_lock, fr_transition
from .rest import SendResult

Status = FulfillmentRequest.Status


def frs_to_send_ids(*, integration: Integration, only_ids: list[int] | None = None) -> list[int]:
    """The source's FRs in processing, plus unprocessed ones when the source auto-processes (launched here)."""
    source = integration.source
    statuses = [Status.PROCESSING]
    if fr_settings_for(source).auto_process:
        statuses.append(Status.UNPROCESSED)
    frs = FulfillmentRequest.objects.filter(source=source, status__in=statuses)
    if only_ids is not None:
        frs = frs.filter(pk__in=only_ids)
    ids = []
    for fr_id, status in frs.order_by("pk").values_list("pk", "status"):
        if status == Status.UNPROCESSED:
            fr_transition(
                fr_id=fr_id, to=Status.PROCESSING, actor_label="send run", reason="Auto-process is on for this source."
            )
        ids.append(fr_id)
    return ids


def pending_submission(fr: FulfillmentRequest) -> FRSubmission | None:
    """The submission of the FR's current attempt when its outcome was never recorded."""
    return (
        FRSubmission.objects.filter(fulfillment_request=fr, attempt=fr.send_attempt, status=FRSubmission.Status.PENDING)
        .order_by("-pk")
        .first()
    )


def submission_start(*, fr_id: int, integration: Integration, channel: str, reference: str = "") -> FRSubmission:
    """Record a new attempt at sending the FR, committed before delivery; reuse one still pending."""
    with transaction.atomic():
        fr = fr_lock(fr_id=fr_id)
        pending = pending_submission(fr)
        if pending is not None:
            if reference and pending.reference != reference:
                pending.reference = reference
                pending.save(update_fields=["reference", "updated_at"])
            return pending
        FulfillmentRequest.objects.filter(pk=fr.pk).update(send_attempt=F("send_attempt") + 1)
        return FRSubmission.objects.create(
            fulfillment_request=fr,
            attempt=fr.send_attempt + 1,
            integration=integration,
            channel=channel,
            reference=reference[:255],
        )


def submission_finish(*, submission: FRSubmission, result: SendResult, actor_label: str) -> FulfillmentRequest:
    """Record the source's answer and move the FR: accepted → acknowledged, received → processed,
    rejected → failed with the source's message."""
    with transaction.atomic():
        fr = fr_lock(fr_id=submission.fulfillment_request_id)
        submission.status = (
            FRSubmission.Status.REJECTED if result.outcome == "rejected" else FRSubmission.Status.DELIVERED
        )
        submission.message = result.message
        if result.source_reference and not submission.reference:
            submission.reference = result.source_reference[:255]
        submission.save(update_fields=["status", "message", "reference", "updated_at"])
        if fr.status != Status.PROCESSING:
            return fr  # moved meanwhile (voided, or acknowledged by hand): nothing more to record
        data = {"submission_id": submission.pk, "attempt": submission.attempt, "channel": submission.channel}
        if result.source_reference:
            FulfillmentRequest.objects.filter(pk=fr.pk).update(source_reference=result.source_reference[:120])
        if result.outcome == "rejected":
            reason = result.message or "Rejected by the source."
            return fr_transition(fr_id=fr.pk, to=Status.FAILED, actor_label=actor_label, reason=reason, data=data)
        if result.outcome == "accepted":
            return fr_acknowledge(
                fr_id=fr.pk, source_reference=result.source_reference, actor_label=actor_label, raw={"send": data}
            )
        return fr_transition(
            fr_id=fr.pk,
            to=Status.PROCESSED,
            actor_label=actor_label,
            reason=f"Sent to the source ({submission.channel}).",
            data=data,
        )


def submission_abandon(*, submission: FRSubmission, message: str) -> None:
    """Mark a pending submission that never reached the source, so the next attempt starts afresh."""
    FRSubmission.objects.filter(pk=submission.pk, status=FRSubmission.Status.PENDING).update(
        status=FRSubmission.Status.REJECTED, message=message
    )
