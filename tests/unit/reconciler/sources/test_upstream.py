"""reconciler.sources.upstream: the newest upstream build of a tracked image becomes its
newest version, with the source its track describes. (Reading the index and checksum files
over HTTP: tests/functional/test_track.py.)"""

from __future__ import annotations

from pathlib import Path

from catalog.load import load_catalog
from catalog.manifest_edit import NewVersion
from catalog.model import Compression, TransferMethod
from reconciler.sources.upstream import UpstreamVersion, with_upstream

SUMS = "https://127.0.0.1/SUMS"
DIGEST = "ab" * 32


def tracked(tmp_path: Path, method: str = "upload") -> Path:
    path = tmp_path / "m.yaml"
    path.write_text(
        "version: 1\ncatalog: c\ndefaults: {disk_format: qcow2}\nimages:\n"
        "  - name: fedora\n"
        "    track:\n"
        f"      checksum_url: {SUMS}\n"
        "      file: 'F-{version}.qcow2.xz'\n"
        f"      method: {method}\n"
        "  - name: other\n"
        "    source: {file: m.yaml}\n"
    )
    return path


def upstream(label: str) -> UpstreamVersion:
    build = NewVersion(label, f"https://127.0.0.1/F-{label}.qcow2.xz", f"sha256:{DIGEST}", SUMS)
    return UpstreamVersion("fedora", build, SUMS, None)


def test_the_upstream_build_is_appended_as_the_images_newest_version(tmp_path: Path) -> None:
    catalog = load_catalog([tracked(tmp_path)])
    fedora, other = with_upstream(catalog, (upstream("41"),)).images
    (version,) = fedora.versions
    assert version.version == "41"
    assert version.source.url == "https://127.0.0.1/F-41.qcow2.xz"
    assert str(version.source.checksum) == f"sha256:{DIGEST}"
    assert version.source.checksum_url == SUMS
    assert version.source.compression is Compression.XZ
    assert other == catalog.images[1]


def test_a_web_download_build_is_not_decompressed_by_glance_catalog(tmp_path: Path) -> None:
    catalog = load_catalog([tracked(tmp_path, "web-download")])
    fedora = with_upstream(catalog, (upstream("41"),)).images[0]
    (version,) = fedora.versions
    assert version.source.method is TransferMethod.WEB_DOWNLOAD
    assert version.source.compression is Compression.NONE


def test_without_an_upstream_build_the_catalog_is_unchanged(tmp_path: Path) -> None:
    catalog = load_catalog([tracked(tmp_path)])
    assert with_upstream(catalog, ()) == catalog
