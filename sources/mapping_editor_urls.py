"""Routes of the mapping-template editor with live preview."""

urlpatterns: list = []
