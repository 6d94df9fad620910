"""Routes of source onboarding: the source list, the source page with its checklist, and the four phases."""

urlpatterns: list = []
