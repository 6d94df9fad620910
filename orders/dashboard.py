"""The operators' dashboard: what needs attention today, and each source's sync history as small SVG bar charts.

The charts are drawn server-side as inline SVG (no chart library, nothing from a CDN).
"""

from dataclasses import dataclass

from django.contrib.admin.views.decorators import staff_member_required
from django.shortcuts import render
from django.utils import timezone

from sources.models import Source
from sources.selectors import SyncPoint, source_sync_history

from .selectors.dashboard import dashboard_attention

CHART_WIDTH, CHART_HEIGHT, BAR_GAP = 320, 80, 2
HISTORY_RUNS = 20
MIN_SLOTS = 10  # so a source with two runs shows two slim bars, not two slabs


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    run_id: int
    status: str


@dataclass(frozen=True)
class BarChart:
    title: str
    unit: str
    bars: list[Bar]
    max_value: float
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT


def bar_chart(points: list[SyncPoint], *, value: str, title: str, unit: str) -> BarChart:
    """Lay out one bar per run, scaled to the largest value; a zero still shows as a 1-pixel bar."""
    values = [getattr(point, value) for point in points]
    top = max(values, default=0) or 1
    slot = CHART_WIDTH / max(len(points), MIN_SLOTS)
    bars = []
    for index, (point, amount) in enumerate(zip(points, values, strict=True)):
        height = max(1.0, CHART_HEIGHT * amount / top)
        shown = f"{amount:.1f}" if isinstance(amount, float) else f"{amount}"
        bars.append(
            Bar(
                x=round(index * slot + BAR_GAP / 2, 1),
                y=round(CHART_HEIGHT - height, 1),
                width=round(max(1.0, slot - BAR_GAP), 1),
                height=round(height, 1),
                label=f"Run {point.run_id} ({point.status}, {point.finished_at:%Y-%m-%d %H:%M}): {shown} {unit}",
                run_id=point.run_id,
                status=point.status,
            )
        )
    return BarChart(title=title, unit=unit, bars=bars, max_value=max(values, default=0))


@staff_member_required
def dashboard(request):
    history = source_sync_history(per_source=HISTORY_RUNS)
    charts = [
        (
            source,
            [
                bar_chart(history[source.pk], value="rows_changed", title="Rows changed per run", unit="rows"),
                bar_chart(history[source.pk], value="duration_seconds", title="Run duration", unit="s"),
            ],
        )
        for source in Source.objects.filter(pk__in=history).order_by("name")
    ]
    return render(
        request,
        "orders/dashboard.html",
        {"attention": dashboard_attention(now=timezone.now()), "charts": charts},
    )
