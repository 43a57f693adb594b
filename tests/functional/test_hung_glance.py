"""A Glance that accepts connections and never answers, or that goes away: the run fails in
bounded time with one line naming the server and the wait, never a hang or a urllib3 dump."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.functional.support import GlanceProbe, run_cli, write_manifest
from tests.localcloud import LocalCloud

pytestmark = pytest.mark.glance


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    server.close()


def clouds_with_glance_at(local_cloud: LocalCloud, folder: Path, glance: str) -> Path:
    clouds = yaml.safe_load(local_cloud.clouds_yaml.read_text())["clouds"]
    clouds["odd"] = {**clouds["local"], "image_endpoint_override": glance}
    path = folder / "clouds.yaml"
    path.write_text(yaml.safe_dump({"clouds": clouds}))
    return path


def test_a_glance_that_never_answers_fails_the_run_in_bounded_time(
    tmp_path: Path, probe: GlanceProbe, catalog_name: str, local_cloud: LocalCloud, silent_port: int
) -> None:
    clouds = clouds_with_glance_at(local_cloud, tmp_path, f"http://127.0.0.1:{silent_port}")
    manifest = write_manifest(
        tmp_path,
        f"version: 1\ncatalog: {catalog_name}\nimages:\n  - {{name: x, disk_format: raw}}\n",
    )
    started = time.monotonic()
    result = run_cli(
        "plan",
        str(manifest),
        "--cloud",
        "odd",
        "--timeout",
        "2",
        env={"OS_CLIENT_CONFIG_FILE": str(clouds)},
    )
    elapsed = time.monotonic() - started
    assert result.code == 1, result.output
    assert elapsed < 20, elapsed
    (line,) = result.stderr.strip().splitlines()
    assert f"Glance at http://127.0.0.1:{silent_port}/v2 stopped answering" in line, line
    assert "no answer within 2 s" in line
    assert "Traceback" not in result.output and "Max retries" not in result.output


def test_a_glance_that_is_not_there_is_one_line_naming_it(
    tmp_path: Path, probe: GlanceProbe, catalog_name: str, local_cloud: LocalCloud
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    clouds = clouds_with_glance_at(local_cloud, tmp_path, f"http://127.0.0.1:{port}")
    manifest = write_manifest(
        tmp_path,
        f"version: 1\ncatalog: {catalog_name}\nimages:\n  - {{name: x, disk_format: raw}}\n",
    )
    result = run_cli(
        "drift", str(manifest), "--cloud", "odd", env={"OS_CLIENT_CONFIG_FILE": str(clouds)}
    )
    assert result.code == 1, result.output
    (line,) = result.stderr.strip().splitlines()
    assert f"Glance at http://127.0.0.1:{port}/v2" in line and "connection refused" in line, line
    assert "NewConnectionError" not in result.output
