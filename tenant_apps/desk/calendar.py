"""The desk: calendar."""

urlpatterns: list = []
