"""`make run`: the database, migrations, the demo studio, then the web server, a Celery worker and beat.

Ctrl-C stops all of them, and the embedded database too when this run started it.
"""

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.chdir(ROOT)
    cluster = None
    if not os.environ.get("DATABASE_URL"):
        from config.embedded_db import project_cluster

        cluster = project_cluster()
        cluster.ensure_running()
        print(f"Embedded PostgreSQL {'started' if cluster.started_here else 'already running'} in var/pgdata")

    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "--verbosity", "0"], check=True)
    subprocess.run([python, "manage.py", "demo_setup"], check=True)

    port = os.environ.get("PORT", "8000")
    (ROOT / "var" / "celery" / "queue").mkdir(parents=True, exist_ok=True)
    (ROOT / "var" / "celery" / "processed").mkdir(parents=True, exist_ok=True)
    commands = [
        # Loopback only: the demo logins are published, so the dev server is not for the network.
        [python, "manage.py", "runserver", f"{os.environ.get('BIND', '127.0.0.1')}:{port}"],
        [python, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--loglevel=INFO"],
        [
            python,
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
    processes = [subprocess.Popen(command, start_new_session=True) for command in commands]

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
