"""Benchmark: validate a generated 5,000-image catalog (issue target: under 2 s on 2 cores).

Prints the wall time of the whole `glance-catalog validate` command and of the loader alone,
with ratios against two baselines measured in the same run on the same files: PyYAML's
safe_load (pure Python, what most YAML-reading tools pay before checking anything) and PyYAML's
load with libyaml's CSafeLoader (the fastest plain load PyYAML offers, with no checks at all).

    .venv/bin/python bench/validate_large.py [--images 5000] [--files 10]

With several files the per-file work (parse, schema, per-file checks) runs on all cores; run it
with --files 1 to see a single-file catalog, which uses one.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from catalog.load import load_catalog  # noqa: E402

SHA = "sha256:" + "a" * 64


def image_yaml(index: int) -> str:
    distro = ["ubuntu", "debian", "rocky", "almalinux", "fedora"][index % 5]
    return f"""  - name: {distro}-{index:05d}
    source:
      url: https://mirror.example/{distro}/{index}.qcow2
      checksum: {SHA}
    visibility: {"public" if index % 3 else "private"}
    min_disk: {10 + index % 5}
    min_ram: {512 * (1 + index % 4)}
    tags: [gitops, {distro}]
    properties:
      os_distro: {distro}
      os_version: "{index % 30}"
      hw_disk_bus: scsi
      hw_scsi_model: virtio-scsi
      hw_rng_model: virtio
      architecture: x86_64
"""


def write_catalog(folder: Path, images: int, files: int) -> list[Path]:
    paths = []
    per_file = -(-images // files)
    for number in range(files):
        lines = ["version: 1", "catalog: bench"]
        if number == 0:
            lines += ["defaults:", "  disk_format: qcow2"]
        lines.append("images:")
        body = "".join(
            image_yaml(i) for i in range(number * per_file, min(images, (number + 1) * per_file))
        )
        path = folder / f"part-{number:02d}.yaml"
        path.write_text("\n".join(lines) + "\n" + body)
        paths.append(path)
    return paths


def best_of(runs: int, action: object) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--files", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        paths = write_catalog(folder, args.images, args.files)
        size = sum(p.stat().st_size for p in paths)
        baseline = best_of(args.runs, lambda: [yaml.safe_load(p.read_text()) for p in paths])
        fastest = best_of(
            args.runs, lambda: [yaml.load(p.read_text(), Loader=yaml.CSafeLoader) for p in paths]
        )
        loader = best_of(args.runs, lambda: load_catalog([folder]))
        command = [sys.executable, "-m", "reconciler", "validate", str(folder)]
        cli_times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            result = subprocess.run(command, capture_output=True, text=True)
            cli_times.append(time.perf_counter() - started)
            assert result.returncode == 0, result.stderr
        print(f"catalog: {args.images} images in {args.files} files, {size / 1e6:.1f} MB")
        print(f"baseline yaml.safe_load:           {baseline:.3f} s")
        print(f"baseline yaml.load(CSafeLoader):   {fastest:.3f} s")
        print(
            f"catalog.load_catalog (in process): {loader:.3f} s  "
            f"({loader / baseline:.2f}x safe_load, {loader / fastest:.2f}x CSafeLoader load)"
        )
        print(
            f"glance-catalog validate (command): {min(cli_times):.3f} s best, "
            f"{statistics.median(cli_times):.3f} s median  (target < 2 s)"
        )


if __name__ == "__main__":
    main()
