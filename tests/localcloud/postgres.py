"""PostgreSQL for the local Glance (``GLANCE_DB=postgresql``), stdlib only.

Debian's server binaries (``apt-get install postgresql`` when missing), a
private cluster under ``<run>/pg`` (wiped with the run dir by ``up --fresh``)
listening on 127.0.0.1:``GC_PG_PORT`` (default 15432) with its unix socket in
``<run>/pg/sock``, and a ``glance`` role + database.  initdb and postgres
refuse to run as root: as root, they run as the ``postgres`` system user.

    <run>/pg/data/              the cluster (owned by the server user)
    <run>/pg/postgres.log       server log (pg_ctl -l)
    <run>/pg/credentials.json   generated passwords (mode 0600)
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import pwd
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from . import procs
from .install import Paths, _port, log
from .procs import LocalCloudError

DB_MODES = ("sqlite", "postgresql")
_ALIASES = {"postgres": "postgresql", "pg": "postgresql", "psql": "postgresql"}
PSYCOPG2 = "psycopg2-binary==2.9.13"
SERVER_USER = "postgres"  # the OS user that runs initdb/postgres when we are root
DB_NAME = DB_USER = "glance"
_TOOLS = ("initdb", "pg_ctl", "postgres", "psql")


def db_mode(explicit: str | None = None) -> str:
    """Glance's database: ``explicit``, else ``$GLANCE_DB``, else sqlite."""
    raw = (explicit or os.environ.get("GLANCE_DB") or "sqlite").strip().lower()
    mode = _ALIASES.get(raw, raw)
    if mode not in DB_MODES:
        raise LocalCloudError(f"GLANCE_DB / --db {raw!r}: expected one of {', '.join(DB_MODES)}")
    return mode


def pg_port() -> int:
    return _port("GC_PG_PORT", 15432)


@dataclass(frozen=True)
class PgPaths:
    root: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def sock(self) -> Path:
        return self.root / "sock"

    @property
    def log(self) -> Path:
        return self.root / "postgres.log"

    @property
    def credentials(self) -> Path:
        return self.root / "credentials.json"


def pg_paths(p: Paths) -> PgPaths:
    return PgPaths(p.run / "pg")


# ------------------------------------------------------------------- install


def find_bin_dir() -> Path | None:
    """Newest /usr/lib/postgresql/<version>/bin that has initdb, pg_ctl, postgres, psql."""

    def version(d: str) -> tuple[int, ...]:
        m = re.search(r"/postgresql/([\d.]+)/bin$", d)
        return tuple(int(x) for x in m.group(1).split(".")) if m else ()

    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True):
        if all(os.access(Path(d, t), os.X_OK) for t in _TOOLS):
            return Path(d)
    return None


def _apt(*args: str) -> int:
    cmd = ["apt-get", *args]
    log(f"running: {' '.join(cmd)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    # apt's output goes to stderr: stdout of `up` is the `export ...` line
    return subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, stdout=sys.stderr).returncode


def ensure_server_binaries() -> Path:
    found = find_bin_dir()
    if found:
        return found
    log("PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin")
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise LocalCloudError(
            "PostgreSQL server binaries are missing: install Debian's `postgresql` package "
            "(apt-get install -y postgresql, as root)"
        )
    log("installing Debian's postgresql package (one-time)")
    if _apt("install", "-y", "postgresql") != 0:
        log("apt-get install failed; refreshing the package lists and retrying")
        if _apt("update") != 0 or _apt("install", "-y", "postgresql") != 0:
            raise LocalCloudError("apt-get install -y postgresql failed (see output above)")
    found = find_bin_dir()
    if not found:
        raise LocalCloudError(
            "postgresql installed, but /usr/lib/postgresql/*/bin/initdb is absent"
        )
    log(f"PostgreSQL server binaries in {found}")
    return found


def ensure_psycopg2(p: Paths) -> None:
    """psycopg2 in the service venv (only the postgresql mode needs it)."""
    marker = p.venv / ".gc-psycopg2"
    if marker.exists() and marker.read_text().strip() == PSYCOPG2:
        return
    log(f"installing {PSYCOPG2} into the service venv")
    pip_log = p.local / f"service-venv{p.release.suffix}-psycopg2.log"
    cmd = [str(p.bin / "python"), "-m", "pip", "install", "--no-input"]
    cmd += ["-c", str(p.release.constraints), PSYCOPG2]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["VIRTUAL_ENV"] = str(p.venv)
    with open(pip_log, "wb") as out:
        rc = subprocess.run(cmd, env=env, stdout=out, stderr=subprocess.STDOUT).returncode
    if rc != 0:
        raise LocalCloudError(
            f"pip install {PSYCOPG2} failed (exit {rc})\n{procs.log_tail(pip_log)}"
        )
    marker.write_text(PSYCOPG2 + "\n")


# ------------------------------------------------------------ running as user


def _server_user() -> str | None:
    """None: run as ourselves; else the system user to run the server as (we are root)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        log(f"creating system user {SERVER_USER!r} (initdb refuses to run as root)")
        cmd = ["useradd", "--system", "--user-group", "--no-create-home"]
        cmd += ["--home-dir", "/var/lib/postgresql", "--shell", "/usr/sbin/nologin", SERVER_USER]
        subprocess.run(cmd, check=True)
    return SERVER_USER


def _as_user(user: str | None, cmd: list[str]) -> list[str]:
    if user is None:
        return cmd
    runuser = shutil.which("runuser") or shutil.which("runuser", path="/usr/sbin:/sbin")
    if runuser:
        return [runuser, "-u", user, "--", *cmd]
    return ["su", "-s", "/bin/sh", user, "-c", shlex.join(cmd)]


def _chown_tree(path: Path, user: str | None) -> None:
    if user is None:
        return
    pw = pwd.getpwnam(user)
    for root, dirs, files in os.walk(path):
        for name in (root, *(os.path.join(root, n) for n in dirs + files)):
            os.chown(name, pw.pw_uid, pw.pw_gid, follow_symlinks=False)


def _env(password: str | None = None) -> dict[str, str]:
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
    if password is not None:
        env["PGPASSWORD"] = password
    return env


def _run(cmd: list[str], d: PgPaths, what: str, password: str | None = None) -> str:
    try:
        res = subprocess.run(
            cmd,
            env=_env(password),
            cwd=d.root,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
        )
    except OSError as exc:
        raise LocalCloudError(f"{what} failed: {exc}") from exc
    if res.returncode != 0:
        raise LocalCloudError(
            f"{what} failed (exit {res.returncode}): {' '.join(cmd)}\n{res.stdout}{res.stderr}\n"
            f"{procs.log_tail(d.log)}"
        )
    return res.stdout


# ------------------------------------------------------------------- cluster


def _credentials(d: PgPaths) -> dict[str, str]:
    try:
        creds = json.loads(d.credentials.read_text())
        if isinstance(creds, dict) and {"superuser", DB_USER} <= creds.keys():
            return creds
    except (OSError, ValueError):
        pass
    creds = {"superuser": secrets.token_hex(16), DB_USER: secrets.token_hex(16)}
    d.root.mkdir(parents=True, exist_ok=True)
    fd = os.open(d.credentials, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(creds, fh)
    return creds


_INCLUDE = "include_if_exists = 'gc-local.conf'"


def _initialised(d: PgPaths) -> bool:
    """The include line is appended only once initdb has succeeded."""
    try:
        return _INCLUDE in (d.data / "postgresql.conf").read_text()
    except OSError:
        return False


def _initdb(bindir: Path, d: PgPaths, user: str | None, superuser_password: str) -> None:
    log(f"initialising a PostgreSQL cluster in {d.data}" + (f" (as user {user})" if user else ""))
    shutil.rmtree(d.data, ignore_errors=True)  # an interrupted initdb leaves a partial dir
    d.sock.mkdir(parents=True, exist_ok=True)
    pwfile = d.root / ".superuser-pw"
    pwfile.write_text(superuser_password + "\n")
    _chown_tree(d.root, user)
    if user is not None and subprocess.run(_as_user(user, ["test", "-w", str(d.root)])).returncode:
        raise LocalCloudError(
            f"user {user!r} cannot write {d.root}: every parent directory must be searchable "
            "by it (o+x); choose another GC_LOCAL_DIR"
        )
    try:
        cmd = [str(bindir / "initdb"), "-D", str(d.data), "-U", "postgres"]
        cmd += [f"--pwfile={pwfile}", "--auth=scram-sha-256", "-E", "UTF8", "--no-locale"]
        _run(_as_user(user, cmd), d, "initdb")
    finally:
        pwfile.unlink(missing_ok=True)
    with open(d.data / "postgresql.conf", "a") as fh:
        fh.write(f"\n# glance-catalog tests/localcloud\n{_INCLUDE}\n")


def _write_conf(d: PgPaths, port: int, user: str | None) -> None:
    sock = str(d.sock) if len(str(d.sock / f".s.PGSQL.{port}.lock")) < 100 else ""
    text = f"""\
# Written by tests/localcloud on every start.
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{sock}'
unix_socket_permissions = 0700
max_connections = 100
# A throwaway test database: no durability, for speed (`up --fresh` rebuilds it).
fsync = off
synchronous_commit = off
full_page_writes = off
"""
    conf = d.data / "gc-local.conf"
    conf.write_text(text)
    _chown_tree(conf, user)


def running(p: Paths) -> tuple[int, int] | None:
    """(pid, port) of this run dir's postmaster, or None."""
    d = pg_paths(p)
    try:
        lines = (d.data / "postmaster.pid").read_text().splitlines()
        pid, datadir, port = int(lines[0]), lines[1], int(lines[3])
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError, IndexError):
        return None
    if b"postgres" not in cmdline or Path(datadir).resolve() != d.data.resolve():
        return None
    return pid, port


def connection_url(p: Paths, port: int) -> str:
    """SQLAlchemy URL for Glance's ``[database] connection`` (creates the passwords)."""
    pw = _credentials(pg_paths(p))[DB_USER]
    return f"postgresql+psycopg2://{DB_USER}:{pw}@127.0.0.1:{port}/{DB_NAME}"


def start(p: Paths, port: int) -> None:
    """Start (initialising if needed) the cluster and ensure the glance role + database."""
    bindir = ensure_server_binaries()
    d = pg_paths(p)
    user = _server_user()
    creds = _credentials(d)
    if not _initialised(d):
        _initdb(bindir, d, user, creds["superuser"])
    cur = running(p)
    if cur and cur[1] != port:
        log(f"postgres runs on port {cur[1]}, wanted {port}: restarting it")
        stop(p)
        cur = None
    if cur is None:
        if procs.port_in_use(port):
            raise LocalCloudError(
                f"port {port} for postgres is in use by another process; stop it or set GC_PG_PORT"
            )
        _write_conf(d, port, user)
        log(f"starting postgres on 127.0.0.1:{port}")
        cmd = [str(bindir / "pg_ctl"), "-D", str(d.data), "-l", str(d.log), "-w", "-t", "60"]
        _run(_as_user(user, [*cmd, "start"]), d, "pg_ctl start")
    _ensure_database(bindir, d, port, creds)


def _ensure_database(bindir: Path, d: PgPaths, port: int, creds: dict[str, str]) -> None:
    pw = creds[DB_USER]
    sql = f"""\
SELECT 'CREATE ROLE {DB_USER}'
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{DB_USER}')\\gexec
ALTER ROLE {DB_USER} LOGIN PASSWORD '{pw}';
SELECT 'CREATE DATABASE {DB_NAME} OWNER {DB_USER} ENCODING ''UTF8'''
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '{DB_NAME}')\\gexec
"""
    script = d.root / ".ensure-db.sql"
    fd = os.open(script, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(sql)
    try:
        cmd = [str(bindir / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1"]
        cmd += ["-p", str(port), "-U", "postgres", "-d", "postgres", "-f", str(script)]
        _run(cmd, d, "creating the glance database", password=creds["superuser"])
    finally:
        script.unlink(missing_ok=True)


def stop(p: Paths, timeout: float = 30.0) -> bool:
    """Stop this run dir's postgres (idempotent); True if it was running."""
    cur = running(p)
    if cur is None:
        return False
    pid = cur[0]
    d = pg_paths(p)
    bindir = find_bin_dir()
    if bindir is not None:
        cmd = [
            str(bindir / "pg_ctl"),
            "-D",
            str(d.data),
            "-m",
            "fast",
            "-w",
            "-t",
            str(int(timeout)),
        ]
        try:
            _run(_as_user(_server_user(), [*cmd, "stop"]), d, "pg_ctl stop")
        except LocalCloudError as exc:
            log(str(exc))
    for sig in (signal.SIGQUIT, signal.SIGKILL):  # only if pg_ctl could not stop it
        if running(p) is None:
            break
        log(f"postgres (pid {pid}) still running: sending {sig.name}")
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = time.monotonic() + 10
        while running(p) is not None and time.monotonic() < deadline:
            time.sleep(0.1)
    if running(p) is not None:
        raise LocalCloudError(f"postgres (pid {pid}) survived SIGKILL")
    return True


def status(p: Paths, port: int) -> dict[str, object]:
    cur = running(p)
    port = cur[1] if cur else port
    url = f"postgresql://127.0.0.1:{port}/{DB_NAME}"
    return {
        "pid": cur[0] if cur else None,
        "url": url,
        "healthy": bool(cur) and procs.port_in_use(port),
    }
