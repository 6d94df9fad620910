"""Routes of /api/v1/; each app adds its own views here."""

from django.urls import include, path, re_path

from .errors import not_found_view

urlpatterns: list = [
    path("", include("orders.api.urls")),
    path("", include("inventory.api.urls")),
    re_path(r"^.*$", not_found_view),
]
