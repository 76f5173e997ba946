"""Shared start-up for the benchmarks: Django on the local settings (embedded database unless DATABASE_URL)."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The scripts run as `python bench/<name>.py`, which puts only bench/ on the path.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from config.devserver import RUN_ENVIRONMENT  # noqa: E402  (needs ROOT on the path)

# The benchmarks' processes, and the servers they start, send their mails nowhere and at once: nothing is
# left queued for the development worker.
QUIET = {
    "CELERY_TASK_ALWAYS_EAGER": "true",
    "MAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
}
SERVER_ENV = {**os.environ, **QUIET, **RUN_ENVIRONMENT}


def django_setup() -> None:
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


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(*, workers: int | None = None, env: dict[str, str] | None = None, stderr=None):
    """The gunicorn of `make run` (the same command line, config/gunicorn.py) on a free loopback port, answering
    /healthz; returns (process, port). ``workers`` overrides its number of processes, ``env`` the environment
    (SERVER_ENV). Its access log is dropped. The caller stops it (terminate, then wait)."""
    import http.client
    import subprocess
    import time

    from config.devserver import gunicorn_command

    port = free_port()
    command = [*gunicorn_command("127.0.0.1", port), "--log-level", "warning"]
    if workers:
        command += ["--workers", str(workers)]
    server = subprocess.Popen(
        command, cwd=ROOT, env=SERVER_ENV if env is None else env, stdout=subprocess.DEVNULL, stderr=stderr
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/healthz", headers={"Host": "localhost"})
            if connection.getresponse().status == 200:
                connection.close()
                return server, port
        except OSError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            server.terminate()
            server.wait(timeout=10)
            raise RuntimeError("gunicorn did not start")
        time.sleep(0.2)
