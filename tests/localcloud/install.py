"""Service venv install, on-disk layout and one-time db init for the local cloud."""

from __future__ import annotations

import getpass
import grp
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from . import configs, procs, provision, releases
from .procs import LocalCloudError
from .releases import Release

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]


def log(msg: str) -> None:
    print(f"[localcloud] {msg}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Paths:
    """Where the files of one release's local cloud live: ``local`` is shared by all
    releases, and each file in it carries the release's suffix (none for the newest)."""

    local: Path
    release: Release = releases.NEWEST

    @property
    def venv(self) -> Path:
        return self.local / f"service-venv{self.release.suffix}"

    @property
    def bin(self) -> Path:
        return self.venv / "bin"

    @property
    def run(self) -> Path:
        return self.local / f"run{self.release.suffix}"

    @property
    def logs(self) -> Path:
        return self.run / "logs"

    @property
    def state(self) -> Path:
        return self.run / "state.json"

    @property
    def clouds_yaml(self) -> Path:
        return self.local / f"clouds{self.release.suffix}.yaml"

    @property
    def lock(self) -> Path:
        return self.local / f".localcloud{self.release.suffix}.lock"


def paths(release: Release | None = None) -> Paths:
    """The files of ``release`` (default: the one ``$GLANCE_RELEASE`` selects)."""
    local = os.environ.get("GC_LOCAL_DIR") or str(REPO_ROOT / ".local")
    return Paths(Path(local).resolve(), release or releases.selected())


def _port(var: str, default: int) -> int:
    raw = os.environ.get(var, "").strip()
    try:
        return int(raw) if raw else default
    except ValueError:
        raise LocalCloudError(f"{var}={raw!r} is not a port number") from None


def keystone_port() -> int:
    """``GC_KEYSTONE_PORT``, else 15000 + the selected release's port offset."""
    return _port("GC_KEYSTONE_PORT", 15000 + releases.selected().port_offset)


def glance_port() -> int:
    """``GC_GLANCE_PORT``, else 19292 + the selected release's port offset."""
    return _port("GC_GLANCE_PORT", 19292 + releases.selected().port_offset)


def region_two_port() -> int:
    """``GC_GLANCE_R2_PORT``, else the default Glance's port + 3 (+1 and +2 are the further
    Glances of multistore.py)."""
    return _port("GC_GLANCE_R2_PORT", glance_port() + 3)


# --------------------------------------------------------------------- install


def _install_hash(release: Release) -> str:
    h = hashlib.sha256(release.constraints.read_bytes())
    h.update("\n".join(release.requirements).encode())
    return h.hexdigest()


def _venv_ok(p: Paths) -> bool:
    py = p.bin / "python"
    # the venv's python is a symlink to the interpreter that created it
    return py.exists() and Path(os.path.realpath(py)).exists()


def ensure_service_venv() -> bool:
    """Create/update the service venv; returns True if pip ran."""
    p = paths()
    marker = p.venv / ".gc-installed"
    want = _install_hash(p.release)
    tools = ("gunicorn", "keystone-manage", "glance-manage")
    if (
        _venv_ok(p)
        and marker.exists()
        and marker.read_text().strip() == want
        and all((p.bin / t).exists() for t in tools)
    ):
        return False
    p.local.mkdir(parents=True, exist_ok=True)
    if p.venv.exists() and not _venv_ok(p):
        shutil.rmtree(p.venv)
    t0 = time.monotonic()
    if not p.venv.exists():
        log(f"creating service venv {p.venv}")
        subprocess.run([sys.executable, "-m", "venv", str(p.venv)], check=True)
    log(
        f"installing glance {p.release.glance} + keystone {p.release.keystone} + gunicorn"
        f" ({p.release.name}) into the service venv (one-time, ~1 min)"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["VIRTUAL_ENV"] = str(p.venv)
    pip_log = p.local / f"service-venv{p.release.suffix}-install.log"
    cmd = [
        str(p.bin / "python"),
        "-m",
        "pip",
        "install",
        "--no-input",
        "-c",
        str(p.release.constraints),
        *p.release.requirements,
    ]
    with open(pip_log, "wb") as out:
        rc = subprocess.run(cmd, env=env, stdout=out, stderr=subprocess.STDOUT).returncode
    if rc != 0:
        raise LocalCloudError(
            f"pip install failed (exit {rc}): {' '.join(cmd)}\n{procs.log_tail(pip_log)}"
        )
    marker.write_text(want + "\n")
    (p.venv / ".gc-gunicorn-flags.json").unlink(missing_ok=True)
    log(f"service venv ready in {time.monotonic() - t0:.1f}s")
    return True


def gunicorn_has(option: str) -> bool:
    """Whether the installed gunicorn knows ``option`` (cached per install)."""
    p = paths()
    cache = p.venv / ".gc-gunicorn-flags.json"
    try:
        flags = json.loads(cache.read_text())
    except (OSError, ValueError):
        out = subprocess.run([str(p.bin / "gunicorn"), "--help"], capture_output=True, text=True)
        flags = {o: o in out.stdout for o in ("--control-socket", "--no-control-socket")}
        cache.write_text(json.dumps(flags))
    return bool(flags.get(option))


def _run_checked(cmd: list[str], env: dict[str, str], log: Path, what: str) -> None:
    with open(log, "ab") as out:
        out.write(f"\n$ {' '.join(cmd)}\n".encode())
        out.flush()
        rc = subprocess.run(
            cmd, env=env, cwd=log.parent, stdout=out, stderr=subprocess.STDOUT
        ).returncode
    if rc != 0:
        raise LocalCloudError(f"{what} failed (exit {rc})\n{procs.log_tail(log)}")


def keystone_init(p: Paths, ks_url: str, env: dict[str, str]) -> None:
    conf = str(p.run / "keystone" / "keystone.conf")
    user, group = getpass.getuser(), grp.getgrgid(os.getgid()).gr_name
    owner = ["--keystone-user", user, "--keystone-group", group]
    commands = [
        ["db_sync"],
        ["fernet_setup", *owner],
        ["credential_setup", *owner],
        [
            "bootstrap",
            "--bootstrap-username",
            provision.ADMIN_USER,
            "--bootstrap-password",
            provision.ADMIN_PASSWORD,
            "--bootstrap-project-name",
            provision.ADMIN_PROJECT,
            "--bootstrap-role-name",
            "admin",
            "--bootstrap-region-id",
            configs.REGION,
            "--bootstrap-public-url",
            f"{ks_url}/v3",
            "--bootstrap-internal-url",
            f"{ks_url}/v3",
            "--bootstrap-admin-url",
            f"{ks_url}/v3",
        ],
    ]
    init_log = p.logs / "keystone-init.log"
    script = str(HERE / "keystone_init.py")
    try:  # one interpreter for all four commands: ~3 s instead of ~10 s
        _run_checked(
            [str(p.bin / "python"), "-I", script, conf, json.dumps(commands)],
            env,
            init_log,
            "keystone init",
        )
    except LocalCloudError:
        log("single-process keystone init failed; retrying with keystone-manage")
        for args in commands:
            _run_checked(
                [str(p.bin / "keystone-manage"), "--config-file", conf, *args],
                env,
                init_log,
                f"keystone-manage {args[0]}",
            )


def glance_db_sync(p: Paths, env: dict[str, str], name: str = "glance") -> None:
    """Create the database of the Glance whose files are in ``run/<name>``."""
    conf = str(p.run / name / "glance-api.conf")
    _run_checked(
        [str(p.bin / "glance-manage"), "--config-file", conf, "db_sync"],
        env,
        p.logs / f"{name}-db-sync.log",
        "glance-manage db_sync",
    )
