"""The Get Inventory runners (primary, secondary, images), registered with ``sources`` in ``InventoryConfig.ready``.

File choice: inventory feeds are snapshots, so a primary or secondary run applies the **newest** file matching
the integration's pattern; with an archive folder, that file and the older matches are moved there after a
successful apply (older snapshots are obsolete). An images run applies **every** matching image file and ZIP.
An input whose SHA-256 an earlier successful run already applied is not applied again unless the run is forced.
"""

from __future__ import annotations

import hashlib
from typing import IO

from flxhub.exceptions import ApplicationError
from sources.models import Integration, IntegrationRun
from sources.runners import register_runner
from sources.services.runs import RunContext
from sources.transports import RemoteFile

from .feeds.common import FeedResult, Progress
from .services.feed_apply import inventory_feed_apply
from .services.images import ImageBatch, ImageFile, ZipLimits, images_digest, images_from_zip, inventory_images_apply
from .services.images import is_image_name as _is_image

Operation = Integration.Operation
CHUNK = 1024 * 1024
# Formats read as a stream from the start of the file, so the share of bytes read estimates the share of rows done.
STREAMED_FORMATS = frozenset({Integration.Format.CSV})


def get_inventory_primary(ctx: RunContext) -> None:
    _get_inventory(ctx, "primary")


def get_inventory_secondary(ctx: RunContext) -> None:
    _get_inventory(ctx, "secondary")


def _get_inventory(ctx: RunContext, kind: str) -> None:
    integration = ctx.integration
    template = integration.mapping_template
    if template is None:
        raise ApplicationError("This integration has no mapping template; choose one before running it.")
    transport = ctx.transport()
    pattern = integration.file_pattern or "*"
    files = transport.list_files(pattern)
    if not files:
        raise ApplicationError(f"No file matches {pattern!r} on {integration.connection}; nothing to apply.")
    newest = files[-1]
    with transport.download(newest.name) as stream:
        digest, size = _fingerprint(stream)
        ctx.set_input(name=newest.name, size=size, digest=digest)
        if ctx.already_applied(digest):
            ctx.log(f"Same file as run {_applied_by(ctx, digest)}; nothing to apply.")
            _archive_files(ctx, files)
            return
        ctx.log(f"Applying {newest.name} ({size} bytes) as a {kind} {integration.file_format} feed.")
        spec = template.to_spec()
        result = inventory_feed_apply(
            source_id=integration.source_id,
            kind=kind,
            file=stream,
            file_format=integration.file_format,
            spec=spec,
            format_options={**template.format_options, **integration.options.get("format_options", {})},
            full=bool(integration.options.get("full_feed", True)),
            force=ctx.run.force,
            progress=_with_estimated_total(ctx.progress, stream, size)
            if integration.file_format in STREAMED_FORMATS
            else ctx.progress,
        )
    _report(ctx, result)
    _archive_files(ctx, files)
    counts = result.counts
    ctx.log(
        f"Applied {newest.name}: {counts['read']} rows read, {counts['created']} created, {counts['updated']} "
        f"updated, {counts['unchanged']} unchanged, {counts['archived']} archived, {counts['skipped']} skipped, "
        f"{counts['error']} errors."
    )


def get_inventory_images(ctx: RunContext) -> None:
    integration = ctx.integration
    transport = ctx.transport()
    pattern = integration.file_pattern or "*"
    files = [remote for remote in transport.list_files(pattern) if _is_zip(remote) or _is_image(remote.name)]
    if not files:
        raise ApplicationError(f"No image or ZIP file matches {pattern!r} on {integration.connection}.")
    limits = ZipLimits.from_options(integration.options)
    batch = ImageBatch()
    for remote in files:
        if _is_zip(remote):
            with transport.download(remote.name) as stream:
                found = images_from_zip(stream, limits=limits, label=remote.name)
            batch.images += found.images
            batch.refused += found.refused
            batch.ignored += found.ignored
        else:
            batch.images.append(ImageFile(remote.name, transport.fetch(remote.name)))
    digest = images_digest(batch.images)
    name = files[0].name if len(files) == 1 else f"{len(files)} files matching {pattern}"
    ctx.set_input(name=name, size=sum(len(image.data) for image in batch.images), digest=digest)
    if ctx.already_applied(digest):
        ctx.log(f"Same images as run {_applied_by(ctx, digest)}; nothing to apply.")
        _archive_files(ctx, files)
        return
    result = FeedResult()
    for note in batch.refused:
        result.error(note)
    for note in batch.ignored:
        result.counts["skipped"] += 1
        result.note(note)
    inventory_images_apply(source_id=integration.source_id, images=batch.images, result=result)
    _report(ctx, result)
    _archive_files(ctx, files)
    counts = result.counts
    ctx.log(
        f"Images: {counts['read']} read, {counts['created']} stored, {counts['updated']} replaced, "
        f"{counts['unchanged']} unchanged, {counts['skipped']} without a matching SKU, {counts['error']} refused."
    )


def _fingerprint(stream: IO[bytes]) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    for chunk in iter(lambda: stream.read(CHUNK), b""):
        digest.update(chunk)
        size += len(chunk)
    stream.seek(0)
    return digest.hexdigest(), size


def _with_estimated_total(progress: Progress, stream: IO[bytes], size: int) -> Progress:
    """Wrap ``progress`` so that a report without a total gets one: rows done scaled by the share of bytes read.

    The estimate stays one row above ``done`` until the whole file has been read, so the bar never shows 100 %
    while rows are still coming.
    """

    def estimate(done: int) -> int | None:
        """The estimated total after ``done`` rows, from where the stream is now."""
        if not size or not done:
            return None
        try:
            position = stream.tell()
        except (OSError, ValueError):
            position = 0
        if position >= size:
            return done
        return max(done + 1, round(done * size / position)) if position > 0 else None

    def report(done: int, total: int | None = None) -> None:
        progress(done, estimate(done) if total is None else total)

    # For a caller that writes progress from another thread: estimate while reading, write later.
    report.estimate = estimate
    return report


def _applied_by(ctx: RunContext, digest: str) -> int | None:
    return (
        IntegrationRun.objects.filter(integration=ctx.integration, input_hash=digest)
        .filter(status__in=[IntegrationRun.Status.SUCCEEDED, IntegrationRun.Status.PARTIAL])
        .exclude(pk=ctx.run.pk)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )


def _report(ctx: RunContext, result: FeedResult) -> None:
    """Copy counts, row errors and notes, and log lines into the run."""
    for name, value in result.counts.items():
        ctx.counts[name] += value
    errors_before = ctx.counts["error"]
    if result.row_errors:
        ctx.row_errors(result.row_errors)
    if result.row_notes:
        ctx.row_errors(result.row_notes)  # stored with the errors, but they are skipped rows, not errors
    ctx.counts["error"] = errors_before
    for line in result.log:
        ctx.log(line)


def _archive_files(ctx: RunContext, files: list[RemoteFile]) -> None:
    folder = ctx.integration.archive_folder
    if not folder:
        return
    transport = ctx.transport()
    for remote in files:
        try:
            transport.move(remote.name, folder)
        except ApplicationError as exc:
            ctx.log(f"Could not move {remote.name} to {folder}: {exc.message}")


def _is_zip(remote: RemoteFile) -> bool:
    return remote.name.lower().endswith(".zip")


def register() -> None:
    register_runner(Operation.GET_INVENTORY_PRIMARY, get_inventory_primary)
    register_runner(Operation.GET_INVENTORY_SECONDARY, get_inventory_secondary)
    register_runner(Operation.GET_INVENTORY_IMAGES, get_inventory_images)
