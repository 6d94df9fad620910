"""Operators' integration run pages. Views parse input, call one service or selector, and redirect with a message."""

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from flxhub.exceptions import ApplicationError

from .models import Integration, IntegrationRun, Source
from .selectors import run_is_superseded, run_list, run_progress, run_row_errors_csv
from .services.runs import integration_trigger, run_release_held

Status = IntegrationRun.Status


def _run_list_page(request, *, source: Source | None):
    filters = request.GET
    runs = run_list(
        source_id=source.pk if source else (filters.get("source") or "").strip() or None,
        operation=filters.get("operation", ""),
        status=filters.get("status", ""),
    )
    page = Paginator(runs, 50).get_page(filters.get("page"))
    for run in page:
        run.progress = run_progress(run=run)
    integrations = source.integrations.order_by("operation", "pk") if source else []
    return render(
        request,
        "sources/run_list.html",
        {
            "page": page,
            "source": source,
            "integrations": integrations,
            "sources": Source.objects.all(),
            "operations": Integration.Operation.choices,
            "statuses": Status.choices,
            "filters": filters,
        },
    )


@staff_member_required
def run_list_view(request):
    source = request.GET.get("source", "")
    if source and not source.isdigit():
        messages.error(request, f"{source!r} is no source id.")
        return redirect("sources:run_list")
    return _run_list_page(request, source=None)


@staff_member_required
def source_runs(request, source_id: int):
    return _run_list_page(request, source=get_object_or_404(Source, pk=source_id))


def _run_context(run: IntegrationRun) -> dict:
    return {"run": run, "progress": run_progress(run=run)}


@staff_member_required
def run_detail(request, run_id: int):
    run = get_object_or_404(IntegrationRun.objects.select_related("integration__source"), pk=run_id)
    context = _run_context(run)
    context["can_release"] = run.status == Status.HELD and not run_is_superseded(run=run)
    context["can_retry"] = run.status == Status.FAILED
    return render(request, "sources/run_detail.html", context)


@staff_member_required
def run_live(request, run_id: int):
    """The live part of the run page (status, progress, counts); the page polls it while the run is live."""
    run = get_object_or_404(IntegrationRun.objects.select_related("integration__source"), pk=run_id)
    return render(request, "sources/_run_live.html", _run_context(run))


@staff_member_required
def run_row_errors(request, run_id: int):
    run = get_object_or_404(IntegrationRun, pk=run_id)
    response = StreamingHttpResponse(run_row_errors_csv(run_id=run.pk), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="run-{run.pk}-row-errors.csv"'
    return response


@staff_member_required
@require_POST
def integration_run_now(request, integration_id: int):
    integration = get_object_or_404(Integration, pk=integration_id)
    run = integration_trigger(integration_id=integration.pk, trigger=IntegrationRun.Trigger.MANUAL)
    messages.success(request, f"Queued run {run.pk} of {integration}.")
    return redirect("sources:run_detail", run_id=run.pk)


@staff_member_required
@require_POST
def run_release(request, run_id: int):
    run = get_object_or_404(IntegrationRun, pk=run_id)
    if run_is_superseded(run=run):
        messages.error(request, f"Run {run.pk} was already released or replaced by a later run.")
        return redirect("sources:run_detail", run_id=run.pk)
    try:
        new = run_release_held(run_id=run.pk)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("sources:run_detail", run_id=run.pk)
    messages.success(request, f"Held run {run.pk} released as run {new.pk}; it applies the feed past feed safety.")
    return redirect("sources:run_detail", run_id=new.pk)


@staff_member_required
@require_POST
def run_retry(request, run_id: int):
    """Retry a failed run: queue a new run of the same integration."""
    run = get_object_or_404(IntegrationRun.objects.select_related("integration"), pk=run_id)
    if run.status != Status.FAILED:
        messages.error(request, f"Run {run.pk} is {run.status}; only failed runs are retried.")
        return redirect("sources:run_detail", run_id=run.pk)
    new = integration_trigger(integration_id=run.integration_id, trigger=IntegrationRun.Trigger.MANUAL)
    messages.success(request, f"Retrying run {run.pk} as run {new.pk}.")
    return redirect("sources:run_detail", run_id=new.pk)
