"""The trainers' private calendar feeds, on a studio's host (no sign-in: the token in the URL is the credential)."""

from django.urls import path

from tenant_apps.notifications import feed

app_name = "calendar_feed"
urlpatterns = [
    path("calendar/<str:token>.ics", feed.calendar_feed, name="feed"),
]
