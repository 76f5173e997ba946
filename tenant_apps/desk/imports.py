"""The desk: imports."""

urlpatterns: list = []
