"""The platform admins' pages on the platform host (being built)."""

urlpatterns = []
