"""catalog.load on versioned images: the model built, and every misuse at file:line:column."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from catalog.load import check_catalog, load_catalog
from catalog.model import RetireAction, RetirePolicy, SupersededAction

SHA = "sha256:" + "ab" * 32
VERSIONS = (
    "versions:\n"
    "  - version: '20240601'\n"
    f"    source: {{url: 'https://127.0.0.1/a.img', checksum: '{SHA}'}}\n"
    "  - version: '20240701'\n"
    f"    source: {{url: 'https://127.0.0.1/b.img', checksum: '{SHA}'}}\n"
)


def manifest(folder: Path, image: str, defaults: str = "") -> Path:
    path = folder / "m.yaml"
    path.write_text(
        "version: 1\ncatalog: c\n"
        f"defaults:\n  disk_format: raw\n{textwrap.indent(defaults, '  ')}"
        "images:\n  - name: ubuntu\n" + textwrap.indent(image.strip(), "    ") + "\n"
    )
    return path


def errors(path: Path) -> list[str]:
    result = check_catalog([path])
    assert result.catalog is None
    return [d.as_text() for d in result.diagnostics]


def test_versions_build_with_the_retire_policy_merged_over_the_defaults(tmp_path: Path) -> None:
    path = manifest(
        tmp_path,
        "retire: {keep: 2}\nversion_name: '{name}-{version}'\n" + VERSIONS,
        defaults="retire: {superseded: hide, beyond_keep: delete}\n",
    )
    (image,) = load_catalog([path]).images
    assert [v.version for v in image.versions] == ["20240601", "20240701"]
    assert image.source is None
    assert image.retire == RetirePolicy(2, SupersededAction.HIDE, RetireAction.DELETE)
    assert image.current_version is not None and image.current_version.version == "20240701"
    assert image.versioned_name("20240601") == "ubuntu-20240601"
    assert str(image.versions[1].position) == f"{path}:13:9"


def test_current_pins_a_listed_version(tmp_path: Path) -> None:
    (image,) = load_catalog([manifest(tmp_path, "current: '20240601'\n" + VERSIONS)]).images
    assert image.current_version is not None and image.current_version.version == "20240601"


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        (
            "current: '2023'\n" + VERSIONS,
            "m.yaml:7:14: image 'ubuntu': current: current names version '2023', which is "
            "not listed (hint: choose one of: 20240601, 20240701)",
        ),
        (
            f"source: {{url: 'https://127.0.0.1/a.img', checksum: '{SHA}'}}\n" + VERSIONS,
            "m.yaml:7:5: image 'ubuntu': source: source cannot be combined with versions",
        ),
        (
            "id: 6d3f5d5a-3b0e-4a8e-9a55-8c4c8e0c0a11\n" + VERSIONS,
            "image 'ubuntu': id: id cannot be combined with versions",
        ),
        ("retire: {keep: 2}", "retire: retire is only for an image with versions"),
        ("current: x", "current: current is only for an image with versions"),
        ("retire: {keep: 0}\n" + VERSIONS, "retire.keep: must be at least 1"),
        ("retire: {beyond_keep: purge}\n" + VERSIONS, "retire.beyond_keep: 'purge'"),
        ("version_name: '{name}'\n" + VERSIONS, "version_name: '{name}'"),
        (
            "version_name: '{name}-{build}-{version}'\n" + VERSIONS,
            "version_name has unknown placeholder {build} (hint: only {name} and {version}",
        ),
        (
            VERSIONS.replace("20240701", "20240601"),
            "m.yaml:10:18: image 'ubuntu': versions[1].version: version '20240601' is listed "
            "twice (first at",
        ),
        (
            VERSIONS.replace("checksum: 'sha256:" + "ab" * 32 + "'", "checksum: 'sha1:00'", 1),
            "versions[0].source.checksum: algorithm 'sha1' is not accepted",
        ),
        (
            VERSIONS.replace("'20240701'", "'" + "9" * 65 + "'"),
            "versions[1].version: '" + "9" * 65 + "'",
        ),
        ("versions: []", "versions: must list at least 1 entry"),
    ],
)
def test_versioned_image_rules(tmp_path: Path, image: str, expected: str) -> None:
    found = errors(manifest(tmp_path, image))
    assert any(expected in line for line in found), found


def test_a_versioned_name_longer_than_glance_allows_is_refused(tmp_path: Path) -> None:
    path = manifest(tmp_path, "version_name: '{name} " + "x" * 240 + " {version}'\n" + VERSIONS)
    found = errors(path)
    assert any(
        "versions[0].version: the name of version '20240601' would be 256 characters" in line
        for line in found
    ), found
