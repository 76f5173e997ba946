from django.apps import AppConfig


class AvailabilityConfig(AppConfig):
    name = "tenant_apps.availability"
    label = "availability"

    def ready(self) -> None:
        from tenant_apps.availability import receivers

        receivers.connect()
