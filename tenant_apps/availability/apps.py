from django.apps import AppConfig


class AvailabilityConfig(AppConfig):
    name = "tenant_apps.availability"
    label = "availability"
