"""Benchmark: compressed url sources decompressed while they stream into Glance (issue 10 target:
the glance-catalog process's peak RSS for a 256 MiB image published as .xz, .gz, .bz2 or .zst
the same as for the plain upload of the same image, measured in the same run).

One image of --size MiB (default 256) is generated in a temporary folder: 4 KiB blocks, 30 %
random, 40 % zeros and 30 % taken from a pool of 16 random blocks, so that every format has
real work to do (not a stream of zeros) and generation takes a fraction of a second. It is
compressed once in each format (xz preset 6, gzip 6, bzip2 9, zstd 3: the command-line tools'
defaults; xz and bzip2 in worker processes), and every file is served over http on 127.0.0.1
by python's ThreadingHTTPServer in a thread of this process (sendfile(2)).

Each repetition (--runs, default 2) applies a one-image catalog once per kind, the plain image
first in the first run and last in the second: the whole `apply --auto-approve --quiet` command
under `/usr/bin/time -v` for its peak RSS and CPU time. After each apply the image must be
active with the decompressed size and Glance's os_hash_value must be the sha512 of the
decompressed bytes; the image is deleted at once.

    .venv/bin/python bench/compressed_upload.py [--size 256] [--runs 2]

Uses tests.localcloud's Keystone + Glance on PostgreSQL (4 workers); honours GC_LOCAL_DIR,
GC_KEYSTONE_PORT, GC_GLANCE_PORT, GC_PG_PORT, and stops the servers if it started them.
"""

from __future__ import annotations

import argparse
import bz2
import hashlib
import lzma
import random
import statistics
import sys
import tempfile
import zlib
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from common import (
    CLOUD,
    MIB,
    connect,
    delete_catalog,
    describe,
    load_average,
    local_cloud,
    owned_images,
    run_cli,
    serve_folder,
)

if sys.version_info >= (3, 14):
    from compression import zstd
else:
    from backports import zstd

CATALOG = "bench-compressed"
BLOCK = 4096
KINDS = ("plain", "xz", "gz", "bz2", "zst")


class Compressor(Protocol):
    def compress(self, data: bytes, /) -> bytes: ...
    def flush(self) -> bytes: ...


COMPRESSORS: dict[str, Callable[[], Compressor]] = {
    "xz": lambda: lzma.LZMACompressor(format=lzma.FORMAT_XZ, preset=6),
    "gz": lambda: zlib.compressobj(6, wbits=16 + zlib.MAX_WBITS),
    "bz2": lambda: bz2.BZ2Compressor(9),
    "zst": lambda: zstd.ZstdCompressor(
        options={zstd.CompressionParameter.compression_level: 3,
                 zstd.CompressionParameter.checksum_flag: 1}
    ),
}  # fmt: skip


def write_image(path: Path, size: int, seed: int) -> str:
    """Write the image (see the module's docstring); returns its sha512 hex digest."""
    rng = random.Random(seed)
    pool = [rng.randbytes(BLOCK) for _ in range(16)]
    zero = bytes(BLOCK)
    digest = hashlib.sha512()
    with path.open("wb") as handle:
        for index in range(size // BLOCK):
            draw = rng.random()
            block = rng.randbytes(BLOCK) if draw < 0.3 else zero if draw < 0.7 else rng.choice(pool)
            if index == 0:
                block = zero  # no MBR signature at bytes 510-511: Glance's raw check refuses it
            handle.write(block)
            digest.update(block)
    return digest.hexdigest()


def compress(kind: str, raw: Path) -> Path:
    """``raw`` compressed as ``kind``, streamed (1 MiB at a time) to ``raw`` + its suffix."""
    target = raw.with_name(f"{raw.name}.{kind}")
    compressor = COMPRESSORS[kind]()
    with raw.open("rb") as source, target.open("wb") as sink:
        while chunk := source.read(MIB):
            sink.write(compressor.compress(chunk))
        sink.write(compressor.flush())
    return target


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(MIB):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class Figures:
    seconds: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # the glance-catalog process's
    rss_mb: list[float] = field(default_factory=list)


def apply_once(conn: Any, folder: Path, url: str, sha256: str, size: int, sha512: str) -> Figures:
    """One `glance-catalog apply` of a one-image catalog, checked against Glance."""
    folder.mkdir()
    (folder / "catalog.yaml").write_text(
        f"version: 1\ncatalog: {CATALOG}\n"
        "defaults: {disk_format: raw, container_format: bare}\n"
        f"images:\n  - name: {folder.name}\n"
        f'    source: {{url: "{url}", checksum: "sha256:{sha256}"}}\n'
    )
    run = run_cli(
        "apply", str(folder), "--cloud", CLOUD, "--auto-approve", "--quiet", measure_rss=True
    )
    (image,) = owned_images(conn, f"glance-catalog:{CATALOG}")
    stored = conn.image.get(f"/images/{image['id']}").json()
    if (stored["status"], stored["size"], stored["os_hash_value"]) != ("active", size, sha512):
        raise SystemExit(f"{folder.name}: {stored['status']}, {stored['size']} bytes, hash wrong?")
    delete_catalog(conn, CATALOG)
    assert run.max_rss_kib is not None and run.cpu_seconds is not None, run.stderr
    return Figures([run.seconds], [run.cpu_seconds], [run.max_rss_kib * 1024 / 1e6])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=256, help="image size in MiB")
    parser.add_argument("--runs", type=int, default=2, help="applies of each kind")
    args = parser.parse_args()
    size = args.size * MIB

    with (
        local_cloud() as cloud,
        tempfile.TemporaryDirectory(prefix="bench-compressed-") as tmp,
        serve_folder(Path(tmp)) as base,
    ):
        describe(cloud)
        raw = Path(tmp) / "image.raw"
        sha512 = write_image(raw, size, seed=10)
        with ProcessPoolExecutor(max_workers=2) as pool:
            kinds = list(COMPRESSORS)
            files = dict(zip(kinds, pool.map(compress, kinds, [raw] * len(kinds)), strict=True))
        files = {"plain": raw, **files}
        print(f"image {args.size} MiB; published sizes: " + ", ".join(
            f"{kind} {files[kind].stat().st_size / MIB:.1f} MiB" for kind in KINDS
        ))  # fmt: skip
        checksums = {kind: sha256_of(path) for kind, path in files.items()}
        conn = connect()
        delete_catalog(conn, CATALOG)
        results = {kind: Figures() for kind in KINDS}
        try:
            for run in range(args.runs):
                order = KINDS if run % 2 == 0 else (*KINDS[1:], KINDS[0])
                for kind in order:
                    figures = apply_once(
                        conn,
                        Path(tmp) / f"compressed-{kind}-{run}",
                        f"{base}/{files[kind].name}",
                        checksums[kind],
                        size,
                        sha512,
                    )
                    for name, values in vars(figures).items():
                        getattr(results[kind], name).extend(values)
        finally:
            delete_catalog(conn, CATALOG)
            conn.close()
        print(f"load average now {load_average()}")

    plain = max(results["plain"].rss_mb)
    for kind in KINDS:
        figures = results[kind]
        rss = ", ".join(f"{value:.1f}" for value in figures.rss_mb)
        best = min(figures.seconds)
        print(
            f"  {kind:5}  peak RSS {rss} MB ({max(figures.rss_mb) / plain:.2f}x plain); "
            f"apply {best:.2f} s best ({args.size / best:.1f} MiB/s of image), "
            f"CPU {statistics.median(figures.cpu):.1f} s median"
        )
    worst = max(max(results[kind].rss_mb) for kind in KINDS)
    print(
        f"peak RSS: plain {plain:.1f} MB, compressed at most {worst:.1f} MB "
        f"({worst / plain:.2f}x plain)"
    )


if __name__ == "__main__":
    main()
