"""The desk's studio pages (being built)."""

urlpatterns = []
