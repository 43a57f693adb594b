"""What the benchmarks against a local Keystone + Glance share.

The cloud is tests.localcloud's (Glance on PostgreSQL with several gunicorn workers); it honours
GC_LOCAL_DIR, GC_KEYSTONE_PORT, GC_GLANCE_PORT and GC_PG_PORT, and a benchmark stops the servers
it started. Requests are counted from the servers' access logs (one line per request).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import http.server
import os
import random
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import openstack  # noqa: E402

from tests.localcloud import LocalCloud as LocalCloud  # noqa: E402  (re-exported)
from tests.localcloud import ensure_up, serve_sources, stop  # noqa: E402

CLOUD = "local"  # clouds.yaml entry: admin in project admin
MIB = 1024 * 1024
SETTLE_SECONDS = 0.3  # gunicorn writes an access log line just after the answer


@contextmanager
def local_cloud() -> Iterator[LocalCloud]:
    """Keystone + Glance (on PostgreSQL) up for the block; stopped after it if started here."""
    cloud = ensure_up(db="postgresql")
    os.environ["OS_CLIENT_CONFIG_FILE"] = str(cloud.clouds_yaml)
    os.environ.pop("OS_CLOUD", None)
    try:
        yield cloud
    finally:
        if cloud.started_here:
            stop()


def _stat(pid: int | str) -> list[str]:
    """Fields of /proc/PID/stat after the command name (fields[1] is the parent pid)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def glance_workers(cloud: LocalCloud) -> list[int]:
    """The pids of Glance's gunicorn workers (the children of its master)."""
    try:
        master = int((cloud.run_dir / "glance.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return []
    workers = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int(_stat(entry.name)[1]) == master:
                workers.append(int(entry.name))
        except OSError:
            continue
    return workers


def glance_cpu_seconds(cloud: LocalCloud) -> float:
    """User + system CPU time Glance's workers have used so far."""
    ticks = 0
    for pid in glance_workers(cloud):
        try:
            fields = _stat(pid)
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def describe(cloud: LocalCloud) -> None:
    """Print the database Glance runs on, its workers, and the machine's cores and load."""
    print(
        f"glance: {cloud.glance_url}, database {cloud.db}, "
        f"{len(glance_workers(cloud)) or '?'} gunicorn workers; "
        f"machine: {os.cpu_count()} cores, load average {load_average()}"
    )


def connect() -> Any:
    return connect_to(CLOUD)


def connect_to(cloud: str) -> Any:
    """An openstacksdk connection with the clouds.yaml entry ``cloud``."""
    return openstack.connect(cloud=cloud)


# Timing and running the command


@dataclass(frozen=True)
class CliRun:
    seconds: float
    code: int
    stdout: str
    stderr: str
    max_rss_kib: int | None = None  # with /usr/bin/time -v
    cpu_seconds: float | None = None  # user + system, with /usr/bin/time -v


def run_cli(*args: str, measure_rss: bool = False, check: bool = True) -> CliRun:
    """Run ``glance-catalog ARGS`` in a fresh process, timed (wall clock)."""
    command = [sys.executable, "-m", "reconciler", *args]
    if measure_rss:
        command = ["/usr/bin/time", "-v", *command]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    seconds = time.perf_counter() - started
    rss = cpu = None
    if measure_rss:
        found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
        rss = int(found.group(1)) if found else None
        times = re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", done.stderr)
        cpu = sum(float(value) for value in times) if times else None
    run = CliRun(seconds, done.returncode, done.stdout, done.stderr, rss, cpu)
    if check and done.returncode != 0:
        raise SystemExit(f"glance-catalog {' '.join(args)} exited {done.returncode}:\n{run.stderr}")
    return run


def best_median(times: Sequence[float]) -> str:
    return f"{min(times):.2f} s best, {statistics.median(times):.2f} s median of {len(times)}"


# Counting requests


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    status: int
    agent: str


LINE = re.compile(r'"(\w+) (\S+) HTTP/[\d.]+" (\d+) \S+ "[^"]*" "([^"]*)"')


class AccessLog:
    """The requests a gunicorn access log gained since ``mark()`` (health checks left out)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0

    def mark(self) -> None:
        self.offset = self.path.stat().st_size

    def since_mark(self) -> list[Request]:
        with self.path.open("rb") as handle:
            handle.seek(self.offset)
            text = handle.read().decode("utf-8", "replace")
        found = [Request(m[1], m[2], int(m[3]), m[4]) for m in LINE.finditer(text)]
        return [request for request in found if request.path != "/healthcheck"]


@dataclass
class Traffic:
    """Glance and Keystone requests made during a ``with counted(cloud)`` block. Keystone's are
    split: the client's own (auth, project look-ups) and Glance's token validations."""

    glance: list[Request] = field(default_factory=list)
    keystone_client: list[Request] = field(default_factory=list)
    keystone_validation: list[Request] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{len(self.glance)} Glance requests; Keystone: {len(self.keystone_client)} from the "
            f"client, {len(self.keystone_validation)} token validations by Glance"
        )

    def by_kind(self) -> str:
        """'GET /v2/images: 2, GET /v2/images/{id|name}/members: 100, ...'"""
        kinds: dict[str, int] = {}
        for request in self.glance:
            path = re.sub(r"^/v2/images/[^/?]+", "/v2/images/{id|name}", request.path.split("?")[0])
            path = re.sub(r"/members/[0-9a-f]{32}", "/members/{project}", path)
            key = f"{request.method} {path}"
            kinds[key] = kinds.get(key, 0) + 1
        return ", ".join(f"{key}: {count}" for key, count in sorted(kinds.items()))


@contextmanager
def counted(cloud: LocalCloud) -> Iterator[Traffic]:
    logs = cloud.run_dir / "logs"
    glance, keystone = (
        AccessLog(logs / "glance-access.log"),
        AccessLog(logs / "keystone-access.log"),
    )
    glance.mark()
    keystone.mark()
    traffic = Traffic()
    yield traffic
    time.sleep(SETTLE_SECONDS)
    traffic.glance = glance.since_mark()
    for request in keystone.since_mark():
        from_glance = "keystonemiddleware" in request.agent or "keystoneclient" in request.agent
        (traffic.keystone_validation if from_glance else traffic.keystone_client).append(request)


# Images


def _list(conn: Any, params: dict[str, str]) -> Iterator[dict[str, Any]]:
    url: str | None = "/images"
    query: dict[str, Any] | None = {**params, "limit": 1000}
    while url:
        response = conn.image.get(url, params=query)
        response.raise_for_status()
        body = response.json()
        yield from body["images"]
        url = body.get("next", "").removeprefix("/v2") or None
        query = None


def owned_images(conn: Any, tag: str | None = None) -> list[dict[str, Any]]:
    """The images the connection's project owns (hidden ones too), with ``tag`` if given."""
    params = {"owner": conn.current_project_id, **({"tag": tag} if tag else {})}
    return [
        image
        for hidden in ("false", "true")
        for image in _list(conn, {**params, "os_hidden": hidden})
        if image.get("owner") == conn.current_project_id
    ]


def delete_image(conn: Any, image_id: str) -> None:
    response = conn.image.delete(f"/images/{image_id}")
    if response.status_code not in (204, 404):
        raise SystemExit(f"deleting image {image_id}: HTTP {response.status_code} {response.text}")


def delete_catalog(conn: Any, catalog: str, workers: int = 4) -> int:
    """Delete every image of a glance-catalog catalog (by its marker tag); returns how many."""
    images = owned_images(conn, f"glance-catalog:{catalog}")
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(lambda image: delete_image(conn, image["id"]), images))
    return len(images)


# Sources


def write_source(path: Path, size: int, seed: int, block_size: int = MIB) -> str:
    """Write ``size`` bytes: one pseudo-random block repeated (not zeros, and never an MBR
    signature at bytes 510-511, which Glance's raw format check rejects); returns the sha256
    hex digest of the file."""
    block = bytearray(random.Random(seed).randbytes(block_size))
    if block[510:512] == b"\x55\xaa":
        block[511] = 0
    digest = hashlib.sha256()
    with path.open("wb") as handle:
        written = 0
        while written < size:
            piece = bytes(block[: size - written])
            handle.write(piece)
            digest.update(piece)
            written += len(piece)
    return digest.hexdigest()


class _SendfileHandler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder with sendfile(2): the server costs next to no CPU on a 2-core box."""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def copyfile(self, source: IO[bytes], outputfile: Any) -> None:  # type: ignore[override]
        # Preflight's probe asks for one byte (this server sends it all) and hangs up.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.connection.sendfile(source)


@contextmanager
def serve_folder(folder: Path) -> Iterator[str]:
    """Serve ``folder`` over http on 127.0.0.1 at a port Glance may also fetch from, with
    python's ThreadingHTTPServer in a thread of this process; yields the base URL."""
    handler = functools.partial(_SendfileHandler, directory=str(folder))
    with serve_sources(handler) as base_url:
        yield base_url
