"""The embedded PostgreSQL: starts, is reused, recovers from a crash, and opens no folder outside the project."""

import os
import shutil
import signal
import time
from pathlib import Path

import psycopg
import pytest

from config.embedded_db import EmbeddedPostgres


def _modes(path: Path) -> dict[Path, int]:
    return {parent: parent.stat().st_mode for parent in [path, *path.parents]}


def _query(cluster: EmbeddedPostgres) -> int:
    settings = cluster.connection_settings()
    with psycopg.connect(
        dbname=settings["NAME"], user=settings["USER"], host=settings["HOST"], port=settings["PORT"]
    ) as connection:
        return connection.execute("SELECT 41 + 1").fetchone()[0]


@pytest.fixture
def closed_project(tmp_path):
    """A project folder below a folder only its owner may enter, as CI's clones may be."""
    closed = tmp_path / "closed"
    closed.mkdir(mode=0o700)
    project = closed / "project"
    project.mkdir()
    return project


def test_start_reuse_crash_recovery_and_stop(closed_project):
    outside = _modes(closed_project.parent)
    cluster = EmbeddedPostgres(closed_project / "var" / "pgdata")
    try:
        cluster.ensure_running()
        first_pid = cluster.pid()
        assert cluster.started_here
        assert _query(cluster) == 42

        # The socket sits inside the data folder, which nobody else may enter.
        socket_dir = Path(cluster.connection_settings()["HOST"])
        assert (socket_dir / ".s.PGSQL.5432").is_socket()
        assert socket_dir.stat().st_mode & 0o777 == 0o700

        # A second caller (another process, say) reuses the running server.
        again = EmbeddedPostgres(closed_project / "var" / "pgdata")
        again.ensure_running()
        assert not again.started_here
        assert again.pid() == first_pid

        # After a crash the stale pid file does not stop a fresh start.
        os.kill(first_pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while cluster.pid() is not None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert (cluster.data_dir / "postmaster.pid").exists()
        recovered = EmbeddedPostgres(closed_project / "var" / "pgdata")
        recovered.ensure_running()
        assert recovered.started_here
        assert recovered.pid() not in (None, first_pid)
        assert _query(recovered) == 42

        recovered.stop()
        assert recovered.pid() is None
    finally:
        cluster.stop()
        if cluster.runs_as_system_user:
            shutil.rmtree(cluster.data_dir, ignore_errors=True)
            cluster.lock_path.unlink(missing_ok=True)

    assert _modes(closed_project.parent) == outside


def test_the_server_never_runs_as_root(closed_project):
    import getpass

    import psutil

    cluster = EmbeddedPostgres(closed_project / "var" / "pgdata")
    try:
        cluster.ensure_running()
        owner = psutil.Process(cluster.pid()).username()
        if os.geteuid() == 0:
            # PostgreSQL refuses root: a system user runs it, its data reachable from the project by a link.
            assert owner == "trainerhub-pg"
            assert (closed_project / "var" / "pgdata").is_symlink()
        else:
            assert owner == getpass.getuser()
            assert (closed_project / "var" / "pgdata" / "PG_VERSION").is_file()
    finally:
        cluster.stop()
        if cluster.runs_as_system_user:
            shutil.rmtree(cluster.data_dir, ignore_errors=True)
            cluster.lock_path.unlink(missing_ok=True)
