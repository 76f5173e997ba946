"""The outbox's API (staff) and the trainers' calendar feeds, on a studio's host."""

app_name = "notifications"
urlpatterns: list = []
