"""The desk's staff pages (being built)."""

urlpatterns = []
