"""Routes of the mapping-template editor with live preview."""

from django.urls import path

from . import mapping_editor

urlpatterns: list = [
    path("mapping-templates/", mapping_editor.template_list, name="mapping_template_list"),
    path("mapping-templates/new/", mapping_editor.template_new, name="mapping_template_new"),
    path("mapping-templates/<int:template_id>/", mapping_editor.template_edit, name="mapping_template_edit"),
    path("mapping-templates/preview/", mapping_editor.template_preview, name="mapping_template_preview"),
    path("mapping-templates/sample/", mapping_editor.template_sample, name="mapping_template_sample"),
    path("mapping-templates/save/", mapping_editor.template_save, name="mapping_template_save"),
]
