"""Operators' inventory pages: variants by source, product linking, exclusions, dangerous actions."""

app_name = "inventory"

urlpatterns: list = []
