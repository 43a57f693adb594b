"""Install and run a real Keystone + Glance on 127.0.0.1 (stdlib only).

Layout (``GC_LOCAL_DIR``, default ``<repo>/.local``)::

    service-venv/        glance + keystone + gunicorn (installed once)
    clouds.yaml          clouds local / local-a / local-b
    run/                 configs, sqlite dbs, image store, logs, pid files
    run/pg/              PostgreSQL cluster (GLANCE_DB=postgresql only, see postgres.py)
    run/glance-*/        further Glances, e.g. multi-store (multistore.py), each with its
    glance-*.clouds.yaml   own clouds.yaml

Glance's database: sqlite (default; 1 gunicorn worker) or PostgreSQL
(``ensure_up(db="postgresql")``, ``up --db postgresql`` or ``GLANCE_DB=postgresql``;
4 workers).  Keystone always uses sqlite.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import configs, postgres, procs, provision, releases
from .install import (
    HERE,
    Paths,
    ensure_service_venv,
    glance_db_sync,
    glance_port,
    keystone_init,
    log,
    paths,
    region_two_port,
)
from .procs import LocalCloudError
from .releases import Release
from .services import GLANCE_APPS, Service, gunicorn_argv, server_env, services, wait_healthy

SOURCE_PORTS = range(18080, 18090)  # web-download sources Glance may fetch from
ALLOWED_IMPORT_PORTS = [80, 443, *SOURCE_PORTS]


def glance_download_ports() -> list[int]:
    """The ports a Glance may import from: web-download sources, and the Glances of both
    regions (glance-download pulls through the same URL filter)."""
    return [*ALLOWED_IMPORT_PORTS, glance_port(), region_two_port()]


START_TIMEOUT = float(os.environ.get("GC_START_TIMEOUT", "90"))


@dataclass(frozen=True)
class LocalCloud:
    clouds_yaml: Path
    glance_url: str
    keystone_url: str
    run_dir: Path
    started_here: bool  # True if this call started a server (the caller should stop())
    # project name -> id (admin, service, project-a, project-b)
    project_ids: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    db: str = "sqlite"  # Glance's database: sqlite | postgresql


# ---------------------------------------------------------------------- helpers


def _parallel(*jobs: tuple[str, Callable[[], None]]) -> None:
    """Run callables in threads; re-raise the first failure."""
    errors: list[BaseException] = []

    def wrap(fn: Callable[[], None]) -> None:
        try:
            fn()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=wrap, args=(fn,), name=n) for n, fn in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


# ---------------------------------------------------------------------- state


def _load_state(p: Paths) -> dict[str, Any]:
    try:
        data = json.loads(p.state.read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _save_state(p: Paths, state: dict[str, Any]) -> None:
    tmp = p.state.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2, sort_keys=True))
    tmp.replace(p.state)


def _write_configs(p: Paths, ks: Service, gl: Service, connection: str | None = None) -> None:
    for d in (
        "keystone/locks",
        "glance/images",
        "glance/staging",
        "glance/tasks",
        "glance/locks",
        "glance/image-cache",
        "logs",
        "home",
        "tmp",
        "wsgi",
    ):
        (p.run / d).mkdir(parents=True, exist_ok=True)
    files = {
        p.run / "keystone" / "keystone.conf": configs.keystone_conf(
            run=p.run, db=p.run / "keystone" / "keystone.sqlite"
        ),
        p.run / "glance" / "glance-api.conf": configs.glance_api_conf(
            run=p.run,
            db=p.run / "glance" / "glance.sqlite",
            glance_url=gl.url,
            keystone_url=ks.url,
            service_password=provision.GLANCE_SERVICE_PASSWORD,
            allowed_ports=glance_download_ports(),
            connection=connection,
        ),
        p.run / "glance" / "glance-api-paste.ini": configs.glance_paste_ini(run=p.run),
        p.run / "wsgi" / "wsgi_keystone.py": (HERE / "wsgi_keystone.py").read_text(),
        p.run / "wsgi" / "wsgi_glance.py": (HERE / "wsgi_glance.py").read_text(),
        p.run / "wsgi" / "glance_app.py": (HERE / "glance_app.py").read_text(),
    }
    for path, text in files.items():
        if not path.exists() or path.read_text() != text:
            path.write_text(text)


def _write_clouds_yaml(p: Paths, ks: Service) -> None:
    text = configs.clouds_yaml(
        keystone_url=ks.url, clouds=provision.CLOUDS, region_clouds=provision.REGION_CLOUDS
    )
    if not p.clouds_yaml.exists() or p.clouds_yaml.read_text() != text:
        p.clouds_yaml.write_text(text)


def _cloud(p: Paths, ks: Service, gl: Service, started: bool, db: str) -> LocalCloud:
    ids = _load_state(p).get("project_ids") or {}
    return LocalCloud(p.clouds_yaml, gl.url, ks.url, p.run, started, dict(ids), db)


def _smoke_test(ks: Service, gl: Service) -> None:
    """Admin token -> GET /v2/images: proves authtoken <-> keystone works."""
    token = provision.password_token(
        ks.url, provision.ADMIN_USER, provision.ADMIN_PASSWORD, provision.ADMIN_PROJECT
    )
    req = urllib.request.Request(f"{gl.url}/v2/images?limit=1", headers={"X-Auth-Token": token})
    with urllib.request.urlopen(req, timeout=30) as resp:
        resp.read()


def _synced_key(db: str) -> str:
    # "glance_db_synced" (sqlite) predates the postgresql mode: keep reading it
    return "glance_db_synced" if db == "sqlite" else f"glance_db_synced_{db}"


# ------------------------------------------------------------------ up / down


def _stop_all(p: Paths) -> list[str]:
    stopped = []
    # Further Glances first (multistore.py): they need this Keystone.
    for pidfile in sorted(p.run.glob("glance-*.pid")):
        if procs.stop_group(pidfile):
            stopped.append(pidfile.stem)
    for svc in reversed(services(p)):
        if procs.stop_group(svc.pidfile(p)):
            stopped.append(svc.name)
    if postgres.stop(p):
        stopped.append("postgres")
    return stopped


def _switch_db(p: Paths, gl: Service, state: dict[str, Any], db: str, pg_port: int | None) -> None:
    """Stop a Glance that runs on another database (or postgres port) than wanted."""
    had = (state.get("glance_db", "sqlite"), state.get("pg_port"))
    if had != (db, pg_port) and procs.stop_group(gl.pidfile(p)):
        was = f"{had[0]} (port {had[1]})" if had[1] else had[0]
        log(f"glance ran on {was}: restarting it on {db}")
    if db == "sqlite" and postgres.stop(p):
        log("stopped postgres (glance uses sqlite)")


def _restart_stale_glance(p: Paths, gl: Service, state: dict[str, Any]) -> None:
    """Stop a Glance that serves another WSGI app than this harness would start: one started
    before the sqlite Glance got wsgi_glance.py would still answer "database is locked"."""
    # a state without "glance_app" comes from a harness that always served glance's own app
    had = state.get("glance_app", GLANCE_APPS["postgresql"])
    if had != gl.app and procs.stop_group(gl.pidfile(p)):
        log(f"glance ran {had}: restarting it with {gl.app}")


def _up(fresh: bool, db: str) -> LocalCloud:
    p = paths()
    ensure_service_venv()
    pg_port = postgres.pg_port() if db == "postgresql" else None
    if pg_port is not None:
        postgres.ensure_psycopg2(p)
    ks, gl = services(p, db)
    state = _load_state(p)
    ports = {"keystone_port": ks.port, "glance_port": gl.port}
    stale = bool(state) and any(state.get(k) != v for k, v in ports.items())
    if fresh or stale:
        log("wiping run dir" + (" (ports changed)" if stale and not fresh else ""))
        _stop_all(p)
        shutil.rmtree(p.run, ignore_errors=True)
        state = {}
    if state:
        _switch_db(p, gl, state, db, pg_port)
        _restart_stale_glance(p, gl, state)

    up = {s.name: bool(s.running(p)) and s.healthy() for s in (ks, gl)}
    if pg_port is not None and postgres.running(p) is None:
        up[gl.name] = False  # (re)start postgres, then glance
    if all(up.values()) and state.get("provisioned"):
        _write_clouds_yaml(p, ks)
        return _cloud(p, ks, gl, started=False, db=db)

    t0 = time.monotonic()
    p.run.mkdir(parents=True, exist_ok=True)
    connection = None if pg_port is None else postgres.connection_url(p, pg_port)
    _write_configs(p, ks, gl, connection)
    started: list[Service] = []
    try:
        to_start = [s for s in (ks, gl) if not up[s.name]]
        for svc in to_start:
            procs.stop_group(svc.pidfile(p))  # stale / unhealthy leftovers
            if procs.port_in_use(svc.port):
                var = "GC_KEYSTONE_PORT" if svc is ks else "GC_GLANCE_PORT"
                raise LocalCloudError(
                    f"port {svc.port} for {svc.name} is in use by another process; "
                    f"stop it or set {var}"
                )
        state.update(ports, glance_db=db, pg_port=pg_port, glance_app=gl.app)
        synced = _synced_key(db)
        glance_steps = (["postgres"] if pg_port is not None else []) + (
            [] if state.get(synced) else ["glance-db-sync"]
        )

        def glance_db() -> None:
            if pg_port is not None:
                postgres.start(p, pg_port)
            if "glance-db-sync" in glance_steps:
                glance_db_sync(p, server_env(p, gl.extra_env))

        jobs: list[tuple[str, Callable[[], None]]] = []
        if not state.get("keystone_initialized"):
            jobs.append(
                ("keystone-init", lambda: keystone_init(p, ks.url, server_env(p, ks.extra_env)))
            )
        if glance_steps:
            jobs.append(("+".join(glance_steps), glance_db))
        if jobs:
            log("initialising databases: " + ", ".join(n for n, _ in jobs))
            try:
                _parallel(*jobs)
            except LocalCloudError as exc:
                raise LocalCloudError(f"{exc}\n(if this persists, try `up --fresh`)") from exc
            state.update({"keystone_initialized": True, synced: True})
            _save_state(p, state)
        pids = {}
        for svc in to_start:
            log(
                f"starting {svc.name} on {svc.url}"
                + (f" ({svc.workers} workers)" if svc.workers > 1 else "")
            )
            pids[svc.name] = procs.spawn(
                gunicorn_argv(p, svc),
                env=server_env(p, svc.extra_env),
                cwd=p.run,
                log=svc.log(p),
                pidfile=svc.pidfile(p),
            )
            started.append(svc)
        deadline = time.monotonic() + START_TIMEOUT
        if ks in started:
            wait_healthy(p, ks, pids[ks.name], deadline, START_TIMEOUT)
        if not state.get("provisioned"):
            log("provisioning keystone (projects, users, roles, image endpoints)")
            try:
                state["project_ids"] = provision.provision(ks.url, gl.url)
            except (provision.KeystoneError, OSError) as exc:
                raise LocalCloudError(
                    f"provisioning failed: {exc}\n{procs.log_tail(ks.log(p))}"
                ) from exc
            state["provisioned"] = True
            _save_state(p, state)
        if gl in started:
            wait_healthy(p, gl, pids[gl.name], deadline, START_TIMEOUT)
            try:
                _smoke_test(ks, gl)
            except OSError as exc:
                raise LocalCloudError(
                    f"glance rejects an admin token request: {exc}\n{procs.log_tail(gl.log(p))}"
                ) from exc
        _write_clouds_yaml(p, ks)
        _save_state(p, state)
    except BaseException:
        for svc in reversed(started):
            try:
                procs.stop_group(svc.pidfile(p))
            except Exception as exc:  # keep the original error
                log(f"could not stop {svc.name}: {exc}")
        raise
    log(f"{' + '.join(s.name for s in started)} up in {time.monotonic() - t0:.1f}s")
    return _cloud(p, ks, gl, started=bool(started), db=db)


def ensure_up(fresh: bool = False, db: str | None = None) -> LocalCloud:
    """Install (once) and start Keystone + Glance; no-op if already healthy.

    ``db``: Glance's database, ``sqlite`` or ``postgresql``; default ``$GLANCE_DB``,
    else sqlite.  A running Glance on the other database is restarted on this one.
    """
    mode = postgres.db_mode(db)
    p = paths()
    with procs.file_lock(p.lock):
        return _up(fresh, mode)


def stop(release: Release | None = None) -> None:
    """Stop both servers and postgres of ``release`` (default: the selected one), if running
    (idempotent)."""
    p = paths(release)
    if not p.run.exists():
        return
    with procs.file_lock(p.lock):
        for name in _stop_all(p):
            log(f"stopped {name}" + (f" ({p.release.name})" if p.release.suffix else ""))


def stop_every_release() -> None:
    """Stop the local clouds of every release the harness knows."""
    for release in releases.RELEASES.values():
        stop(release)


def status() -> dict[str, dict[str, Any]]:
    p = paths()
    state = _load_state(p)
    db = state.get("glance_db", "sqlite")
    out: dict[str, dict[str, Any]] = {}
    for svc in services(p, db):
        pid = svc.running(p)
        out[svc.name] = {"pid": pid, "url": svc.url, "healthy": bool(pid) and svc.healthy()}
    out["glance"]["db"] = db
    if db == "postgresql" or postgres.running(p):
        out["postgres"] = postgres.status(p, state.get("pg_port") or postgres.pg_port())
    return out


def env_line() -> str:
    return f"export OS_CLIENT_CONFIG_FILE={paths().clouds_yaml}"
