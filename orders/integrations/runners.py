"""The order-side runners, registered with ``sources.runners``: pick the channel, call it, nothing more.

The channel follows the connection and the format: a ``rest`` connection speaks its vendor protocol, an
``x12`` integration speaks EDI, anything else exchanges CSV/XLSX/JSON files.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

from sources.models import Connection, Integration
from sources.runners import register_runner

from .edi_channel import EdiChannel
from .file_channel import FileChannel
from .rest_channel import RestChannel
from .submissions import frs_to_send_ids

# Set by fr_send_now: the run sends only these FRs.
_ONLY_FRS: ContextVar[list[int] | None] = ContextVar("only_frs", default=None)


@contextlib.contextmanager
def only_frs(fr_ids: list[int]) -> Iterator[None]:
    token = _ONLY_FRS.set(list(fr_ids))
    try:
        yield
    finally:
        _ONLY_FRS.reset(token)


def channel_for(ctx):
    integration = ctx.integration
    if integration.connection.kind == Connection.Kind.REST:
        return RestChannel(ctx)
    if integration.file_format == Integration.Format.X12:
        return EdiChannel(ctx)
    return FileChannel(ctx)


def send_fulfillment_requests(ctx) -> None:
    fr_ids = frs_to_send_ids(integration=ctx.integration, only_ids=_ONLY_FRS.get())
    if not fr_ids:
        ctx.log("No FR is waiting to be sent.")
        return
    channel = channel_for(ctx)
    try:
        channel.send(fr_ids)
    finally:
        channel.close()
    ctx.progress(len(fr_ids), len(fr_ids))
    ctx.log(f"Send FR done: {ctx.counts['created']} sent, {ctx.counts['unchanged']} found already delivered, "
            f"{ctx.counts['skipped']} rejected")  # fmt: skip


def _receiver(kind: str):
    def run(ctx) -> None:
        channel = channel_for(ctx)
        try:
            channel.receive(kind)
        finally:
            channel.close()

    run.__name__ = f"receive_{kind}"
    return run


def register() -> None:
    Operation = Integration.Operation
    register_runner(Operation.SEND_FULFILLMENT_REQUESTS, send_fulfillment_requests)
    register_runner(Operation.GET_FR_ACKNOWLEDGEMENTS, _receiver("ack"))
    register_runner(Operation.GET_SHIPMENTS, _receiver("shipment"))
    register_runner(Operation.GET_SOURCE_INVOICES, _receiver("invoice"))
