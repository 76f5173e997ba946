"""The desk: clients."""

urlpatterns: list = []
