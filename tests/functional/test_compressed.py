"""Compressed sources against the real local Glance: xz, gz, bz2 and zst decompressed while they
stream in, checked against the published checksum, stored and hashed decompressed; wrong,
corrupt and truncated sources fail their image cleanly; a compressed web-download is refused."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import lzma
import random
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from reconciler.core.observed import SOURCE_PROPERTY
from tests.faultproxy import FaultProxy
from tests.functional.support import (
    GlanceProbe,
    apply_local,
    assert_converged,
    raw_catalog,
    run_cli,
    serve_folder,
    sha256_of,
    step_line,
)
from tests.localcloud import LocalCloud

if sys.version_info >= (3, 14):
    from compression import zstd
else:
    from backports import zstd

pytestmark = pytest.mark.glance

COMPRESSORS: dict[str, Callable[[bytes], bytes]] = {
    "xz": lambda data: lzma.compress(data, format=lzma.FORMAT_XZ),
    "gz": lambda data: gzip.compress(data, mtime=0),
    "bz2": bz2.compress,
    "zst": lambda data: zstd.compress(data, options={zstd.CompressionParameter.checksum_flag: 1}),
}


def disk_bytes(size: int, seed: int) -> bytes:
    """Random 4 KiB blocks and runs of one repeated block: compressible like a real disk."""
    rng = random.Random(seed)
    repeated = rng.randbytes(4096)
    blocks = [rng.randbytes(4096) if index % 4 == 0 else repeated for index in range(size // 4096)]
    data = bytearray(b"".join(blocks) + rng.randbytes(size % 4096))
    data[510:512] = b"\0\0"  # no MBR signature: Glance's raw inspector would take it for one
    return bytes(data)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str, bytes]]:
    """A folder served over http with disk.raw.<kind> for each kind (and the disk as raw)."""
    folder = tmp_path / "served"
    folder.mkdir()
    disk = disk_bytes(3 * 1024 * 1024 + 5, 11)
    (folder / "disk.raw").write_bytes(disk)
    for kind, compress in COMPRESSORS.items():
        (folder / f"disk.raw.{kind}").write_bytes(compress(disk))
    with serve_folder(folder) as base_url:
        yield folder, base_url, disk


def url_source(base: str, folder: Path, name: str, extra: str = "") -> str:
    return f'{{url: "{base}/{name}", checksum: "{sha256_of(folder / name.split("/")[-1])}"{extra}}}'


def test_each_kind_is_stored_decompressed_with_glances_hash_and_a_second_plan_is_empty(
    tmp_path: Path, probe: GlanceProbe, catalog_name: str, served: tuple[Path, str, bytes]
) -> None:
    folder, base, disk = served
    images = {
        kind: f", source: {url_source(base, folder, f'disk.raw.{kind}')}" for kind in COMPRESSORS
    }
    (tmp_path / "local.raw.xz").write_bytes((folder / "disk.raw.xz").read_bytes())
    images["file"] = (
        f', source: {{file: local.raw.xz, checksum: "{sha256_of(folder / "disk.raw.xz")}"}}'
    )
    # A transient fault half-way through: tried again from byte 0, decompressed anew.
    images["cut"] = f", source: {url_source(base, folder, 'short-once/disk.raw.gz')}"
    manifest = raw_catalog(tmp_path, catalog_name, images)

    planned = run_cli("plan", str(manifest), "--cloud", "local")
    assert planned.code == 0, planned.output
    assert (
        f"data will be uploaded from {base}/disk.raw.xz ({sha256_of(folder / 'disk.raw.xz')}; "
        "xz, decompressed while uploading)"
    ) in planned.output

    code, output = apply_local(manifest, "--parallel", "2")
    assert code == 0, output
    assert f"{catalog_name}-cut: upload started again from byte 0" in output
    sha512 = hashlib.sha512(disk).hexdigest()
    for name in images:
        image = probe.only(f"{catalog_name}-{name}")
        assert image["status"] == "active", (name, image["status"])
        assert image["os_hash_algo"] == "sha512" and image["os_hash_value"] == sha512, name
        assert image["size"] == len(disk), name
    # What is recorded is the checksum the manifest gives: of the bytes as published.
    gz = probe.only(f"{catalog_name}-gz")
    assert gz[SOURCE_PROPERTY] == sha256_of(folder / "disk.raw.gz")
    assert_converged(manifest)


def test_uploads_whose_answers_are_lost_are_verified_from_glance_against_the_decompressed_hash(
    tmp_path: Path,
    probe: GlanceProbe,
    catalog_name: str,
    local_cloud: LocalCloud,
    served: tuple[Path, str, bytes],
) -> None:
    folder, base, disk = served
    kinds = ("xz", "zst")
    manifest = raw_catalog(
        tmp_path,
        catalog_name,
        {kind: f", source: {url_source(base, folder, f'disk.raw.{kind}')}" for kind in kinds},
    )
    clouds = yaml.safe_load(local_cloud.clouds_yaml.read_text())
    # Every upload reaches Glance and its answer is lost: the next try reads the image back.
    with FaultProxy(
        local_cloud.glance_url, seed=1, rate={"upload": 1.0}, faults=("reset_after",)
    ) as proxy:
        lossy = {**clouds["clouds"]["local"], "image_endpoint_override": proxy.url}
        clouds_yaml = tmp_path / "clouds.yaml"
        clouds_yaml.write_text(yaml.safe_dump({"clouds": {"lossy": lossy}}))
        result = run_cli(
            "apply",
            str(manifest),
            "--cloud",
            "lossy",
            "--auto-approve",
            env={"OS_CLIENT_CONFIG_FILE": str(clouds_yaml)},
        )
    assert result.code == 0, result.output
    assert proxy.fault_counts()["reset_after"] == len(kinds), proxy.summary()
    for kind in kinds:
        image = probe.only(f"{catalog_name}-{kind}")
        assert image["status"] == "active" and image["size"] == len(disk), kind
        assert image["os_hash_value"] == hashlib.sha512(disk).hexdigest(), kind
        assert image[SOURCE_PROPERTY] == sha256_of(folder / f"disk.raw.{kind}"), kind
    assert_converged(manifest)


def test_a_wrong_published_checksum_fails_and_leaves_no_verified_image(
    tmp_path: Path, probe: GlanceProbe, catalog_name: str, served: tuple[Path, str, bytes]
) -> None:
    folder, base, _ = served
    # A common slip: the checksum of the decompressed image instead of the published file's.
    wrong = sha256_of(folder / "disk.raw")
    manifest = raw_catalog(
        tmp_path,
        catalog_name,
        {"wrong": f', source: {{url: "{base}/disk.raw.zst", checksum: "{wrong}"}}'},
    )
    code, output = apply_local(manifest)
    assert code == 1, output
    assert (
        f"failed (checksum mismatch for {base}/disk.raw.zst: expected {wrong}, got sha256:"
    ) in step_line(output, f"{catalog_name}-wrong", "upload")
    assert "Traceback" not in output
    image = probe.only(f"{catalog_name}-wrong")
    assert image["status"] == "queued" and SOURCE_PROPERTY not in image


@pytest.mark.parametrize(
    ("kind", "spoil", "reason"),
    [
        ("xz", "flip", "corrupt data in the xz stream after "),
        ("gz", "cut", "the data ends before the end of the gz stream (truncated after "),
        ("bz2", "plain", "it is not bz2 data (it does not begin as bz2 data does); if the source "
         "is not compressed, set source.decompress: none"),
    ],
)  # fmt: skip
def test_a_corrupt_truncated_or_foreign_stream_fails_in_one_line_and_activates_nothing(
    tmp_path: Path,
    probe: GlanceProbe,
    catalog_name: str,
    served: tuple[Path, str, bytes],
    kind: str,
    spoil: str,
    reason: str,
) -> None:
    folder, base, disk = served
    published = bytearray((folder / f"disk.raw.{kind}").read_bytes())
    if spoil == "flip":
        middle = len(published) // 2
        published[middle : middle + 256] = bytes(256)
    elif spoil == "cut":
        del published[-100:]
    else:
        published = bytearray(disk)
    name = f"spoilt.raw.{kind}"
    (folder / name).write_bytes(published)  # published so, with its own checksum
    manifest = raw_catalog(
        tmp_path, catalog_name, {"bad": f", source: {url_source(base, folder, name)}"}
    )
    code, output = apply_local(manifest)
    assert code == 1, output
    line = step_line(output, f"{catalog_name}-bad", "upload")
    assert f"failed (cannot decompress {base}/{name} as {kind}: {reason}" in line
    assert "; the upload was aborted before its last bytes, so Glance did not activate" in line
    assert "Traceback" not in output
    image = probe.only(f"{catalog_name}-bad")
    assert image["status"] == "queued" and SOURCE_PROPERTY not in image


def test_a_compressed_web_download_is_refused_before_glance_is_asked(
    tmp_path: Path, probe: GlanceProbe, catalog_name: str, served: tuple[Path, str, bytes]
) -> None:
    folder, base, _ = served
    manifest = raw_catalog(
        tmp_path,
        catalog_name,
        {"web": f", source: {url_source(base, folder, 'disk.raw.xz', ', method: web-download')}"},
    )
    code, output = apply_local(manifest)
    assert code == 1, output
    assert (
        f"{manifest}:5:" in output
        and f"image '{catalog_name}-web': source.method: web-download of a compressed source "
        "(xz): Glance would store the compressed bytes (hint: use method: upload"
        in output
    ), output
    assert probe.named(f"{catalog_name}-web") == []
