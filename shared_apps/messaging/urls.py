"""Twilio's webhooks (the platform host). Filled in by the SMS work."""

app_name = "messaging"
urlpatterns: list = []
