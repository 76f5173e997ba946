"""The desk's catalogue pages (being built)."""

urlpatterns = []
