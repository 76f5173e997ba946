"""A real server for the tests that need one (the 64-client burst, the browser flows): `make run`'s gunicorn,
started with the same command line, on the local settings with DEBUG off, against the test database.

What it must see is committed first (run_committed) and removed afterwards: the test's own transaction is
invisible to another process."""

import contextlib
import tempfile
from urllib.parse import quote

from django.db import connection

from bench._setup import SERVER_ENV, start_gunicorn


def server_database_url() -> str:
    """The test database (pytest-django's test_<name>) as a DATABASE_URL for the server's process."""
    settings = connection.settings_dict
    credentials = quote(settings["USER"] or "", safe="")
    if settings["PASSWORD"]:
        credentials += ":" + quote(settings["PASSWORD"], safe="")
    host, port, name = settings["HOST"] or "", settings["PORT"] or 5432, settings["NAME"]
    if host.startswith("/"):  # a socket's folder (the embedded database): django-environ takes it from the path
        return f"postgres://{credentials}@:{port}/{host}/{name}"
    return f"postgres://{credentials}@{host}:{port}/{name}"


@contextlib.contextmanager
def live_server(**environment: str):
    """Yield (port, log) of a running server; ``log`` is a file with its stderr, for a failing test's message."""
    with tempfile.TemporaryFile("w+") as log, tempfile.TemporaryDirectory() as cache_folder:
        # The server's cache is its own (files in a folder of its own, shared by its workers): the tests' cache is
        # not Redis, so nothing the tests change could clear what a shared Redis kept (a studio cached by host),
        # nor could one run's server leave stale entries for the next.
        env = {
            **SERVER_ENV,
            "DATABASE_URL": server_database_url(),
            "REDIS_URL": "",
            "CACHE_DIR": cache_folder,
            **environment,
        }
        process, port = start_gunicorn(env=env, stderr=log)
        try:
            yield port, log
        finally:
            process.terminate()
            process.wait(timeout=15)
            forget_outbox()


def forget_outbox() -> None:
    """Delete every studio's committed outbox rows (a live server's bookings' mails and reminders, a race test's):
    the modules' own tear-downs delete their bookings, and rows left behind would be sent by a later test's sweep
    or counted by a later test's list."""
    from django_tenants.utils import get_tenant_model, schema_context, tenant_context

    from tests.conftest import run_committed

    def forget() -> None:
        from tenant_apps.notifications.models import Notification

        with schema_context("public"):
            studios = list(get_tenant_model().objects.exclude(schema_name="public"))
        for studio in studios:
            with tenant_context(studio):
                Notification.objects.all().delete()

    run_committed(forget)


def tail(log, characters: int = 5000) -> str:
    log.seek(0)
    return log.read()[-characters:]
