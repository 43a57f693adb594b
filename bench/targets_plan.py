"""Benchmark: a no-op `plan` over two targets against the same plan over one of them (issue
target: two targets take less than 1.3x the time of one).

Set-up: a generated catalog of --images reserved images (no sources) with two targets, by
default the clouds local-a and local-b (two projects of the local Glance; with
--clouds local,local-r2 two regions, each its own Glance, when the harness runs two regions),
the second target overriding min_ram for every image. It is applied once over both targets
(`apply --auto-approve --quiet`) and checked converged (`plan --detailed-exitcode`, exit 0).
Measured: the whole `glance-catalog plan` command (a fresh process: start-up, authentication,
reading Glance, planning), best and median of --runs, for `--target first` (the baseline, in
the same run) and for both targets. The images are deleted at the end unless --keep.

    .venv/bin/python bench/targets_plan.py [--images 500] [--runs 5] [--clouds A,B] [--keep]

Uses tests.localcloud's Keystone + Glance on PostgreSQL (4 workers), as the other benchmarks;
stops the servers if it started them.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from common import best_median, connect_to, delete_catalog, describe, load_average, local_cloud
from common import run_cli as run

from tests.localcloud.multistore import stop_glance
from tests.localcloud.regions import REGION_TWO_CLOUD, ensure_region_two

CATALOG = "bench-targets"


def write_catalog(folder: Path, images: int, clouds: list[str]) -> Path:
    lines = [
        "version: 1",
        f"catalog: {CATALOG}",
        "defaults: {disk_format: raw, container_format: bare}",
        "targets:",
        f"  - {{name: first, cloud: {clouds[0]}}}",
        f"  - {{name: second, cloud: {clouds[1]}, overrides: {{min_ram: 256}}}}",
        "images:",
    ]
    lines += [f"  - {{name: target-{index:04d}, min_disk: 1}}" for index in range(images)]
    path = folder / "catalog.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=500, help="images per target")
    parser.add_argument("--runs", type=int, default=5, help="plan runs (best and median)")
    parser.add_argument("--clouds", default="local-a,local-b", help="the two targets' clouds")
    parser.add_argument("--keep", action="store_true", help="keep the images at the end")
    args = parser.parse_args()
    clouds = args.clouds.split(",")
    if len(clouds) != 2:
        raise SystemExit("--clouds takes two clouds.yaml entries, comma-separated")

    with local_cloud() as cloud, tempfile.TemporaryDirectory() as tmp:
        describe(cloud)
        region_two = ensure_region_two() if REGION_TWO_CLOUD in clouds else None
        path = write_catalog(Path(tmp), args.images, clouds)
        try:
            applied = run("apply", str(path), "--auto-approve", "--quiet")
            check = run("plan", str(path), "--detailed-exitcode", check=False)
            if check.code != 0:
                raise SystemExit(f"plan --detailed-exitcode exited {check.code}:\n{check.stdout}")
            one: list[float] = []
            both: list[float] = []
            for _ in range(args.runs):
                one.append(run("plan", str(path), "--target", "first").seconds)
                both.append(run("plan", str(path)).seconds)
        finally:
            if not args.keep:
                for name in clouds:
                    connection = connect_to(name)
                    print(f"(deleted {delete_catalog(connection, CATALOG)} images in {name})")
                    connection.close()
            if region_two is not None and region_two.started_here:
                stop_glance(region_two.name)

    ratio = min(both) / min(one)
    print(f"catalog: {args.images} images per target; load average now {load_average()}")
    print(f"apply over both targets: {applied.seconds:.1f} s")
    print("plan --detailed-exitcode: exit 0 (converged)")
    print(f"plan, one target ({clouds[0]}): {best_median(one)}")
    print(f"plan, two targets ({', '.join(clouds)}): {best_median(both)}")
    print(
        f"two targets vs one: {ratio:.2f}x (best vs best; target < 1.3x: "
        f"{'met' if ratio < 1.3 else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
