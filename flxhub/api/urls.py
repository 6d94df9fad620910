"""Routes of /api/v1/; each app adds its own views here."""

urlpatterns: list = []
