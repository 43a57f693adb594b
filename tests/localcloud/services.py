"""The two gunicorn-served services (Keystone, Glance): argv, environment, health."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from . import procs
from .install import Paths, glance_port, gunicorn_has, keystone_port
from .procs import LocalCloudError

# Glance on PostgreSQL: several sync worker processes (see gunicorn_argv)
GLANCE_PG_WORKERS = 4

# Glance's WSGI app per database (modules copied to run/wsgi). On sqlite, wsgi_glance.py makes
# every transaction take the write lock when it begins: see its docstring for why. PostgreSQL
# has row locks and needs nothing of the kind: Glance's own app, found by glance_app.py in
# whichever release is installed.
GLANCE_APPS = {"sqlite": "wsgi_glance:application", "postgresql": "glance_app:application"}


@dataclass(frozen=True)
class Service:
    name: str
    port: int
    health_path: str
    app: str
    extra_env: dict[str, str]
    pythonpath: Path | None = None
    workers: int = 1

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


def services(p: Paths, db: str = "sqlite") -> tuple[Service, Service]:
    """(keystone, glance); ``db`` is Glance's database mode (sqlite | postgresql)."""
    ks = Service(
        name="keystone",
        port=keystone_port(),
        health_path="/v3",
        app="wsgi_keystone:application",
        extra_env={"OS_KEYSTONE_CONFIG_FILES": str(p.run / "keystone" / "keystone.conf")},
        pythonpath=p.run / "wsgi",
    )
    gl = Service(
        name="glance",
        port=glance_port(),
        health_path="/healthcheck",
        app=GLANCE_APPS[db],
        extra_env={"OS_GLANCE_CONFIG_DIR": str(p.run / "glance")},
        pythonpath=p.run / "wsgi",
        workers=GLANCE_PG_WORKERS if db == "postgresql" else 1,
    )
    return ks, gl


def extra_glance(p: Paths, name: str, port: int) -> Service:
    """A further Glance on sqlite (see multistore.py): its files in ``run/<name>``, its pid
    file ``run/<name>.pid``; ``name`` starts with ``glance-`` (harness.down stops them all)."""
    return Service(
        name=name,
        port=port,
        health_path="/healthcheck",
        app=GLANCE_APPS["sqlite"],
        extra_env={"OS_GLANCE_CONFIG_DIR": str(p.run / name)},
        pythonpath=p.run / "wsgi",
    )


def server_env(p: Paths, extra: dict[str, str]) -> dict[str, str]:
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


def gunicorn_argv(p: Paths, svc: Service) -> list[str]:
    argv = [
        str(p.bin / "gunicorn"),
        "--bind",
        f"127.0.0.1:{svc.port}",
        # sqlite: one process; its request thread and its import task threads take turns at
        # sqlite's one write lock (wsgi_glance.py).
        # Keystone: one process, its dogpile memory cache is per process.
        # Glance on PostgreSQL: GLANCE_PG_WORKERS single-threaded sync workers,
        # i.e. real parallelism on several cores (hashing, JSON, SQLAlchemy are
        # CPU-bound: threads would share one GIL), and each worker runs Glance
        # exactly as in the one-worker sqlite mode (no thread-safety questions).
        "--workers",
        str(svc.workers),
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


def wait_healthy(p: Paths, svc: Service, pid: int, deadline: float, timeout: float) -> None:
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
        f"{svc.name} not healthy at {svc.url}{svc.health_path} after {timeout:.0f}s\n"
        f"{procs.log_tail(svc.log(p))}"
    )
