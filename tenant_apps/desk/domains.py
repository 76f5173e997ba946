"""The desk's domains pages (being built)."""

urlpatterns = []
