from django.apps import AppConfig


class PackagesConfig(AppConfig):
    name = "tenant_apps.packages"
    label = "packages"
