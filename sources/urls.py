from django.urls import path

from . import mapping_editor_urls, onboarding_urls, views

app_name = "sources"

urlpatterns = [
    path("runs/", views.run_list_view, name="run_list"),
    path("runs/<int:run_id>/", views.run_detail, name="run_detail"),
    path("runs/<int:run_id>/live/", views.run_live, name="run_live"),
    path("runs/<int:run_id>/row-errors.csv", views.run_row_errors, name="run_row_errors"),
    path("runs/<int:run_id>/release/", views.run_release, name="run_release"),
    path("runs/<int:run_id>/retry/", views.run_retry, name="run_retry"),
    path("sources/<int:source_id>/runs/", views.source_runs, name="source_runs"),
    path("integrations/<int:integration_id>/run/", views.integration_run_now, name="integration_run_now"),
]

# Onboarding (sources/onboarding_*) and the mapping-template editor (sources/mapping_editor*) keep their own routes.
urlpatterns += onboarding_urls.urlpatterns + mapping_editor_urls.urlpatterns
