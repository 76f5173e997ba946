from django.apps import AppConfig


class TrainersConfig(AppConfig):
    name = "tenant_apps.trainers"
    label = "trainers"

    def ready(self) -> None:
        from tenant_apps.trainers import receivers  # noqa: F401
