"""Install and run a real Keystone + Glance on 127.0.0.1 (stdlib only).

Layout (``GC_LOCAL_DIR``, default ``<repo>/.local``)::

    service-venv/        glance + keystone + gunicorn (installed once)
    clouds.yaml          clouds local / local-a / local-b
    run/                 configs, sqlite dbs, image store, logs, pid files
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

from . import configs, procs, provision
from .install import (
    HERE,
    Paths,
    ensure_service_venv,
    glance_db_sync,
    glance_port,
    gunicorn_has,
    keystone_init,
    keystone_port,
    log,
    paths,
)
from .procs import LocalCloudError

SOURCE_PORTS = range(18080, 18090)  # web-download sources Glance may fetch from
ALLOWED_IMPORT_PORTS = [80, 443, *SOURCE_PORTS]
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


# ------------------------------------------------------------------- services


@dataclass(frozen=True)
class _Service:
    name: str
    port: int
    health_path: str
    app: str
    extra_env: dict[str, str]
    pythonpath: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def pidfile(self, p: Paths) -> Path:
        return p.run / f"{self.name}.pid"

    def log(self, p: Paths) -> Path:
        return p.logs / f"{self.name}.log"

    def healthy(self) -> bool:
        return procs.http_ok(self.url + self.health_path)

    def running(self, p: Paths) -> int | None:
        return procs.server_alive(self.pidfile(p))


def _services(p: Paths) -> tuple[_Service, _Service]:
    ks = _Service(
        name="keystone",
        port=keystone_port(),
        health_path="/v3",
        app="wsgi_keystone:application",
        extra_env={"OS_KEYSTONE_CONFIG_FILES": str(p.run / "keystone" / "keystone.conf")},
        pythonpath=p.run / "wsgi",
    )
    gl = _Service(
        name="glance",
        port=glance_port(),
        health_path="/healthcheck",
        app="glance.wsgi.api:application",
        extra_env={"OS_GLANCE_CONFIG_DIR": str(p.run / "glance")},
    )
    return ks, gl


def _server_env(p: Paths, extra: dict[str, str]) -> dict[str, str]:
    """A clean environment: nothing (OS_*, proxies, PYTHONPATH) leaks in."""
    env = {
        "PATH": f"{p.bin}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(p.run / "home"),
        "TMPDIR": str(p.run / "tmp"),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "VIRTUAL_ENV": str(p.venv),
        "PYTHONUNBUFFERED": "1",
        "PYTHONWARNINGS": "ignore",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    env.update(extra)
    return env


def _gunicorn_argv(p: Paths, svc: _Service) -> list[str]:
    argv = [
        str(p.bin / "gunicorn"),
        "--bind",
        f"127.0.0.1:{svc.port}",
        # sqlite: exactly one writer, or "database is locked" (HTTP 500)
        "--workers",
        "1",
        "--threads",
        "1",
        "--worker-class",
        "sync",
        # a sync worker is "dead" if a single request (a big upload) exceeds this
        "--timeout",
        "900",
        "--graceful-timeout",
        "5",
        "--name",
        f"gc-{svc.name}",
        "--chdir",
        str(p.run),
        "--error-logfile",
        "-",
        "--access-logfile",
        str(p.logs / f"{svc.name}-access.log"),
    ]
    if svc.pythonpath:
        argv += ["--pythonpath", str(svc.pythonpath)]
    sock = p.run / f"{svc.name}.ctl"
    # gunicorn >= 27 opens a control socket, by default under ~/.gunicorn
    if gunicorn_has("--control-socket") and len(str(sock)) < 100:
        argv += ["--control-socket", str(sock)]
    elif gunicorn_has("--no-control-socket"):
        argv += ["--no-control-socket"]
    return [*argv, svc.app]


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


def _wait_healthy(p: Paths, svc: _Service, pid: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        if svc.healthy():
            return
        rc = procs.exited(pid)
        if rc is not None or procs.server_alive(svc.pidfile(p)) is None:
            raise LocalCloudError(
                f"{svc.name} exited during startup (exit {rc})\n{procs.log_tail(svc.log(p))}"
            )
        time.sleep(0.1)
    raise LocalCloudError(
        f"{svc.name} not healthy at {svc.url}{svc.health_path} after {START_TIMEOUT:.0f}s\n"
        f"{procs.log_tail(svc.log(p))}"
    )


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


def _write_configs(p: Paths, ks: _Service, gl: _Service) -> None:
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
            allowed_ports=ALLOWED_IMPORT_PORTS,
        ),
        p.run / "glance" / "glance-api-paste.ini": configs.glance_paste_ini(run=p.run),
        p.run / "wsgi" / "wsgi_keystone.py": (HERE / "wsgi_keystone.py").read_text(),
    }
    for path, text in files.items():
        if not path.exists() or path.read_text() != text:
            path.write_text(text)


def _write_clouds_yaml(p: Paths, ks: _Service) -> None:
    text = configs.clouds_yaml(keystone_url=ks.url, clouds=provision.CLOUDS)
    if not p.clouds_yaml.exists() or p.clouds_yaml.read_text() != text:
        p.clouds_yaml.write_text(text)


def _cloud(p: Paths, ks: _Service, gl: _Service, started: bool) -> LocalCloud:
    ids = _load_state(p).get("project_ids") or {}
    return LocalCloud(p.clouds_yaml, gl.url, ks.url, p.run, started, dict(ids))


def _smoke_test(ks: _Service, gl: _Service) -> None:
    """Admin token -> GET /v2/images: proves authtoken <-> keystone works."""
    token = provision.password_token(
        ks.url, provision.ADMIN_USER, provision.ADMIN_PASSWORD, provision.ADMIN_PROJECT
    )
    req = urllib.request.Request(f"{gl.url}/v2/images?limit=1", headers={"X-Auth-Token": token})
    with urllib.request.urlopen(req, timeout=30) as resp:
        resp.read()


# ------------------------------------------------------------------ up / down


def _stop_all(p: Paths) -> list[str]:
    stopped = []
    for svc in reversed(_services(p)):
        if procs.stop_group(svc.pidfile(p)):
            stopped.append(svc.name)
    return stopped


def _up(fresh: bool) -> LocalCloud:
    p = paths()
    ensure_service_venv()
    ks, gl = _services(p)
    state = _load_state(p)
    ports = {"keystone_port": ks.port, "glance_port": gl.port}
    stale = bool(state) and any(state.get(k) != v for k, v in ports.items())
    if fresh or stale:
        log("wiping run dir" + (" (ports changed)" if stale and not fresh else ""))
        _stop_all(p)
        shutil.rmtree(p.run, ignore_errors=True)
        state = {}

    up = {s.name: bool(s.running(p)) and s.healthy() for s in (ks, gl)}
    if all(up.values()) and state.get("provisioned"):
        _write_clouds_yaml(p, ks)
        return _cloud(p, ks, gl, started=False)

    t0 = time.monotonic()
    p.run.mkdir(parents=True, exist_ok=True)
    _write_configs(p, ks, gl)
    started: list[_Service] = []
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
        state.update(ports)
        jobs: list[tuple[str, Callable[[], None]]] = []
        if not state.get("keystone_initialized"):
            jobs.append(
                ("keystone-init", lambda: keystone_init(p, ks.url, _server_env(p, ks.extra_env)))
            )
        if not state.get("glance_db_synced"):
            jobs.append(("glance-db-sync", lambda: glance_db_sync(p, _server_env(p, gl.extra_env))))
        if jobs:
            log("initialising databases: " + ", ".join(n for n, _ in jobs))
            try:
                _parallel(*jobs)
            except LocalCloudError as exc:
                raise LocalCloudError(f"{exc}\n(if this persists, try `up --fresh`)") from exc
            state.update(keystone_initialized=True, glance_db_synced=True)
            _save_state(p, state)
        pids = {}
        for svc in to_start:
            log(f"starting {svc.name} on {svc.url}")
            pids[svc.name] = procs.spawn(
                _gunicorn_argv(p, svc),
                env=_server_env(p, svc.extra_env),
                cwd=p.run,
                log=svc.log(p),
                pidfile=svc.pidfile(p),
            )
            started.append(svc)
        deadline = time.monotonic() + START_TIMEOUT
        if ks in started:
            _wait_healthy(p, ks, pids[ks.name], deadline)
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
            _wait_healthy(p, gl, pids[gl.name], deadline)
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
    return _cloud(p, ks, gl, started=bool(started))


def ensure_up(fresh: bool = False) -> LocalCloud:
    """Install (once) and start Keystone + Glance; no-op if already healthy."""
    p = paths()
    with procs.file_lock(p.lock):
        return _up(fresh)


def stop() -> None:
    """Stop both servers (idempotent)."""
    p = paths()
    with procs.file_lock(p.lock):
        for name in _stop_all(p):
            log(f"stopped {name}")


def status() -> dict[str, dict[str, Any]]:
    p = paths()
    out: dict[str, dict[str, Any]] = {}
    for svc in _services(p):
        pid = svc.running(p)
        out[svc.name] = {"pid": pid, "url": svc.url, "healthy": bool(pid) and svc.healthy()}
    return out


def env_line() -> str:
    return f"export OS_CLIENT_CONFIG_FILE={paths().clouds_yaml}"
