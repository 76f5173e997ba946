from django.apps import AppConfig


class TrainersConfig(AppConfig):
    name = "tenant_apps.trainers"
    label = "trainers"
