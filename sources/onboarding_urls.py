"""Routes of source onboarding: the source list, the source page with its checklist, and the four phases."""

from django.urls import path

from . import onboarding_views as views

urlpatterns: list = [
    path("sources/", views.source_list_view, name="source_list"),
    path("sources/new/", views.onboarding_new, name="source_new"),
    path("sources/<int:source_id>/", views.source_detail, name="source_detail"),
    path("sources/<int:source_id>/settings/", views.source_settings, name="source_settings"),
    path("sources/<int:source_id>/onboarding/setup/", views.onboarding_setup_view, name="onboarding_setup"),
    path("sources/<int:source_id>/onboarding/connection/", views.onboarding_connection, name="onboarding_connection"),
    path(
        "sources/<int:source_id>/onboarding/connection/test/",
        views.onboarding_connection_test_view,
        name="onboarding_connection_test",
    ),
    path("sources/<int:source_id>/onboarding/orders/", views.onboarding_orders, name="onboarding_orders"),
    path("sources/<int:source_id>/onboarding/finalize/", views.onboarding_finalize_view, name="onboarding_finalize"),
]
