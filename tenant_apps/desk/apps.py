from django.apps import AppConfig


class DeskConfig(AppConfig):
    """The staff back office under /desk/: the day's calendar, bookings, clients and trainers' hours, on the
    same services and selectors as the API."""

    name = "tenant_apps.desk"
    label = "desk"
