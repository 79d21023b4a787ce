"""The embedded default database: a real PostgreSQL cluster the project runs itself.

Used when ``DATABASE_URL`` is unset. The cluster lives under ``var/postgres`` (gitignored) and
is started on demand by the commands that need it; ``akhbar db stop`` stops it.

initdb and postgres refuse to run as root. When we are root, the server runs as the
unprivileged ``postgres`` account (``AKHBAR_PG_USER`` to choose another); if that account
cannot reach ``var/`` (a clone under /root, say), the cluster goes to a directory it can
reach under /var/tmp and ``var/postgres`` records where.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import pwd
import shutil
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_HOME = REPO_ROOT / "var" / "postgres"
DATABASE = "akhbar"
SUPERUSER = "akhbar"


class EmbeddedDatabaseError(RuntimeError):
    """The embedded PostgreSQL could not be found, created or started."""


def find_server_binaries() -> Path:
    """The directory holding initdb/pg_ctl/postgres: ``AKHBAR_PG_BIN``, Debian's layout, or PATH."""
    if env := os.environ.get("AKHBAR_PG_BIN"):
        path = Path(env)
        if (path / "pg_ctl").exists():
            return path
        raise EmbeddedDatabaseError(f"AKHBAR_PG_BIN={env} has no pg_ctl in it.")
    debian = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if debian:
        return debian[-1].parent
    for name in ("pg_ctl", "initdb"):
        if found := shutil.which(name):
            return Path(found).parent
    raise EmbeddedDatabaseError(
        "No PostgreSQL server binaries found (initdb, pg_ctl, postgres). Install them, e.g. "
        "`apt-get install postgresql` on Debian/Ubuntu or `brew install postgresql` on macOS, "
        "set AKHBAR_PG_BIN to their directory, or set DATABASE_URL to use an existing server."
    )


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


@dataclass
class EmbeddedPostgres:
    """One PostgreSQL cluster in ``home`` (data/, socket/, server.log, port)."""

    home: Path | None = None  # None: AKHBAR_PG_HOME, else var/postgres
    port: int | None = None  # None: the port recorded in home, else a free one

    def __post_init__(self) -> None:
        self.home = Path(self.home or os.environ.get("AKHBAR_PG_HOME") or DEFAULT_HOME)
        self._run_as = self._server_account()
        self.home = self._reachable_home(self.home)
        self.bin = find_server_binaries()

    # -- where things are -------------------------------------------------------------
    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def socket_dir(self) -> Path:
        return self.home / "socket"

    @property
    def log_file(self) -> Path:
        return self.home / "server.log"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self._port()}/{DATABASE}"

    def _server_account(self) -> str | None:
        if os.geteuid() != 0:
            return None
        account = os.environ.get("AKHBAR_PG_USER", "postgres")
        try:
            pwd.getpwnam(account)
        except KeyError:
            raise EmbeddedDatabaseError(
                f"Running as root, PostgreSQL needs an unprivileged account to run as, and "
                f"'{account}' does not exist. Create it (`useradd --system {account}`) or set "
                f"AKHBAR_PG_USER to another account, or set DATABASE_URL."
            ) from None
        return account

    def _can_reach(self, path: Path) -> bool:
        if self._run_as is None:
            return True
        probe = path
        while not probe.exists():
            probe = probe.parent
        result = subprocess.run(
            ["runuser", "-u", self._run_as, "--", "test", "-x", str(probe)], capture_output=True
        )
        return result.returncode == 0

    def _reachable_home(self, home: Path) -> Path:
        pointer = home / "location"
        if pointer.exists():
            return Path(pointer.read_text().strip())
        if self._can_reach(home.parent):
            return home
        digest = hashlib.sha256(str(home.resolve()).encode()).hexdigest()[:12]
        elsewhere = Path("/var/tmp") / f"akhbar-{digest}"
        home.mkdir(parents=True, exist_ok=True)
        pointer.write_text(str(elsewhere) + "\n")
        return elsewhere

    def _port(self) -> int:
        if self.port is not None:
            return self.port
        recorded = self.home / "port"
        if recorded.exists():
            self.port = int(recorded.read_text())
        else:
            self.port = int(os.environ.get("AKHBAR_PG_PORT") or free_port())
        return self.port

    # -- running commands ---------------------------------------------------------------
    def _cmd(self, *args: str) -> list[str]:
        prefix = ["runuser", "-u", self._run_as, "--"] if self._run_as else []
        return [*prefix, *args]

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(self._cmd(*args), capture_output=True, text=True)
        if result.returncode != 0:
            raise EmbeddedDatabaseError(
                f"`{' '.join(args)}` failed ({result.returncode}):\n{result.stderr or result.stdout}"
                + (f"\nServer log: {self.log_file}" if self.log_file.exists() else "")
            )
        return result

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        """Serialise init/start/stop between processes (two crawlers starting at once)."""
        self.home.mkdir(parents=True, exist_ok=True)
        with open(self.home / ".lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # -- lifecycle ------------------------------------------------------------------------
    def initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def running(self) -> bool:
        if not self.initialised():
            return False
        result = subprocess.run(
            self._cmd(str(self.bin / "pg_ctl"), "-D", str(self.data_dir), "status"),
            capture_output=True,
        )
        return result.returncode == 0

    def init(self) -> None:
        for path in (self.home, self.socket_dir):
            path.mkdir(parents=True, exist_ok=True)
            if self._run_as:
                shutil.chown(path, user=self._run_as)
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data_dir),
            f"--username={SUPERUSER}",
            "--auth=trust",  # listens on 127.0.0.1 only; see README
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )
        (self.home / "port").write_text(str(self._port()))

    def start(self) -> str:
        """Initialise if needed, start if stopped, create the database; return its URL."""
        with self._lock():
            if not self.initialised():
                self.init()
            if not self.running():
                port = self._port()
                if _port_open(port):
                    # Someone else took our port since: move to a free one.
                    self.port = free_port()
                    (self.home / "port").write_text(str(self.port))
                self._run(
                    str(self.bin / "pg_ctl"),
                    "-D",
                    str(self.data_dir),
                    "-l",
                    str(self.log_file),
                    "-o",
                    f"-k {self.socket_dir} -p {self._port()} -c listen_addresses=127.0.0.1 "
                    "-c fsync=off -c max_connections=200",
                    "-w",
                    "-t",
                    "60",
                    "start",
                )
            self._create_database(DATABASE)
        return self.url

    def _create_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self._port(), user=SUPERUSER, dbname="postgres", autocommit=True
        ) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
            ).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')

    def stop(self) -> bool:
        """Stop the server if it runs; return whether it was running."""
        with self._lock():
            if not self.running():
                return False
            self._run(
                str(self.bin / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"
            )
            return True

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.home, ignore_errors=True)
