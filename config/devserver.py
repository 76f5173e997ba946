"""`make run` and `make dev`: the database, migrations, the demo studio, then the web server, a Celery worker
and beat.

`make run` serves with gunicorn (threaded workers, config/gunicorn.py) as production does; whitenoise serves the
static files straight from the apps' and themes' folders (WHITENOISE_USE_FINDERS in the local settings), so there
is nothing to collect first.
`make dev` (`--reload`) serves with Django's autoreloading development server instead, which is for one person
clicking around: its listen queue holds 10 connections, and a burst of clients beyond that gets connection resets.
Ctrl-C stops all of them, and the embedded database too when this run started it.
"""

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The environment `make run` serves in, as production does: DEBUG off (no technical error pages, no query log
# kept per request). `make dev` keeps the local settings' DEBUG on. The tests and benchmarks use this too.
RUN_ENVIRONMENT = {"DJANGO_SETTINGS_MODULE": "config.settings.local", "DEBUG": "false"}


def _address(host: str, port: int | str) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def gunicorn_command(host: str, port: int | str) -> list[str]:
    """The web server of `make run`; the tests and the benchmarks start this same command."""
    return [sys.executable, "-m", "gunicorn", "--config", "python:config.gunicorn", "--bind", _address(host, port)]


def runserver_command(host: str, port: int | str) -> list[str]:
    return [sys.executable, "manage.py", "runserver", _address(host, port)]


def celery_commands() -> list[list[str]]:
    return [
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--loglevel=INFO"],
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "beat",
            "--loglevel=INFO",
            "--schedule",
            str(ROOT / "var" / "celerybeat-schedule"),
        ],
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run TrainerHub on this machine.")
    parser.add_argument(
        "--reload", action="store_true", help="Django's autoreloading development server instead of gunicorn"
    )
    reload = parser.parse_args(argv).reload

    for name, value in ({} if reload else RUN_ENVIRONMENT).items():
        os.environ.setdefault(name, value)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.chdir(ROOT)
    cluster = None
    if not os.environ.get("DATABASE_URL"):
        from config.embedded_db import project_cluster

        cluster = project_cluster()
        cluster.ensure_running()
        print(f"Embedded PostgreSQL {'started' if cluster.started_here else 'already running'} in var/pgdata")

    # Loopback unless BIND says otherwise: the demo logins are published, so this is not for the network.
    host, port = os.environ.get("BIND", "127.0.0.1"), os.environ.get("PORT", "8000")
    # Links printed by demo_setup and mailed by the worker point at this server.
    os.environ.setdefault("SITE_PORT", port)
    if not os.environ.get("REDIS_URL"):
        # The shared cache files start empty: nothing a previous run cached (a host's studio) outlives it.
        shutil.rmtree(os.environ.get("CACHE_DIR") or ROOT / "var" / "cache", ignore_errors=True)
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "--verbosity", "0"], check=True)
    subprocess.run([python, "manage.py", "demo_setup"], check=True)

    (ROOT / "var" / "celery" / "queue").mkdir(parents=True, exist_ok=True)
    (ROOT / "var" / "celery" / "processed").mkdir(parents=True, exist_ok=True)
    web = runserver_command(host, port) if reload else gunicorn_command(host, port)
    processes = [subprocess.Popen(command, start_new_session=True) for command in [web, *celery_commands()]]

    def stop(*_args) -> None:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)

    def interrupt(*_args) -> None:
        raise KeyboardInterrupt

    # Installed explicitly: a shell that starts us in the background leaves SIGINT ignored.
    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    try:
        while all(process.poll() is None for process in processes):
            with contextlib.suppress(subprocess.TimeoutExpired):
                processes[0].wait(timeout=1)
    except KeyboardInterrupt:
        print("\nStopping…")
    finally:
        stop()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        if cluster is not None and cluster.started_here:
            cluster.stop()
            print("Embedded PostgreSQL stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
