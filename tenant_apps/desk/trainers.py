"""The desk: trainers."""

urlpatterns: list = []
