"""Reads that are more than a filter."""

import csv
import io
from collections.abc import Iterator

from .models import RunRowError


def run_row_errors_csv(*, run_id: int) -> Iterator[str]:
    """Yield the run's row errors as CSV text chunks (header first), streaming from the database."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["row", "sku", "field", "value", "message"])
    rows = RunRowError.objects.filter(run_id=run_id).order_by("row_number", "id")
    for row_number, sku, field, value, message in rows.values_list(
        "row_number", "sku", "field", "value", "message"
    ).iterator(chunk_size=2000):
        writer.writerow([row_number, sku, field, value, message])
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
