"""Benchmark: `plan` of an already converged 1,000-image catalog (issue target: at most 3 + 100
Glance requests, and at least 10x faster than a naive per-image openstacksdk loop).

Set-up: a generated catalog of 1,000 reserved images (no sources) of which 100 are shared with
three member projects (project-a, project-b, service), created once with
`apply --auto-approve --parallel 4` (timed too), then checked converged with
`plan --detailed-exitcode` (exit 0). Measured: the whole `glance-catalog plan` command (a fresh
process: interpreter start-up, auth, reading Glance, planning; best and median of --runs), and
the requests it sends, counted from the Glance and Keystone access logs. Baseline, in this
process and in the same run: openstacksdk's `conn.image.find_image(name)` for every image plus
`conn.image.members(image)` for every shared one (connection and auth included), timed and
counted the same way. The images are deleted at the end unless --keep.

    .venv/bin/python bench/noop_plan.py [--images 1000] [--shared 100] [--runs 5] [--keep]

Uses tests.localcloud's Keystone + Glance on PostgreSQL (4 workers); honours GC_LOCAL_DIR,
GC_KEYSTONE_PORT, GC_GLANCE_PORT, GC_PG_PORT, and stops the servers if it started them.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from common import (
    CLOUD,
    Traffic,
    best_median,
    connect,
    counted,
    delete_catalog,
    describe,
    load_average,
    local_cloud,
    owned_images,
    run_cli,
)

CATALOG = "bench-noop"
MEMBERS = ("project-a", "project-b", "service")


def image_name(index: int) -> str:
    return f"noop-{index:04d}"


def write_catalog(folder: Path, images: int, shared: int) -> tuple[Path, set[str]]:
    """The manifest, and the names of its shared images (spread evenly over the catalog)."""
    step = max(1, images // max(1, shared))
    shared_names: set[str] = set()
    lines = [
        "version: 1",
        f"catalog: {CATALOG}",
        "defaults: {disk_format: raw, container_format: bare}",
        "images:",
    ]
    for index in range(images):
        lines.append(f"  - name: {image_name(index)}")
        if index % step == 0 and index // step < shared:
            shared_names.add(image_name(index))
            lines.append("    visibility: shared")
            lines.append(f"    members: [{', '.join(MEMBERS)}]")
    path = folder / "catalog.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path, shared_names


def naive_loop(names: list[str], shared: set[str]) -> tuple[int, int]:
    """What a script without glance-catalog does: look every image up by name, and read the
    members of each shared one. Returns (images found, members seen)."""
    conn = connect()
    found = members = 0
    for name in names:
        image = conn.image.find_image(name)
        if image is None:
            continue
        found += 1
        if name in shared:
            members += len(list(conn.image.members(image)))
    conn.close()
    return found, members


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--shared", type=int, default=100, help="how many of them are shared")
    parser.add_argument("--runs", type=int, default=5, help="plan runs (best and median)")
    parser.add_argument("--naive-runs", type=int, default=1, help="runs of the naive loop")
    parser.add_argument("--parallel", type=int, default=4, help="apply --parallel N")
    parser.add_argument("--keep", action="store_true", help="keep the images at the end")
    args = parser.parse_args()

    with local_cloud() as cloud, tempfile.TemporaryDirectory() as tmp:
        describe(cloud)
        conn = connect()
        path, shared = write_catalog(Path(tmp), args.images, args.shared)
        names = [image_name(index) for index in range(args.images)]
        present = len(owned_images(conn, f"glance-catalog:{CATALOG}"))
        try:
            with counted(cloud) as applied:
                apply = run_cli(
                    "apply", str(path), "--cloud", CLOUD, "--auto-approve", "--quiet",
                    "--parallel", str(args.parallel),
                )  # fmt: skip
            check = run_cli("plan", str(path), "--cloud", CLOUD, "--detailed-exitcode", check=False)
            if check.code != 0:
                raise SystemExit(f"plan --detailed-exitcode exited {check.code}:\n{check.stdout}")
            others = len(owned_images(conn)) - args.images
            times: list[float] = []
            traffic: list[Traffic] = []
            for _ in range(args.runs):
                with counted(cloud) as seen:
                    times.append(run_cli("plan", str(path), "--cloud", CLOUD).seconds)
                traffic.append(seen)
            naive_times: list[float] = []
            naive_traffic: list[Traffic] = []
            for _ in range(args.naive_runs):
                with counted(cloud) as seen:
                    started = time.perf_counter()
                    found, members = naive_loop(names, shared)
                    naive_times.append(time.perf_counter() - started)
                naive_traffic.append(seen)
            if found != args.images or members != len(MEMBERS) * len(shared):
                raise SystemExit(f"naive loop found {found} images and {members} members")
        finally:
            if not args.keep:
                print(f"(deleted {delete_catalog(conn, CATALOG)} images)")
            conn.close()

    first, last = traffic[0], traffic[-1]
    target = 3 + len(shared)
    print(
        f"catalog: {args.images} images, {len(shared)} shared with {len(MEMBERS)} members; "
        f"project owns {others} other images; load average now {load_average()}"
    )
    print(
        f"apply --parallel {args.parallel} (from {present} present): {apply.seconds:.1f} s, "
        f"{applied.summary()}"
    )
    print("plan --detailed-exitcode: exit 0 (converged)")
    print(f"plan (whole command):   {best_median(times)}")
    print(f"  requests, one run:    {last.summary()}")
    print(f"  Glance requests:      {last.by_kind()}")
    if len(first.glance) != len(last.glance):
        print(f"  (the first run sent {len(first.glance)} Glance requests)")
    print(f"naive sdk loop:         {best_median(naive_times)}")
    print(f"  requests, one run:    {naive_traffic[-1].summary()}")
    print(f"  Glance requests:      {naive_traffic[-1].by_kind()}")
    count = len(last.glance)
    speedup = min(naive_times) / min(times)
    print(
        f"plan vs naive: {speedup:.1f}x faster (best vs best; target >= 10x: "
        f"{'met' if speedup >= 10 else 'NOT met'}), "
        f"{len(naive_traffic[-1].glance) / count:.1f}x fewer Glance requests "
        f"({count}, target <= {target}: {'met' if count <= target else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
