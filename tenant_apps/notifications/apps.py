from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "tenant_apps.notifications"
    label = "notifications"

    def ready(self) -> None:
        from tenant_apps.notifications import signals, tracking  # noqa: F401  (connect the receivers)
