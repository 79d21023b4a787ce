"""The embedded default database: a real PostgreSQL cluster the project runs itself.

Used when ``DATABASE_URL`` is unset. The cluster lives under ``var/postgres`` (gitignored) and
is started on demand by the commands that need it; ``akhbar db stop`` stops it.

Durable and closed by default: PostgreSQL's own durability settings (fsync, full-page writes,
synchronous commit) with data checksums; every connection needs a password (scram-sha-256),
on TCP (127.0.0.1 only) and on the socket, whose directory only the server's account can
enter. The generated passwords live in ``passwords.json`` (mode 0600) in the cluster home and
are read by whoever runs akhbar there. Roles (none of the working ones is a superuser):

* ``akhbar``: the cluster's bootstrap superuser; only this module uses it, to create roles
  and the database;
* ``akhbar_owner``: owns the database and every table; migrations run as it;
* ``akhbar_app``: reads and writes rows (crawls, imports, dedup); cannot alter or drop the
  owner's tables;
* ``akhbar_reader``: read-only (``akhbar serve``), see cli/commands/roles.py.

initdb and postgres refuse to run as root. When we are root, the server runs as the
unprivileged ``postgres`` account (``AKHBAR_PG_USER`` to choose another); if that account
cannot reach ``var/`` (a clone under /root, say), the cluster goes to a directory it can
reach under /var/tmp and ``var/postgres`` records where.

Speed switches (fsync off and the like) are not here: callers that want a throwaway cluster
(the test fixtures) pass ``settings`` and ``sync_initdb=False`` themselves.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_HOME = REPO_ROOT / "var" / "postgres"
DATABASE = "akhbar"
SUPERUSER = ADMIN_ROLE = "akhbar"
OWNER_ROLE = "akhbar_owner"
APP_ROLE = "akhbar_app"
READER_ROLE = "akhbar_reader"
LOGIN_ROLES = (ADMIN_ROLE, OWNER_ROLE, APP_ROLE, READER_ROLE)

# No trust, no replication; the socket is also guarded by its directory's mode.
PG_HBA = """\
# Written by akhbar (db/embedded.py): every connection needs a password.
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       all                 scram-sha-256
host    all       all   127.0.0.1/32  scram-sha-256
host    all       all   ::1/128       scram-sha-256
"""


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


def _write_private(path: Path, content: str) -> None:
    """Write ``content`` to ``path`` readable by its owner only, replacing it atomically."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, content.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temporary, path)


@dataclass
class EmbeddedPostgres:
    """One PostgreSQL cluster in ``home`` (data/, socket/, server.log, port, passwords.json)."""

    home: Path | None = None  # None: AKHBAR_PG_HOME, else var/postgres
    port: int | None = None  # None: the port recorded in home, else a free one
    # Extra ``postgres -c`` settings, e.g. a test fixture's {"fsync": "off"}; none in production.
    settings: Mapping[str, str] = field(default_factory=dict)
    sync_initdb: bool = True  # False: initdb --no-sync (throwaway clusters only)

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
    def passwords_file(self) -> Path:
        return self.home / "passwords.json"

    @property
    def url(self) -> str:
        """The application role's URL (password included) for the akhbar database."""
        return self.url_for(APP_ROLE)

    def url_for(self, role: str = APP_ROLE, database: str = DATABASE) -> str:
        """A SQLAlchemy URL for ``role``, with its password when the cluster has one."""
        password = self._passwords().get(role)
        auth = f"{role}:{password}" if password else role
        return f"postgresql+psycopg://{auth}@127.0.0.1:{self._port()}/{database}"

    def conninfo(self, role: str = ADMIN_ROLE, database: str = "postgres") -> dict[str, Any]:
        """psycopg.connect keyword arguments for ``role``."""
        params: dict[str, Any] = {
            "host": "127.0.0.1",
            "port": self._port(),
            "user": role,
            "dbname": database,
        }
        if password := self._passwords().get(role):
            params["password"] = password
        return params

    def _passwords(self) -> dict[str, str]:
        try:
            return json.loads(self.passwords_file.read_text())
        except FileNotFoundError:
            return {}
        except PermissionError:
            raise EmbeddedDatabaseError(
                f"{self.passwords_file} is readable only by the account that created the "
                "embedded database: run akhbar as that account, or set DATABASE_URL."
            ) from None

    def _ensure_passwords(self) -> dict[str, str]:
        """The roles' passwords, generated (and stored, mode 0600) the first time."""
        passwords = self._passwords()
        missing = [role for role in LOGIN_ROLES if not passwords.get(role)]
        if missing:
            passwords.update({role: secrets.token_urlsafe(32) for role in missing})
            self.home.mkdir(parents=True, exist_ok=True)
            _write_private(self.passwords_file, json.dumps(passwords, indent=1) + "\n")
        return passwords

    def remember_password(self, role: str, password: str) -> None:
        """Record a password set on ``role`` elsewhere (``akhbar db create-reader``)."""
        passwords = self._ensure_passwords()
        passwords[role] = password
        _write_private(self.passwords_file, json.dumps(passwords, indent=1) + "\n")

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

    def _give_to_server(self, path: Path) -> None:
        if self._run_as:
            shutil.chown(path, user=self._run_as)

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
            self._give_to_server(path)
        self.socket_dir.chmod(0o700)
        passwords = self._ensure_passwords()
        # initdb reads the superuser's password as the server account, from a file only it
        # can read, removed straight after.
        pwfile = self.home / f".initdb-password.{os.getpid()}"
        _write_private(pwfile, passwords[ADMIN_ROLE] + "\n")
        self._give_to_server(pwfile)
        try:
            self._run(
                str(self.bin / "initdb"),
                "-D",
                str(self.data_dir),
                f"--username={ADMIN_ROLE}",
                f"--pwfile={pwfile}",
                "--auth-local=scram-sha-256",
                "--auth-host=scram-sha-256",
                "--data-checksums",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                *([] if self.sync_initdb else ["--no-sync"]),
            )
        finally:
            pwfile.unlink(missing_ok=True)
        self._write_hba()
        (self.home / "port").write_text(str(self._port()))

    def _hba_file(self) -> Path:
        return self.data_dir / "pg_hba.conf"

    def _write_hba(self) -> None:
        path = self._hba_file()
        path.write_text(PG_HBA)  # keeps the file's owner (the server account)
        path.chmod(0o600)

    def trusts_anyone(self) -> bool:
        """Whether pg_hba.conf lets someone in without a password (clusters made before)."""
        try:
            rules = self._hba_file().read_text()
        except FileNotFoundError:
            return False
        return any(
            re.search(r"\b(trust|peer|ident)\s*$", line.split("#", 1)[0].strip())
            for line in rules.splitlines()
            if line.split("#", 1)[0].strip()
        )

    def start(self) -> str:
        """Initialise if needed, start if stopped, close a cluster made with trust
        authentication, create the roles and the database; return the application URL."""
        with self._lock():
            if not self.initialised():
                self.init()
            self.socket_dir.mkdir(parents=True, exist_ok=True)
            self.socket_dir.chmod(0o700)
            if not self.running():
                port = self._port()
                if _port_open(port):
                    # Someone else took our port since: move to a free one.
                    self.port = free_port()
                    (self.home / "port").write_text(str(self.port))
                extra = " ".join(f"-c {name}={value}" for name, value in self.settings.items())
                self._run(
                    str(self.bin / "pg_ctl"),
                    "-D",
                    str(self.data_dir),
                    "-l",
                    str(self.log_file),
                    "-o",
                    f"-k {self.socket_dir} -p {self._port()} -c listen_addresses=127.0.0.1 "
                    f"-c unix_socket_permissions=0700 -c max_connections=200 {extra}".strip(),
                    "-w",
                    "-t",
                    "60",
                    "start",
                )
            if self.trusts_anyone():
                self._close_trusting_cluster()
            elif not self._passwords().get(ADMIN_ROLE):
                raise EmbeddedDatabaseError(
                    f"The embedded database's passwords file {self.passwords_file} is missing: "
                    "restore it from a backup, or remove the cluster's directory to start afresh "
                    "(that deletes its data)."
                )
            import psycopg

            try:
                self._ensure_roles_and_database()
            except psycopg.OperationalError as exc:
                reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc)
                raise EmbeddedDatabaseError(
                    f"Cannot log in to the embedded database as {ADMIN_ROLE} ({reason}); its "
                    f"passwords are in {self.passwords_file}."
                ) from None
        return self.url

    def _close_trusting_cluster(self) -> None:
        """A cluster made by an earlier akhbar (trust authentication): give the superuser a
        password, then allow password logins only."""
        import psycopg
        from psycopg import sql

        passwords = self._ensure_passwords()
        params = self.conninfo(ADMIN_ROLE)
        params.pop("password", None)
        with psycopg.connect(**params, autocommit=True) as conn:
            conn.execute("SET password_encryption = 'scram-sha-256'")
            conn.execute(
                sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                    sql.Identifier(ADMIN_ROLE), sql.Literal(passwords[ADMIN_ROLE])
                )
            )
            self._write_hba()
            conn.execute("SELECT pg_reload_conf()")

    def _ensure_roles_and_database(self) -> None:
        """Create (or repair) the owner, application and reader roles and the database;
        give the owner what an earlier akhbar created as the superuser (idempotent)."""
        import psycopg
        from psycopg import sql

        passwords = self._ensure_passwords()
        with psycopg.connect(**self.conninfo(ADMIN_ROLE), autocommit=True) as conn:
            for role in (OWNER_ROLE, APP_ROLE, READER_ROLE):
                ident = sql.Identifier(role)
                exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
                if not exists.fetchone():
                    conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(ident))
                elif role == READER_ROLE:
                    ident = None  # `akhbar db create-reader --password-env` may have set its own
                if ident is not None:
                    conn.execute(
                        sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                            ident, sql.Literal(passwords[role])
                        )
                    )
                conn.execute(
                    sql.SQL(
                        "ALTER ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION "
                        "NOBYPASSRLS"
                    ).format(sql.Identifier(role))
                )
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone():
                conn.execute(
                    sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
                        sql.Identifier(DATABASE), sql.Identifier(OWNER_ROLE)
                    )
                )
            else:
                conn.execute(
                    sql.SQL("CREATE DATABASE {} OWNER {}").format(
                        sql.Identifier(DATABASE), sql.Identifier(OWNER_ROLE)
                    )
                )
        with psycopg.connect(**self.conninfo(ADMIN_ROLE, DATABASE), autocommit=True) as conn:
            self._hand_objects_to_owner(conn)
            statements = [
                "REVOKE ALL ON DATABASE {db} FROM PUBLIC",
                "GRANT CONNECT, TEMPORARY ON DATABASE {db} TO {app}",
                # CREATE: the scheduler's job store makes its own table.
                "GRANT USAGE, CREATE ON SCHEMA public TO {app}",
                "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {app}",
                "GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {app}",
                "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
                "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {app}",
                "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
                "GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {app}",
            ]
            for statement in statements:
                conn.execute(
                    sql.SQL(statement).format(
                        db=sql.Identifier(DATABASE),
                        app=sql.Identifier(APP_ROLE),
                        owner=sql.Identifier(OWNER_ROLE),
                    )
                )

    @staticmethod
    def _hand_objects_to_owner(conn: Any) -> None:
        """Tables, views, sequences and functions in ``public`` that the superuser owns
        (created by an earlier akhbar, which migrated as the superuser) go to the owner."""
        from psycopg import sql

        relations = conn.execute(
            """
            SELECT c.relname, c.relkind FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relowner = (SELECT oid FROM pg_roles WHERE rolname = %s)
              AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
              AND NOT (c.relkind = 'S' AND EXISTS (
                  SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')))
            """,
            (ADMIN_ROLE,),
        ).fetchall()
        kinds = {"r": "TABLE", "p": "TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW", "S": "SEQUENCE"}
        for name, kind in relations:
            conn.execute(
                sql.SQL("ALTER {} {} OWNER TO {}").format(
                    sql.SQL(kinds[kind]), sql.Identifier("public", name), sql.Identifier(OWNER_ROLE)
                )
            )
        functions = conn.execute(
            """
            SELECT p.oid::regprocedure::text FROM pg_proc p
            JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = 'public' AND p.proowner = (SELECT oid FROM pg_roles WHERE rolname = %s)
            """,
            (ADMIN_ROLE,),
        ).fetchall()
        for (signature,) in functions:
            conn.execute(
                sql.SQL("ALTER FUNCTION {} OWNER TO {}").format(
                    sql.SQL(signature), sql.Identifier(OWNER_ROLE)
                )
            )

    def _create_database(self, name: str) -> None:
        """A database of ``name`` (throwaway databases in tests and benchmarks)."""
        import psycopg

        with psycopg.connect(**self.conninfo(ADMIN_ROLE), autocommit=True) as conn:
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
