"""Operators' inventory pages: variants by source, product linking, exclusions, dangerous actions."""

from django.urls import path

from . import views

app_name = "inventory"

urlpatterns = [
    path("sources/<int:source_id>/inventory/", views.variant_list, name="variant_list"),
    path("sources/<int:source_id>/inventory/link/", views.variants_link, name="variants_link"),
    path("sources/<int:source_id>/inventory/create-products/", views.products_create, name="products_create"),
    path("sources/<int:source_id>/remove-inventory/", views.remove_inventory, name="remove_inventory"),
    path("sources/<int:source_id>/delete/", views.delete_source, name="delete_source"),
    path("inventory/exclusions/", views.exclusions, name="exclusions"),
    path("inventory/exclusions/<int:rule_id>/delete/", views.exclusion_delete, name="exclusion_delete"),
]
