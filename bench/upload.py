"""Benchmark: stream a url source into Glance (issue targets: `apply` at least 0.9x the
throughput of a raw `curl URL | curl -T - PUT .../file` pipe on a 1 GiB source, and the
glance-catalog process's peak RSS at most 120 MB and the same for 256 MiB and 1 GiB sources).

For each size (--sizes, MiB) a source file is generated in a temporary folder (a 1 MiB
pseudo-random block repeated: not zeros, no MBR signature) and served over http on 127.0.0.1 by
python's ThreadingHTTPServer in a thread of this process (sendfile(2)); the same server serves
both contenders. Each repetition (--runs) uploads it once each way, alternating which goes first:

- curl pipe: POST /v2/images reserves an image (not timed), then `curl URL | curl -T - PUT
  /v2/images/{id}/file` with the connection's token is timed; the image must then be active
  with the right size;
- glance-catalog: the whole `apply --auto-approve --quiet` command on a one-image catalog (start-
  up, auth, plan, reserve, streamed upload with checksum check, verification), under
  `/usr/bin/time -v` for its peak RSS. A `plan` of the same manifest just before it gives the
  fixed cost (start-up, auth, reading Glance) to show the transfer alone as well.

Throughput is size / wall time, best of the runs. Images and sources are deleted as it goes.

    .venv/bin/python bench/upload.py [--sizes 256,1024] [--runs 2]

Uses tests.localcloud's Keystone + Glance on PostgreSQL (4 workers); honours GC_LOCAL_DIR,
GC_KEYSTONE_PORT, GC_GLANCE_PORT, GC_PG_PORT, and stops the servers if it started them.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import (
    CLOUD,
    MIB,
    LocalCloud,
    connect,
    delete_catalog,
    delete_image,
    describe,
    glance_cpu_seconds,
    load_average,
    local_cloud,
    owned_images,
    run_cli,
    serve_folder,
    write_source,
)

CATALOG = "bench-upload"
RSS_TARGET_MB = 120.0


@dataclass
class Figures:
    curl: list[float] = field(default_factory=list)  # wall seconds
    curl_glance_cpu: list[float] = field(default_factory=list)  # Glance workers' CPU seconds
    apply: list[float] = field(default_factory=list)
    apply_glance_cpu: list[float] = field(default_factory=list)
    apply_cpu: list[float] = field(default_factory=list)  # the glance-catalog process's
    fixed: list[float] = field(default_factory=list)  # plan of the same manifest
    rss_mb: list[float] = field(default_factory=list)

    def add(self, other: Figures) -> None:
        for name, values in vars(other).items():
            getattr(self, name).extend(values)


def check_active(conn: Any, image_id: str, size: int) -> None:
    image = conn.image.get(f"/images/{image_id}").json()
    if image["status"] != "active" or image["size"] != size:
        raise SystemExit(f"image {image_id}: {image['status']}, {image['size']} bytes")


def curl_pipe(conn: Any, cloud: LocalCloud, url: str, size: int, name: str) -> Figures:
    """Reserve an image, then time `curl URL | curl -T - PUT .../file`."""
    body = {"name": name, "disk_format": "raw", "container_format": "bare"}
    image_id = conn.image.post("/images", json={**body, "visibility": "private"}).json()["id"]
    put = [
        "curl", "-sS", "--fail", "-o", "/dev/null", "-w", "%{http_code}", "-T", "-",
        "-H", f"X-Auth-Token: {conn.auth_token}", "-H", "Content-Type: application/octet-stream",
        f"{cloud.glance_url}/v2/images/{image_id}/file",
    ]  # fmt: skip
    glance_cpu = glance_cpu_seconds(cloud)
    started = time.perf_counter()
    source = subprocess.Popen(["curl", "-sS", "--fail", url], stdout=subprocess.PIPE)
    sink = subprocess.run(put, stdin=source.stdout, capture_output=True, text=True)
    assert source.stdout is not None
    source.stdout.close()
    source.wait()
    seconds = time.perf_counter() - started
    glance_cpu = glance_cpu_seconds(cloud) - glance_cpu
    if source.returncode or sink.returncode or sink.stdout != "204":
        raise SystemExit(f"curl pipe failed: {source.returncode} {sink.stdout} {sink.stderr}")
    check_active(conn, image_id, size)
    delete_image(conn, image_id)
    return Figures(curl=[seconds], curl_glance_cpu=[glance_cpu])


def apply_once(
    conn: Any, cloud: LocalCloud, folder: Path, url: str, sha256: str, size: int, name: str
) -> Figures:
    """One `glance-catalog apply` of a one-image catalog: wall time, RSS, and fixed cost."""
    folder.mkdir()
    (folder / "catalog.yaml").write_text(
        f"version: 1\ncatalog: {CATALOG}\n"
        "defaults: {disk_format: raw, container_format: bare}\n"
        f"images:\n  - name: {name}\n"
        f'    source: {{url: "{url}", checksum: "sha256:{sha256}"}}\n'
    )
    fixed = run_cli("plan", str(folder), "--cloud", CLOUD).seconds
    glance_cpu = glance_cpu_seconds(cloud)
    run = run_cli(
        "apply", str(folder), "--cloud", CLOUD, "--auto-approve", "--quiet", measure_rss=True
    )
    glance_cpu = glance_cpu_seconds(cloud) - glance_cpu
    (image,) = owned_images(conn, f"glance-catalog:{CATALOG}")
    check_active(conn, image["id"], size)
    delete_catalog(conn, CATALOG)
    assert run.max_rss_kib is not None and run.cpu_seconds is not None, run.stderr
    return Figures(
        apply=[run.seconds],
        apply_glance_cpu=[glance_cpu],
        apply_cpu=[run.cpu_seconds],
        fixed=[fixed],
        rss_mb=[run.max_rss_kib * 1024 / 1e6],
    )


def measure(
    conn: Any, cloud: LocalCloud, tmp: Path, base: str, size_mib: int, runs: int
) -> Figures:
    """Both contenders ``runs`` times on one generated source, alternating which goes first."""
    source = tmp / f"source-{size_mib}.raw"
    sha256 = write_source(source, size_mib * MIB, seed=size_mib)
    url = f"{base}/{source.name}"
    figures = Figures()
    for run in range(runs):
        for contender in ("curl", "apply") if run % 2 == 0 else ("apply", "curl"):
            name = f"upload-{size_mib}-{run}-{contender}"
            if contender == "curl":
                figures.add(curl_pipe(conn, cloud, url, size_mib * MIB, name))
            else:
                figures.add(apply_once(conn, cloud, tmp / name, url, sha256, size_mib * MIB, name))
    source.unlink()
    return figures


def rate(size_mib: int, seconds: float) -> str:
    return f"{size_mib / seconds:6.1f} MiB/s"


def report(size_mib: int, figures: Figures) -> None:
    curl, apply = min(figures.curl), min(figures.apply)
    fixed = statistics.median(figures.fixed)
    ratio = curl / apply
    times = ", ".join(f"{t:.2f}" for t in figures.curl)
    print(f"  curl | curl -T - PUT:        {rate(size_mib, curl)} best ({times} s)")
    times = ", ".join(f"{t:.2f}" for t in figures.apply)
    print(
        f"  glance-catalog apply:        {rate(size_mib, apply)} best ({times} s): "
        f"{ratio:.2f}x curl"
    )
    print(
        f"    less its fixed cost ({fixed:.2f} s, a plan of the same manifest): "
        f"{rate(size_mib, apply - fixed)}, {curl / (apply - fixed):.2f}x curl"
    )
    rss = ", ".join(f"{value:.1f}" for value in figures.rss_mb)
    print(f"  peak RSS of apply:           {rss} MB")
    print(
        f"  CPU seconds, median: Glance workers {statistics.median(figures.curl_glance_cpu):.1f} "
        f"(curl pipe) vs {statistics.median(figures.apply_glance_cpu):.1f} (apply); "
        f"the glance-catalog process {statistics.median(figures.apply_cpu):.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="256,1024", help="source sizes in MiB, comma-separated")
    parser.add_argument("--runs", type=int, default=2, help="uploads each way per size")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]

    results: dict[int, Figures] = {}
    with (
        local_cloud() as cloud,
        tempfile.TemporaryDirectory(prefix="bench-upload-") as tmp,
        serve_folder(Path(tmp)) as base,
    ):
        describe(cloud)
        print(f"sources served by ThreadingHTTPServer (a thread of this process) at {base}")
        conn = connect()
        delete_catalog(conn, CATALOG)
        try:
            for size_mib in sizes:
                results[size_mib] = measure(conn, cloud, Path(tmp), base, size_mib, args.runs)
                print(f"source {size_mib} MiB (load average now {load_average()}):")
                report(size_mib, results[size_mib])
        finally:
            delete_catalog(conn, CATALOG)
            conn.close()

    largest = results[max(sizes)]
    ratio = min(largest.curl) / min(largest.apply)
    print(
        f"throughput, {max(sizes)} MiB: apply {ratio:.2f}x curl pipe (target >= 0.9x: "
        f"{'met' if ratio >= 0.9 else 'NOT met'})"
    )
    peaks = {size: max(figures.rss_mb) for size, figures in results.items()}
    spread = max(peaks.values()) - min(peaks.values())
    print(
        "peak RSS: "
        + ", ".join(f"{size} MiB {peak:.1f} MB" for size, peak in peaks.items())
        + f" (target <= {RSS_TARGET_MB:.0f} MB: "
        + ("met" if max(peaks.values()) <= RSS_TARGET_MB else "NOT met")
        + f"; spread {spread:.1f} MB across sizes)"
    )


if __name__ == "__main__":
    main()
