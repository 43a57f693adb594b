"""Further Glances behind the local Keystone, for tests that need other stores than the default
Glance's one ``fs``: a multi-store Glance (file stores ``fast`` and ``archive`` by default, the
first one Glance's default) or a Glance without multi-store backends at all.

Each one has its own port, config, sqlite database and store folders in ``run/<name>/``, and
its own clouds.yaml (``.local/<name>.clouds.yaml``): the clouds ``local``, ``local-a`` and
``local-b`` of the default clouds.yaml, reaching this Glance through ``image_endpoint_override``
(Keystone's catalog keeps naming the default Glance, which stays as it is)::

    glance = ensure_glance(("fast", "archive"))   # starts Keystone + the default Glance too
    ...                                            # OS_CLIENT_CONFIG_FILE=glance.clouds_yaml
    if glance.started_here:
        stop_glance(glance.name)

A running instance is reused when its config is the one asked for; otherwise it is stopped,
its folder wiped (its images' data lived in stores that may be gone) and started afresh.
``harness.stop`` (``make glance-down``) stops these too.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from . import configs, procs, provision
from .harness import ALLOWED_IMPORT_PORTS, _smoke_test, ensure_up
from .install import Paths, _port, glance_db_sync, glance_port, log, paths
from .procs import LocalCloudError
from .services import Service, extra_glance, gunicorn_argv, server_env, services, wait_healthy

MULTI_STORE = ("fast", "archive")
MULTI_STORE_NAME = "glance-stores"
SINGLE_STORE_NAME = "glance-single"
START_TIMEOUT = float(os.environ.get("GC_START_TIMEOUT", "90"))


def multi_store_port() -> int:
    """``GC_GLANCE_STORES_PORT``, else the default Glance's port + 1."""
    return _port("GC_GLANCE_STORES_PORT", glance_port() + 1)


def single_store_port() -> int:
    """``GC_GLANCE_SINGLE_PORT``, else the default Glance's port + 2."""
    return _port("GC_GLANCE_SINGLE_PORT", glance_port() + 2)


def env_stores(text: str | None = None) -> tuple[str, ...]:
    """The stores ``GC_GLANCE_STORES`` (or ``text``) lists, comma-separated; default
    MULTI_STORE."""
    raw = os.environ.get("GC_GLANCE_STORES", "") if text is None else text
    stores = tuple(part.strip() for part in raw.split(",") if part.strip())
    if len(set(stores)) != len(stores):
        raise LocalCloudError(f"GC_GLANCE_STORES={raw!r} names a store twice")
    return stores or MULTI_STORE


@dataclass(frozen=True)
class ExtraGlance:
    """A running further Glance. ``stores`` is () for the one without multi-store backends;
    ``store_dirs`` maps each store to the folder its file store writes to."""

    name: str
    url: str
    clouds_yaml: Path
    stores: tuple[str, ...]
    store_dirs: dict[str, Path]
    started_here: bool


def _service(name: str, port: int | None) -> Service:
    if port is None:
        port = single_store_port() if name == SINGLE_STORE_NAME else multi_store_port()
    return extra_glance(paths(), name, port)


def _configs(
    p: Paths, ks: Service, gl: Service, stores: tuple[str, ...], allowed_ports: list[int]
) -> dict[Path, str]:
    folder = p.run / gl.name
    return {
        folder / "glance-api.conf": configs.glance_api_conf(
            run=p.run,
            db=folder / "glance.sqlite",
            glance_url=gl.url,
            keystone_url=ks.url,
            service_password=provision.GLANCE_SERVICE_PASSWORD,
            allowed_ports=allowed_ports,
            name=gl.name,
            stores=stores,
        ),
        folder / "glance-api-paste.ini": configs.glance_paste_ini(run=p.run, name=gl.name),
    }


def _digest(files: dict[Path, str]) -> str:
    text = "\0".join(f"{path}\0{body}" for path, body in sorted(files.items()))
    return hashlib.sha256(text.encode()).hexdigest()


def _state(folder: Path) -> dict[str, object]:
    try:
        state = json.loads((folder / "instance.json").read_text())
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def ensure_glance(
    stores: tuple[str, ...] = MULTI_STORE,
    *,
    name: str | None = None,
    port: int | None = None,
    db: str | None = None,
) -> ExtraGlance:
    """Start (or reuse) the further Glance ``name`` with these file ``stores`` (() for no
    multi-store backends) on ``port``; names and ports default to MULTI_STORE_NAME on
    multi_store_port() for stores and SINGLE_STORE_NAME on single_store_port() for ().
    ``db`` is the default Glance's database (see harness.ensure_up), which is started too."""
    name = name or (MULTI_STORE_NAME if stores else SINGLE_STORE_NAME)
    if not name.startswith("glance-"):
        raise LocalCloudError(f"a further Glance's name starts with 'glance-', not {name!r}")
    ensure_up(db=db)  # Keystone (and the default Glance, whose wsgi folder this one shares)
    p = paths()
    port_var = "GC_GLANCE_STORES_PORT" if stores else "GC_GLANCE_SINGLE_PORT"
    with procs.file_lock(p.lock):
        return start_glance(p, _service(name, port), stores, port_var=port_var)


def start_glance(
    p: Paths,
    gl: Service,
    stores: tuple[str, ...],
    *,
    port_var: str,
    allowed_ports: list[int] | None = None,
    clouds_yaml: Path | None = None,
) -> ExtraGlance:
    """Start (or reuse) the further Glance ``gl`` with file ``stores``, holding ``p.lock``;
    Keystone runs. ``port_var`` names the variable that sets its port (for the error when it
    is taken); ``allowed_ports`` are the ports it may import from (default
    ALLOWED_IMPORT_PORTS). Without ``clouds_yaml`` it gets its own, whose clouds reach it
    through image_endpoint_override; else that file's clouds reach it (Keystone's catalog
    lists it)."""
    ks, _ = services(p)
    folder = p.run / gl.name
    files = _configs(p, ks, gl, stores, allowed_ports or ALLOWED_IMPORT_PORTS)
    digest = _digest(files)
    state = _state(folder)
    if clouds_yaml is None:
        clouds_yaml = p.local / f"{gl.name}.clouds.yaml"
        clouds_yaml.write_text(
            configs.clouds_yaml(keystone_url=ks.url, clouds=provision.CLOUDS, image_endpoint=gl.url)
        )
    dirs = configs.store_dirs(folder, stores)
    running = gl.running(p) is not None
    if running and state.get("digest") == digest and gl.healthy():
        return ExtraGlance(gl.name, gl.url, clouds_yaml, stores, dirs, started_here=False)
    procs.stop_group(gl.pidfile(p))
    if state.get("digest") != digest:
        shutil.rmtree(folder, ignore_errors=True)
        state = {}
    if procs.port_in_use(gl.port):
        raise LocalCloudError(
            f"port {gl.port} for {gl.name} is in use by another process; stop it or set {port_var}"
        )
    t0 = time.monotonic()
    work = [folder / sub for sub in ("staging", "tasks", "locks", "image-cache")]
    for sub in (*work, *dirs.values()):
        sub.mkdir(parents=True, exist_ok=True)
    for path, body in files.items():
        path.write_text(body)
    env = server_env(p, gl.extra_env)
    if not state.get("db_synced"):
        glance_db_sync(p, env, gl.name)
        state = {"digest": digest, "db_synced": True}
        (folder / "instance.json").write_text(json.dumps(state, indent=2, sort_keys=True))
    what = f"{', '.join(stores)} stores" if stores else "no multi-store backends"
    log(f"starting {gl.name} ({what}) on {gl.url}")
    pid = procs.spawn(
        gunicorn_argv(p, gl), env=env, cwd=p.run, log=gl.log(p), pidfile=gl.pidfile(p)
    )
    try:
        wait_healthy(p, gl, pid, time.monotonic() + START_TIMEOUT, START_TIMEOUT)
        _smoke_test(ks, gl)
    except BaseException as exc:
        procs.stop_group(gl.pidfile(p))
        if isinstance(exc, OSError):
            raise LocalCloudError(
                f"{gl.name} rejects an admin token request: {exc}\n{procs.log_tail(gl.log(p))}"
            ) from exc
        raise
    log(f"{gl.name} up in {time.monotonic() - t0:.1f}s")
    return ExtraGlance(gl.name, gl.url, clouds_yaml, stores, dirs, started_here=True)


def stop_glance(name: str = MULTI_STORE_NAME) -> bool:
    """Stop the further Glance ``name`` if it runs (its files stay for the next start)."""
    p = paths()
    with procs.file_lock(p.lock):
        stopped = procs.stop_group(p.run / f"{name}.pid")
    if stopped:
        log(f"stopped {name}")
    return stopped
