"""Send one FR now, from the FR page: the way to verify a new source before its schedule runs."""

from __future__ import annotations

from flxhub.exceptions import Conflict, NotFound
from sources.models import Integration, IntegrationRun
from sources.services.runs import integration_trigger, run_execute

from ..models import FulfillmentRequest
from ..services.fr_actions import fr_process
from .runners import only_frs

Status = FulfillmentRequest.Status


def fr_send_now(*, fr_id: int, actor=None) -> IntegrationRun:
    """Launch the FR if needed and send it at once through its source's Send FR integration; return the run.

    Raises NotFound when the source has no enabled Send FR integration, Conflict when the FR cannot be
    sent (already sent, voided…) or another Send FR run of the source holds the integration.
    """
    fr = FulfillmentRequest.objects.filter(pk=fr_id).first()
    if fr is None:
        raise NotFound(f"Fulfillment request {fr_id} does not exist.")
    integration = Integration.objects.filter(
        source_id=fr.source_id, operation=Integration.Operation.SEND_FULFILLMENT_REQUESTS, is_enabled=True
    ).first()
    if integration is None:
        raise NotFound(f"Source {fr.source} has no enabled Send FR integration.", details={"source_id": fr.source_id})
    if fr.status in (Status.UNPROCESSED, Status.ON_HOLD, Status.FAILED):
        fr_process(fr_id=fr.pk, actor=actor, actor_label="" if actor else "send now")
    elif fr.status != Status.PROCESSING:
        raise Conflict(f"FR {fr.number} is {fr.status}; only FRs not yet sent can be sent now.")
    run = integration_trigger(integration_id=integration.pk, trigger=IntegrationRun.Trigger.MANUAL, enqueue=False)
    with only_frs([fr.pk]):
        run = run_execute(run_id=run.pk)
    if run.status == IntegrationRun.Status.SKIPPED:
        raise Conflict(f"Another Send FR run of {fr.source} is in progress; try again in a moment.")
    return run
