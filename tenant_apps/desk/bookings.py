"""The desk: bookings."""

urlpatterns: list = []
