from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "shared_apps.messaging"
    label = "messaging"
    verbose_name = "Messaging"
