"""What functional tests share: running the real CLI, serving sources, and reading Glance."""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openstack

from tests.localcloud import serve_sources

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class CliResult:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_cli(*args: str, env: dict[str, str] | None = None, stdin: str = "") -> CliResult:
    """Run ``glance-catalog ARGS`` the way a user would, in a fresh process."""
    full_env = {key: value for key, value in os.environ.items() if key != "OS_CLOUD"}
    full_env.update(env or {})
    process = subprocess.run(
        [sys.executable, "-m", "reconciler", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=full_env,
        cwd=REPO,
        timeout=300,
    )
    return CliResult(process.returncode, process.stdout, process.stderr)


def step_line(output: str, image: str, kind: str) -> str:
    """The line apply printed for ``image``'s ``kind`` step: it names the image once, at its
    start (``image: kind id: outcome (detail, seconds)``)."""
    result = re.compile(rf"{re.escape(image)}: {kind}( \S+)?: (done|failed|skipped) \(")
    (line,) = [line for line in output.splitlines() if result.match(line)]
    assert f"image '{image}'" not in line, line
    return line


def run_on_terminal(
    args: list[str], answer: str = "", env: dict[str, str] | None = None
) -> tuple[int, str]:
    """Run the CLI with a pseudo-terminal as stdin, stdout and stderr, typing ``answer`` at
    the prompt; ``env`` is added to the environment."""
    main, child = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", *args],
        stdin=child,
        stdout=child,
        stderr=child,
        cwd=REPO,
        env={**os.environ, **(env or {})},
    )
    os.close(child)
    output = b""
    answered = False
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([main], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(main, 4096)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
            if not answered and b"Only 'yes' is accepted" in output:
                os.write(main, answer.encode() + b"\n")
                answered = True
        elif process.poll() is not None:
            break
    os.close(main)
    return process.wait(timeout=30), output.decode(errors="replace")


def write_manifest(folder: Path, text: str, name: str = "catalog.yaml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def raw_catalog(folder: Path, catalog: str, images: dict[str, str]) -> Path:
    """A manifest of raw images ``<catalog>-<name>``, each with the rest of its YAML flow
    mapping as given (e.g. ``", source: {file: d.raw}"``)."""
    lines = [f"version: 1\ncatalog: {catalog}\ndefaults: {{disk_format: raw}}\nimages:"]
    lines += [f"  - {{name: {catalog}-{name}{fields}}}" for name, fields in images.items()]
    return write_manifest(folder, "\n".join(lines) + "\n")


def apply_local(manifest: Path, *extra: str) -> tuple[int, str]:
    """Exit code and output of ``apply MANIFEST --cloud local --auto-approve EXTRA``."""
    result = run_cli("apply", str(manifest), "--cloud", "local", "--auto-approve", *extra)
    return result.code, result.output


def assert_converged(
    manifest: Path, *, clouds_yaml: Path | None = None, says_no_changes: bool = False
) -> None:
    """A second plan against cloud ``local`` has nothing to do (exit 0 with
    --detailed-exitcode). ``clouds_yaml``: that cloud as another Glance's clouds.yaml defines
    it (default: the environment's); ``says_no_changes``: its output also says so."""
    env = None if clouds_yaml is None else {"OS_CLIENT_CONFIG_FILE": str(clouds_yaml)}
    replan = run_cli("plan", str(manifest), "--cloud", "local", "--detailed-exitcode", env=env)
    assert replan.code == 0, replan.output
    if says_no_changes:
        assert "No changes." in replan.output, replan.output


def kill_apply_when(
    manifest: Path, killed_at: Callable[[str], bool], *extra: str, delay: float = 0.0
) -> str:
    """Run ``apply MANIFEST --cloud local --auto-approve EXTRA`` and kill -9 it ``delay``
    seconds after it prints a line ``killed_at`` accepts; its output up to then. Asserts that
    the kill, not the end of the run, stopped it."""
    command = ["apply", str(manifest), "--cloud", "local", "--auto-approve", *extra]
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    seen = []
    for line in process.stdout:
        seen.append(line)
        if killed_at(line):
            time.sleep(delay)
            process.send_signal(signal.SIGKILL)
            break
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, "".join(seen)
    return "".join(seen)


def sha256_of(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def make_disk(path: Path, size: int, seed: int) -> Path:
    """A raw disk of ``size`` deterministic bytes (Glance accepts any bytes as raw)."""
    block = hashlib.sha512(str(seed).encode()).digest()
    path.write_bytes((block * (size // len(block) + 1))[:size])
    return path


FAULTS = (
    "fail-once",
    "short",
    "short-once",
    "reset",
    "slow",
    "held",
    "vanishing",
    "hang",
    "to-file",
)
# How long a ``held`` read waits for its release file at most (a test that forgot it).
HELD_SECONDS = 60.0


class _SourceHandler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder, with faults on request: ``/<fault>/<file>`` where fault is

    - ``fail-once``: HTTP 503 on the first request for the file, then the file;
    - ``short``: the full Content-Length, then only half the bytes, then the connection closes;
    - ``short-once``: ``short`` on the first request, then the file;
    - ``reset``: the connection closes before any answer;
    - ``slow``: the file in 256 KiB pieces, 50 ms apart;
    - ``held``: the headers and 64 KiB of the file, then the rest once a file named
      ``<file>.release`` is in the folder (the test says when; at most HELD_SECONDS);
    - ``vanishing``: there for a ranged GET (preflight's probe), HTTP 404 for a whole read;
    - ``hang``: the headers and 64 KiB of the file, then nothing for 20 s, then the connection
      closes (a server that stalls);
    - ``to-file``: a redirect to ``file:///etc/passwd`` (a scheme no source may lead to).

    A ranged GET (preflight's probe) gets 206 with the first byte whatever the fault (but
    ``reset``) and never counts as a first request: the ``-once`` faults hit the first read.
    """

    requests_seen: dict[str, int]

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _first_byte(self, name: str) -> None:
        """A ranged GET answered as servers do: 206 with the bytes asked for (one here)."""
        path = Path(self.directory) / name
        if not path.is_file():
            self.send_error(404, "not found")
            return
        size = path.stat().st_size
        self.send_response(206)
        self.send_header("Content-Range", f"bytes 0-0/{size}")
        self.send_header("Content-Length", "1")
        self.end_headers()
        with path.open("rb") as handle:
            self.wfile.write(handle.read(1))

    def do_GET(self) -> None:
        # A query (a signed URL's) names no file, as on a real static server.
        fault, _, rest = self.path.split("?")[0].lstrip("/").partition("/")
        if fault not in FAULTS:
            fault, rest = "", self.path.split("?")[0].lstrip("/")
        if fault == "reset":
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if fault == "to-file":
            self.send_response(302)
            self.send_header("Location", "file:///etc/passwd")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if "Range" in self.headers:
            self._first_byte(rest)
            return
        if fault == "":
            super().do_GET()
            return
        if fault == "vanishing":
            self.send_error(404, "gone")
            return
        seen = self.requests_seen[self.path] = self.requests_seen.get(self.path, 0) + 1
        first = seen == 1
        body = (Path(self.directory) / rest).read_bytes()
        if fault == "fail-once" and first:
            self.send_error(503, "try again")
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if fault == "short" or (fault == "short-once" and first):
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        if fault == "hang":
            self.wfile.write(body[: 64 * 1024])
            self.wfile.flush()
            time.sleep(20)
            self.close_connection = True
            return
        if fault == "held":
            self.wfile.write(body[: 64 * 1024])
            self.wfile.flush()
            release = Path(self.directory) / f"{rest}.release"
            deadline = time.monotonic() + HELD_SECONDS
            while not release.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            self.wfile.write(body[64 * 1024 :])
            return
        if fault == "slow":
            for offset in range(0, len(body), 256 * 1024):
                self.wfile.write(body[offset : offset + 256 * 1024])
                self.wfile.flush()
                time.sleep(0.05)
            return
        self.wfile.write(body)


@contextmanager
def serve_folder(folder: Path) -> Iterator[str]:
    """Serve ``folder`` over http on 127.0.0.1 at a port Glance may web-download from (with the
    faults _SourceHandler describes)."""
    # A subclass per server: its fault counters are its own.
    counting = type("CountingHandler", (_SourceHandler,), {"requests_seen": {}})
    handler = functools.partial(counting, directory=str(folder))

    with serve_sources(handler) as base_url:
        yield base_url


@contextmanager
def served_disk(tmp_path: Path, size: int, seed: int) -> Iterator[tuple[Path, str]]:
    """A folder ``served`` under ``tmp_path`` holding ``disk.raw`` (``size`` bytes made from
    ``seed``), served as serve_folder serves: the folder and its base URL."""
    folder = tmp_path / "served"
    folder.mkdir()
    make_disk(folder / "disk.raw", size, seed)
    with serve_folder(folder) as base_url:
        yield folder, base_url


class GlanceProbe:
    """Direct access to the test Glance, for making changes by hand and checking results."""

    def __init__(self, cloud: str = "local", clouds_yaml: Path | None = None) -> None:
        """``clouds_yaml``: the clouds file to read (default: OS_CLIENT_CONFIG_FILE's)."""
        if clouds_yaml is None:
            self.connection = openstack.connect(cloud=cloud)
        else:
            # Not load_envvars: OS_CLIENT_CONFIG_FILE would come before config_files.
            config = openstack.config.OpenStackConfig(
                config_files=[str(clouds_yaml)], load_envvars=False
            )
            self.connection = openstack.connection.Connection(config=config.get_one(cloud))
        self.project_id: str = self.connection.current_project_id

    def _call(self, method: str, url: str, **kwargs: Any) -> Any:
        response = self.connection.image.request(url, method, **kwargs)
        assert response.status_code < 400, (method, url, response.status_code, response.text)
        return response.json() if response.content else None

    def named(self, name: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for hidden in ("false", "true"):
            body = self._call(
                "GET", "/images", params={"name": name, "os_hidden": hidden, "limit": 1000}
            )
            found += body["images"]
        return found

    def only(self, name: str) -> dict[str, Any]:
        (image,) = self.named(name)
        return image

    def show(self, image_id: str) -> dict[str, Any]:
        body: dict[str, Any] = self._call("GET", f"/images/{image_id}")
        return body

    def create(self, **body: Any) -> dict[str, Any]:
        created: dict[str, Any] = self._call("POST", "/images", json=body)
        return created

    def patch(self, image_id: str, operations: list[dict[str, Any]]) -> None:
        self._call(
            "PATCH",
            f"/images/{image_id}",
            data=json.dumps(operations),
            headers={"Content-Type": "application/openstack-images-v2.1-json-patch"},
        )

    def action(self, image_id: str, name: str) -> None:
        self._call("POST", f"/images/{image_id}/actions/{name}")

    def upload(self, image_id: str, data: bytes) -> None:
        self._call(
            "PUT",
            f"/images/{image_id}/file",
            data=data,
            headers={"Content-Type": "application/octet-stream"},
        )

    def import_web_download(self, image_id: str, url: str) -> None:
        self._call(
            "POST",
            f"/images/{image_id}/import",
            json={"method": {"name": "web-download", "uri": url}},
        )

    def delete(self, image_id: str) -> None:
        image = self.show(image_id)
        if image["protected"]:
            self.patch(image_id, [{"op": "replace", "path": "/protected", "value": False}])
        self._call("DELETE", f"/images/{image_id}")

    def delete_named(self, *names: str) -> None:
        for name in names:
            for image in self.named(name):
                self.delete(image["id"])

    def tagged(self, tag: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for hidden in ("false", "true"):
            body = self._call(
                "GET", "/images", params={"tag": tag, "os_hidden": hidden, "limit": 1000}
            )
            found += body["images"]
        return found

    def delete_tagged(self, tag: str) -> None:
        for image in self.tagged(tag):
            self.delete(image["id"])

    def members(self, image_id: str) -> dict[str, str]:
        body = self._call("GET", f"/images/{image_id}/members")
        return {member["member_id"]: member["status"] for member in body["members"]}

    def add_member(self, image_id: str, member: str) -> None:
        self._call("POST", f"/images/{image_id}/members", json={"member": member})

    def remove_member(self, image_id: str, member: str) -> None:
        self._call("DELETE", f"/images/{image_id}/members/{member}")

    def set_member_status(self, image_id: str, member: str, status: str) -> None:
        """Accept or reject a membership: only as the member project (this probe's)."""
        self._call("PUT", f"/images/{image_id}/members/{member}", json={"status": status})

    def visible_ids(self) -> set[str]:
        """Ids of the images this cloud's project sees in its default listing."""
        body = self._call("GET", "/images", params={"limit": 1000})
        return {image["id"] for image in body["images"]}
