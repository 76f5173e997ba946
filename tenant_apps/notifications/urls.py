"""The outbox's API (staff) and the trainers' calendar feeds, on a studio's host."""

from django.urls import path

from tenant_apps.notifications import api

app_name = "notifications"
urlpatterns = [
    path("api/notifications/", api.NotificationListApi.as_view(), name="notifications"),
]
