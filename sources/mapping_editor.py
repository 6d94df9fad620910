"""Operators' mapping-template pages: the list, the editor, its live preview and "Save as new version".

Operators (staff) may view and preview; saving needs ``sources.add_mappingtemplate``.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from flxhub.exceptions import ApplicationError

from .formats import format_names
from .mapping_editor_forms import (
    EditorState,
    editor_context,
    kind_from,
    state_for_new,
    state_from_post,
    state_from_template,
    url_after_save,
)
from .models import MappingTemplate
from .services.templates import (
    MAX_SAMPLE_BYTES,
    mapping_sample_get,
    mapping_sample_store,
    mapping_template_families,
    mapping_template_get,
    mapping_template_preview,
    mapping_template_save_version,
)

SAVE_PERMISSION = "sources.add_mappingtemplate"


@staff_member_required
def template_list(request):
    kind = request.GET.get("kind", "")
    if kind not in MappingTemplate.Kind.values:
        kind = ""
    return render(
        request,
        "sources/mapping_template_list.html",
        {"families": mapping_template_families(kind=kind), "kind": kind, "kinds": MappingTemplate.Kind.choices},
    )


def _editor(request, state: EditorState, *, template: MappingTemplate | None = None, status: int = 200):
    context = editor_context(state)
    context.update(
        template=template,
        next=request.POST.get("next") or request.GET.get("next", ""),
        can_save=request.user.has_perm(SAVE_PERMISSION),
        sample=mapping_sample_get(session=request.session, token=state.sample_token),
        max_sample_mb=MAX_SAMPLE_BYTES // 1024 // 1024,
        sample_formats=format_names(),
    )
    context.update(_preview_context(request, state))
    return render(request, "sources/mapping_editor.html", context, status=status)


@staff_member_required
def template_new(request):
    try:
        source_id = request.GET.get("from", "")
        if source_id:
            if not source_id.isdigit():
                raise ApplicationError(f"from={source_id!r} is not a template id.")
            state = state_from_template(mapping_template_get(template_id=int(source_id)))
            if request.GET.get("kind") and state.kind != request.GET["kind"]:
                raise ApplicationError(f"Template {source_id} is a {state.kind} template, not {request.GET['kind']}.")
        else:
            state = state_for_new(kind_from(request.GET.get("kind")))
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("sources:mapping_template_list")
    return _editor(request, state)


@staff_member_required
def template_edit(request, template_id: int):
    try:
        template = mapping_template_get(template_id=template_id)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("sources:mapping_template_list")
    return _editor(request, state_from_template(template), template=template)


def _preview_context(request, state: EditorState) -> dict:
    """Dry-run the editor's state on its sample; a bad template or sample becomes a message, never a 500."""
    sample = mapping_sample_get(session=request.session, token=state.sample_token)
    if state.problems:
        return {"preview": None, "preview_error": " ".join(state.problems), "sample": sample}
    try:
        preview = mapping_template_preview(spec=state.spec(), sample=sample)
    except ApplicationError as exc:
        return {"preview": None, "preview_error": exc.message, "sample": sample}
    return {"preview": preview, "preview_error": "", "sample": sample}


def _render_preview(request, context: dict, *, status: int = 200):
    return render(request, "sources/mapping_editor_preview.html", context, status=status)


@staff_member_required
@require_POST
def template_preview(request):
    """The preview partial for the whole posted editor form (htmx posts it on every change)."""
    try:
        state = state_from_post(request.POST)
    except ApplicationError as exc:
        return _render_preview(request, {"preview": None, "preview_error": exc.message, "sample": None})
    return _render_preview(request, _preview_context(request, state))


@staff_member_required
@require_POST
def template_sample(request):
    """Keep the uploaded sample for this editing session, then answer the preview partial for the posted form."""
    upload = request.FILES.get("sample")
    if upload is None:
        return _render_preview(
            request, {"preview": None, "preview_error": "Choose a sample file to upload.", "sample": None}
        )
    try:
        sample = mapping_sample_store(
            session=request.session,
            name=upload.name,
            size=upload.size,
            chunks=upload.chunks(),
            file_format=request.POST.get("sample_format", ""),
        )
        state = state_from_post(request.POST)
    except ApplicationError as exc:
        return _render_preview(request, {"preview": None, "preview_error": exc.message, "sample": None})
    state.sample_token = sample.token
    context = _preview_context(request, state)
    context["sample_uploaded"] = True
    return _render_preview(request, context)


@staff_member_required
@require_POST
def template_save(request):
    """Save the posted editor as a new version; go to ``next`` (if safe) or the new version's editor."""
    if not request.user.has_perm(SAVE_PERMISSION):
        raise PermissionDenied("Saving mapping templates needs the add mapping template permission.")
    try:
        state = state_from_post(request.POST)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("sources:mapping_template_list")
    if state.problems:
        messages.error(request, "Not saved: " + " ".join(state.problems))
        return _editor(request, state, status=400)
    try:
        template = mapping_template_save_version(
            base_id=state.base_id,
            name=state.name,
            kind=state.kind,
            format_options=state.format_options,
            fields=state.fields,
            conditions=state.conditions,
            exclusions=state.exclusions,
            user=request.user,
        )
    except ApplicationError as exc:
        messages.error(request, f"Not saved: {exc.message}")
        return _editor(request, state, status=400)
    messages.success(request, f"Saved {template}.")
    target = url_after_save(
        next_url=request.POST.get("next", ""),
        template_id=template.pk,
        allowed_hosts={request.get_host()},
        require_https=request.is_secure(),
    )
    if target is None:
        return redirect("sources:mapping_template_edit", template.pk)
    return redirect(target)
