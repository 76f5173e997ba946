from django.apps import AppConfig


class ClientsConfig(AppConfig):
    name = "tenant_apps.clients"
    label = "clients"

    def ready(self) -> None:
        from tenant_apps.clients import receivers  # noqa: F401
