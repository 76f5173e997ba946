from django.apps import AppConfig


class SiteConfig(AppConfig):
    name = "tenant_apps.site"
    label = "site"
    verbose_name = "Booking site"
