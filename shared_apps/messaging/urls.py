"""Twilio's webhooks (the platform host, under /webhooks/twilio/): set the Messaging Service's (or the number's)
incoming-message webhook to inbound/; status callbacks name status/ with each message."""

from django.urls import path

from shared_apps.messaging import views

app_name = "messaging"
urlpatterns = [
    path("inbound/", views.inbound, name="inbound"),
    path("status/", views.status, name="status"),
]
