"""Acknowledgements from sources: whole-FR or per-line (accepted, backordered, rejected), and line cancels.

Quantities are absolute, not increments: a line acknowledged with ``rejected_quantity=2`` has two units
canceled however often the same answer arrives, so a repeat is a no-op success. Rejected or canceled
units release their committed stock. Status moves go through ``fr_transition``; when every unit of an
FR is rejected or canceled and nothing has shipped, the FR is canceled.
"""

from dataclasses import dataclass

from django.db import transaction

from flxhub.exceptions import Conflict, InvalidTransition, ValidationFailed

from ..models import AckLine, Acknowledgement, FREvent, FRLine, FulfillmentRequest
from .fr_status import FINAL, TRANSITIONS, fr_lock, fr_set_shipping_status, fr_transition
from .stock import line_release_stock

Status = FulfillmentRequest.Status


@dataclass(frozen=True)
class AckLineRequest:
    accepted_quantity: int
    backordered_quantity: int = 0
    rejected_quantity: int = 0
    fr_line_id: int | None = None
    sku: str = ""
    reason: str = ""


@dataclass(frozen=True)
class CancelLineRequest:
    canceled_quantity: int
    fr_line_id: int | None = None
    sku: str = ""


def _resolve_lines(fr: FulfillmentRequest, requests) -> list[tuple[FRLine, object]]:
    """Pair each request with the FR's line it names (by id, or by SKU when the SKU is unique on the FR)."""
    lines = list(fr.lines.all())
    by_id = {line.pk: line for line in lines}
    by_sku: dict[str, list[FRLine]] = {}
    for line in lines:
        by_sku.setdefault(line.sku, []).append(line)
    resolved, seen = [], set()
    for req in requests:
        if req.fr_line_id:
            line = by_id.get(req.fr_line_id)
            ref = f"line {req.fr_line_id}"
        else:
            matches = by_sku.get(req.sku, [])
            if len(matches) > 1:
                raise ValidationFailed(
                    f"FR {fr.number} has {len(matches)} lines with SKU {req.sku!r}; name the line by its id.",
                    details={"fr": fr.number, "sku": req.sku, "line_ids": [line.pk for line in matches]},
                )
            line = matches[0] if matches else None
            ref = f"SKU {req.sku!r}"
        if line is None:
            raise ValidationFailed(f"FR {fr.number} has no {ref}.", details={"fr": fr.number})
        if line.pk in seen:
            raise ValidationFailed(f"FR {fr.number} line {line.sku} is named twice.", details={"fr": fr.number})
        seen.add(line.pk)
        resolved.append((line, req))
    return resolved


def _guard(fr: FulfillmentRequest, to: str) -> None:
    if fr.status != to and to not in TRANSITIONS[fr.status]:
        allowed = sorted(TRANSITIONS[fr.status])
        raise InvalidTransition(
            f"FR {fr.number} is {fr.status}; it cannot become {to}."
            + (f" Allowed from {fr.status}: {', '.join(allowed)}." if allowed else f" {fr.status} is final."),
            details={"fr": fr.number, "from": fr.status, "to": to, "allowed": allowed},
        )


def _more_canceled(fr: FulfillmentRequest, line: FRLine, total: int, *, verb: str) -> int:
    """Units to cancel now for ``line`` to have ``total`` canceled; cancellation only grows, within what is open."""
    more = total - line.canceled_quantity
    details = {"fr": fr.number, "sku": line.sku, "line_id": line.pk}
    if more < 0:
        raise Conflict(
            f"FR {fr.number} line {line.sku} already has {line.canceled_quantity} canceled; a cancellation cannot "
            f"be undone.",
            details={**details, "canceled": line.canceled_quantity},
        )
    if more > line.open_quantity:
        raise Conflict(
            f"FR {fr.number} line {line.sku}: cannot {verb} {more} more; {line.open_quantity} open.",
            details={**details, "open": line.open_quantity},
        )
    return more


def _all_units_withdrawn(fr: FulfillmentRequest) -> bool:
    lines = list(fr.lines.all())
    return all(line.shipped_quantity == 0 and line.open_quantity == 0 for line in lines)


def fr_acknowledge(
    *,
    fr_id: int,
    lines: list[AckLineRequest] | None = None,
    source_reference: str = "",
    actor=None,
    actor_label: str = "",
    raw: dict | None = None,
) -> FulfillmentRequest:
    """Record the source's acknowledgement of FR ``fr_id`` and move it to acknowledged (or canceled).

    Without ``lines`` every unit not canceled, voided or backordered is accepted. With ``lines`` each named
    line gets exactly the given accepted, backordered and rejected quantities; lines not named keep theirs.
    Repeating an acknowledgement already recorded changes nothing and returns the FR.
    """
    with transaction.atomic():
        fr = fr_lock(fr_id=fr_id)
        if lines is None:
            if fr.status == Status.ACKNOWLEDGED:
                return fr
            _guard(fr, Status.ACKNOWLEDGED)
            ack = Acknowledgement.objects.create(
                fulfillment_request=fr, source_reference=source_reference, raw=raw or {}
            )
            for line in fr.lines.all():
                accepted = max(
                    0, line.quantity - line.canceled_quantity - line.voided_quantity - line.backordered_quantity
                )
                AckLine.objects.create(acknowledgement=ack, fr_line=line, accepted_quantity=accepted)
                line.acknowledged_quantity = accepted
                line.save(update_fields=["acknowledged_quantity"])
            if source_reference and not fr.source_reference:
                fr.source_reference = source_reference
                fr.save(update_fields=["source_reference", "updated_at"])
            return fr_transition(
                fr_id=fr.pk,
                to=Status.ACKNOWLEDGED,
                actor=actor,
                actor_label=actor_label,
                reason="Acknowledged by the source.",
                data={"acknowledgement_id": ack.pk},
            )

        if not lines:
            raise ValidationFailed("A per-line acknowledgement needs at least one line.", details={"field": "lines"})
        resolved = _resolve_lines(fr, lines)
        changes = []
        for line, req in resolved:
            quantities = (req.accepted_quantity, req.backordered_quantity, req.rejected_quantity)
            if min(quantities) < 0:
                raise ValidationFailed(f"FR {fr.number} line {line.sku}: quantities cannot be negative.")
            answerable = line.quantity - line.voided_quantity
            if sum(quantities) > answerable:
                raise ValidationFailed(
                    f"FR {fr.number} line {line.sku}: accepted + backordered + rejected is {sum(quantities)}; "
                    f"the line has {answerable}.",
                    details={"fr": fr.number, "sku": line.sku, "line_id": line.pk, "quantity": answerable},
                )
            newly_rejected = _more_canceled(fr, line, req.rejected_quantity, verb="reject")
            if (line.acknowledged_quantity, line.backordered_quantity, line.canceled_quantity) != (
                req.accepted_quantity,
                req.backordered_quantity,
                req.rejected_quantity,
            ):
                changes.append((line, req, newly_rejected))

        rejected_after = {line.pk: req.rejected_quantity for line, req in resolved}
        withdrawn_after = all(
            line.shipped_quantity == 0
            and line.quantity - line.voided_quantity - rejected_after.get(line.pk, line.canceled_quantity) == 0
            for line in fr.lines.all()
        )
        target = Status.CANCELED if withdrawn_after else Status.ACKNOWLEDGED
        if not changes and fr.status == target:
            return fr
        _guard(fr, target)

        ack = Acknowledgement.objects.create(fulfillment_request=fr, source_reference=source_reference, raw=raw or {})
        rejected = []
        for line, req, newly_rejected in changes:
            AckLine.objects.create(
                acknowledgement=ack,
                fr_line=line,
                accepted_quantity=req.accepted_quantity,
                backordered_quantity=req.backordered_quantity,
                rejected_quantity=req.rejected_quantity,
                reason=req.reason[:500],
            )
            line.acknowledged_quantity = req.accepted_quantity
            line.backordered_quantity = req.backordered_quantity
            line.canceled_quantity = req.rejected_quantity
            line.save(update_fields=["acknowledged_quantity", "backordered_quantity", "canceled_quantity"])
            if newly_rejected:
                line_release_stock(line=line, quantity=newly_rejected)
                rejected.append({"line_id": line.pk, "sku": line.sku, "quantity": newly_rejected})
        if source_reference and not fr.source_reference:
            fr.source_reference = source_reference
        fr_set_shipping_status(fr=fr, actor=actor, actor_label=actor_label, reason="Acknowledgement")
        fr.save()
        data = {"acknowledgement_id": ack.pk, "rejected": rejected}
        if fr.status == target:
            FREvent.objects.create(
                fulfillment_request=fr,
                kind=FREvent.Kind.NOTE,
                actor=actor,
                actor_label=actor_label or ("user" if actor else "system"),
                reason="Acknowledgement adjusted by the source.",
                data=data,
            )
            return fr
        reason = "Every line rejected by the source." if target == Status.CANCELED else "Acknowledged by the source."
        return fr_transition(fr_id=fr.pk, to=target, actor=actor, actor_label=actor_label, reason=reason, data=data)


def fr_lines_cancel(
    *, fr_id: int, lines: list[CancelLineRequest], reason: str = "", actor=None, actor_label: str = ""
) -> FulfillmentRequest:
    """Set the canceled quantity of the named lines of FR ``fr_id`` (a total, not an increment).

    Canceled units release their stock. When nothing is left open and nothing has shipped the FR is
    canceled; otherwise its status stays and an event notes the change. Repeats change nothing.
    """
    if not lines:
        raise ValidationFailed("Name at least one line to cancel, or cancel the whole FR.", details={"field": "lines"})
    with transaction.atomic():
        fr = fr_lock(fr_id=fr_id)
        resolved = _resolve_lines(fr, lines)
        changes = []
        for line, req in resolved:
            more = _more_canceled(fr, line, req.canceled_quantity, verb="cancel")
            if more:
                changes.append((line, more))
        if not changes:
            return fr
        if fr.status in FINAL:
            _guard(fr, Status.CANCELED)
        canceled = []
        for line, more in changes:
            line.canceled_quantity += more
            line.save(update_fields=["canceled_quantity"])
            line_release_stock(line=line, quantity=more)
            canceled.append({"line_id": line.pk, "sku": line.sku, "quantity": more})
        fr_set_shipping_status(fr=fr, actor=actor, actor_label=actor_label, reason=reason or "Lines canceled")
        fr.save()
        data = {"canceled": canceled}
        if _all_units_withdrawn(fr) and Status.CANCELED in TRANSITIONS[fr.status]:
            return fr_transition(
                fr_id=fr.pk, to=Status.CANCELED, actor=actor, actor_label=actor_label, reason=reason, data=data
            )
        FREvent.objects.create(
            fulfillment_request=fr,
            kind=FREvent.Kind.NOTE,
            actor=actor,
            actor_label=actor_label or ("user" if actor else "system"),
            reason=reason or "Lines canceled by the source.",
            data=data,
        )
        return fr
