"""Celery through tenant-schemas-celery: every task carries the schema it was queued from."""

import os

from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = CeleryApp("trainerhub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
