"""Read a generated 846 of 100,000 items and print one JSON line: items, seconds, items/s, peak RSS.

Run: .venv/bin/python bench/x12_read.py [items]   (target: ≥ 50,000 LIN items/s)

The file is generated in a child process, so the peak RSS reported is the reading process's own (imports, the
file's bytes and what ``read`` builds), not the writer's. ``cpu_seconds`` is this process's CPU time for the read,
steadier than wall-clock on a shared machine.
"""

from __future__ import annotations

import gc
import json
import resource
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sources.formats import x12  # noqa: E402


def generate_846(items: int) -> bytes:
    """Return a distributor-style 846: per item LIN (VP + UP), PID description, CTP cost and QTY 33 available."""
    document = x12.InventoryAdvice(
        report_type="DD",
        reference="BENCH",
        date="20250101",
        items=[
            x12.InventoryItem(
                identifiers={"VP": f"SKU-{n:07d}", "UP": f"{n:012d}"},
                line_number=str(n),
                description=f"ITEM {n} (DVD/BLU RAY)",
                quantities=[x12.Quantity("33", Decimal(n % 50), "EA")],
                prices=[x12.Price("CON", Decimal("9.99"))],
            )
            for n in range(1, items + 1)
        ],
    )
    envelope = x12.Envelope(sender_id="043109560", receiver_id="FLXHUB", delimiters=x12.Delimiters(element="|"))
    return x12.write([document], envelope=envelope, control_numbers=x12.InMemoryControlNumbers())


def main() -> None:
    if sys.argv[1:2] == ["--generate"]:
        sys.stdout.buffer.write(generate_846(int(sys.argv[2])))
        return
    items = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    data = subprocess.run([sys.executable, __file__, "--generate", str(items)], capture_output=True, check=True).stdout
    started, cpu_started = time.perf_counter(), time.process_time()
    result = x12.read(data)
    documents = [document for _, document in result.documents()]
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    # The reader pauses the cyclic collector; its one deferred pass over the result is reported on its own.
    collected = time.perf_counter()
    gc.collect()
    gc_seconds = time.perf_counter() - collected
    read_items = sum(len(document.items) for document in documents)
    assert read_items == items and not result.errors, (read_items, result.errors[:3])
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "items": read_items,
                "bytes": len(data),
                "seconds": round(seconds, 3),
                "items_per_second": round(read_items / seconds),
                "cpu_seconds": round(cpu_seconds, 3),
                "items_per_cpu_second": round(read_items / cpu_seconds),
                "gc_after_seconds": round(gc_seconds, 3),
                "peak_rss_mib": round(peak_kib / 1024, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
