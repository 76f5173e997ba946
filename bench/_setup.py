"""Shared start-up for the benchmarks: Django on the local settings (embedded database unless DATABASE_URL)."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The benchmarks' processes, and the servers they start, send their mails nowhere and at once: nothing is
# left queued for the development worker.
QUIET = {
    "CELERY_TASK_ALWAYS_EAGER": "true",
    "MAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
}
SERVER_ENV = {**os.environ, **QUIET, "DJANGO_SETTINGS_MODULE": "config.settings.local", "DEBUG": "false"}


def django_setup() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ.setdefault("DEBUG", "false")
    os.environ.update(QUIET)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def drop_studios(prefix: str) -> None:
    from django_tenants.utils import schema_context

    from tenants.models import Studio

    with schema_context("public"):
        for studio in Studio.objects.filter(slug__startswith=prefix):
            studio.delete(force_drop=True)
