"""Apply a mapped inventory feed to a source: all of it, or nothing.

Primary feeds create and update parents and variants (options, attributes, image URLs) and PQS; secondary
feeds update only PQS (cost, MSRP, MAP, quantity, status) of existing variants and never create. The master SKU
is the source's prefix + the source SKU unless the template maps one; variants link to products by master SKU,
then UPC. Variants missing from a full primary feed are archived with quantity 0. Only rows whose values changed
are written. A SKU repeated inside one feed is a row error (its first row applies). New variants over the plan's
SKU limit are not created and are reported. Feed safety holds an empty feed, or one that would archive or zero
more than the source's threshold of its active variants (``RunHeld``), unless forced.

On PostgreSQL the work is set-based (COPY into a temporary stage, then a few statements); elsewhere it is batched
through the ORM. See ``inventory.feeds``.
"""

from __future__ import annotations

from typing import IO, Any

from django.db import connection

from sources.models import Source

from ..feeds.common import FeedRequest, FeedResult, Kind, Progress


def inventory_feed_apply(
    *,
    source_id: int,
    kind: Kind,
    file: IO[bytes],
    file_format: str,
    spec: dict[str, Any],
    format_options: dict[str, Any] | None = None,
    full: bool = True,
    force: bool = False,
    progress: Progress | None = None,
) -> FeedResult:
    """Read ``file`` (a seekable binary stream) as ``file_format``, map it with ``spec`` and apply it.

    Raises RunHeld when feed safety holds the feed (nothing applied), FormatError when the file cannot be read,
    TemplateError for an invalid template; any failure leaves inventory as it was.
    """
    from ..feeds.portable import apply_portable
    from ..feeds.postgres import apply_postgres

    source = Source.objects.get(pk=source_id)
    request = FeedRequest(
        source_id=source_id,
        kind=kind,
        file=file,
        file_format=file_format,
        format_options=dict(format_options or {}),
        spec=spec,
        full=full and kind == "primary",
        force=force,
        progress=progress,
    )
    result = FeedResult()
    if connection.vendor == "postgresql":
        apply_postgres(request, source, result)
    else:
        apply_portable(request, source, result)
    return result
