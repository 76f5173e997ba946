from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "shared_apps.accounts"
    label = "accounts"

    def ready(self) -> None:
        from shared_apps.accounts import signals  # noqa: F401
