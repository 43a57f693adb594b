"""Benchmark: `apply` of 100 new 4 MiB images with --parallel 1 and with --parallel 4 (the issue
asks for the speed-up of concurrent uploads).

The sources are generated in a temporary folder (each image its own bytes: a pseudo-random
block per image, repeated; not zeros, no MBR signature) and given to the catalog as `file`
sources (default) or as `url` sources served over http on 127.0.0.1 by python's
ThreadingHTTPServer in a thread of this process (--source url). Each run is the whole
`apply --auto-approve --quiet --parallel N` command on a fresh set: every run uses its own
catalog and image names, and its images are deleted right after it. With --runs above 1 the
order of the two settings alternates. Glance requests are counted from its access log.

    .venv/bin/python bench/parallel_apply.py [--images 100] [--size-mib 4] [--runs 1]

Uses tests.localcloud's Keystone + Glance on PostgreSQL (4 workers); honours GC_LOCAL_DIR,
GC_KEYSTONE_PORT, GC_GLANCE_PORT, GC_PG_PORT, and stops the servers if it started them.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
from pathlib import Path

from common import (
    CLOUD,
    MIB,
    LocalCloud,
    connect,
    counted,
    delete_catalog,
    describe,
    glance_cpu_seconds,
    load_average,
    local_cloud,
    owned_images,
    run_cli,
    serve_folder,
    write_source,
)

SETTINGS = (1, 4)


def write_sources(folder: Path, images: int, size: int) -> list[tuple[str, str]]:
    """(file name, sha256 hex) of each generated source."""
    sources = []
    for index in range(images):
        name = f"disk-{index:03d}.raw"
        sha256 = write_source(folder / name, size, seed=index, block_size=min(size, MIB))
        sources.append((name, sha256))
    return sources


def write_catalog(
    folder: Path, catalog: str, sources: list[tuple[str, str]], source_dir: Path, base: str
) -> Path:
    lines = [
        "version: 1",
        f"catalog: {catalog}",
        "defaults: {disk_format: raw, container_format: bare}",
        "images:",
    ]
    for index, (file_name, sha256) in enumerate(sources):
        where = f'url: "{base}/{file_name}"' if base else f'file: "{source_dir / file_name}"'
        lines.append(f"  - name: {catalog}-{index:03d}")
        lines.append(f'    source: {{{where}, checksum: "sha256:{sha256}"}}')
    folder.mkdir()
    path = folder / "catalog.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def one_run(
    cloud: LocalCloud, tmp: Path, sources: list[tuple[str, str]], base: str, parallel: int, run: int
) -> tuple[float, float, int]:
    """Apply a fresh catalog with --parallel N: (seconds, Glance CPU seconds, Glance requests)."""
    catalog = f"bench-par{parallel}-r{run}"
    path = write_catalog(tmp / catalog, catalog, sources, tmp / "sources", base)
    conn = connect()
    try:
        glance_cpu = glance_cpu_seconds(cloud)
        with counted(cloud) as traffic:
            seconds = run_cli(
                "apply", str(path), "--cloud", CLOUD, "--auto-approve", "--quiet",
                "--parallel", str(parallel),
            ).seconds  # fmt: skip
        glance_cpu = glance_cpu_seconds(cloud) - glance_cpu
        active = [
            i for i in owned_images(conn, f"glance-catalog:{catalog}") if i["status"] == "active"
        ]
        if len(active) != len(sources):
            raise SystemExit(f"{catalog}: {len(active)} of {len(sources)} images active")
    finally:
        delete_catalog(conn, catalog)
        conn.close()
    return seconds, glance_cpu, len(traffic.glance)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=100)
    parser.add_argument("--size-mib", type=float, default=4.0, help="size of each image")
    parser.add_argument("--runs", type=int, default=1, help="runs of each setting")
    parser.add_argument("--source", choices=("file", "url"), default="file")
    args = parser.parse_args()
    size = int(args.size_mib * MIB)

    times: dict[int, list[float]] = {parallel: [] for parallel in SETTINGS}
    cpu: dict[int, list[float]] = {parallel: [] for parallel in SETTINGS}
    requests: dict[int, int] = {}
    with (
        local_cloud() as cloud,
        tempfile.TemporaryDirectory(prefix="bench-parallel-") as tmp_name,
    ):
        tmp = Path(tmp_name)
        describe(cloud)
        (tmp / "sources").mkdir()
        sources = write_sources(tmp / "sources", args.images, size)
        with contextlib.ExitStack() as stack:
            base = ""
            if args.source == "url":
                base = stack.enter_context(serve_folder(tmp / "sources"))
            for run in range(args.runs):
                order = SETTINGS if run % 2 == 0 else tuple(reversed(SETTINGS))
                for parallel in order:
                    seconds, glance_cpu, count = one_run(cloud, tmp, sources, base, parallel, run)
                    times[parallel].append(seconds)
                    cpu[parallel].append(glance_cpu)
                    requests[parallel] = count

    total_mib = args.images * size / MIB
    where = f"url sources served from {base}" if base else "file sources"
    print(
        f"catalog: {args.images} new images of {args.size_mib:g} MiB ({total_mib:.0f} MiB), "
        f"{where}; load average now {load_average()}"
    )
    for parallel in SETTINGS:
        runs = times[parallel]
        listed = ", ".join(f"{t:.1f}" for t in runs)
        print(
            f"apply --parallel {parallel}: {min(runs):6.1f} s best ({listed} s), "
            f"{total_mib / min(runs):5.1f} MiB/s, {args.images / min(runs):4.1f} images/s; "
            f"{requests[parallel]} Glance requests, "
            f"Glance CPU {statistics.median(cpu[parallel]):.1f} s"
        )
    speedup = min(times[1]) / min(times[4])
    print(f"speed-up of --parallel 4 over --parallel 1: {speedup:.2f}x (best vs best)")


if __name__ == "__main__":
    main()
