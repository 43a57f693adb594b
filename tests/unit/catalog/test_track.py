"""catalog.track and catalog.manifest_edit: finding upstream versions, and writing one into a
manifest without touching any other byte."""

from __future__ import annotations

import difflib
import textwrap
from pathlib import Path

import pytest

from catalog.errors import GlanceCatalogError
from catalog.load import load_catalog
from catalog.manifest_edit import NewVersion, add_version
from catalog.track import index_entries, newest, segment_with_version, versions_in

SHA = "sha256:" + "ab" * 32
NEW = NewVersion("20240701", "https://127.0.0.1/b.img", "sha256:" + "cd" * 32, "https://x/SUMS")


def test_versions_are_found_in_names_and_ordered_as_people_read_them() -> None:
    names = [
        "Fedora-Cloud-Base-40-1.14.x86_64.qcow2",
        "Fedora-Cloud-Base-40-1.9.x86_64.qcow2",
        "Fedora-Cloud-Base-40-1.14.aarch64.qcow2",
        "CHECKSUM",
    ]
    found = versions_in(names, "Fedora-Cloud-Base-{version}.x86_64.qcow2")
    assert found == {"40-1.14", "40-1.9"}
    assert newest(found) == "40-1.14"
    assert newest(["24.04.9", "24.04.10", "24.04.2"]) == "24.04.10"
    assert newest([]) is None


def test_a_release_index_lists_its_folders_as_html_links_or_plain_words() -> None:
    html = (
        '<html><body><a href="../">../</a><a href="release-20240423/">release-20240423/</a>'
        '<a href="https://h/releases/noble/release-20240701/">x</a>'
        '<a href="?C=M;O=A">sort</a></body></html>'
    )
    entries = index_entries(html)
    assert versions_in(entries, "release-{version}") == {"20240423", "20240701"}
    assert versions_in(index_entries("release-1\nrelease-2\n"), "release-{version}") == {"1", "2"}
    url = "https://h/releases/noble/release-{version}/SHA256SUMS"
    assert segment_with_version(url) == "release-{version}"


def manifest(folder: Path, text: str) -> Path:
    path = folder / "m.yaml"
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def test_a_version_is_appended_and_every_other_byte_is_kept(tmp_path: Path) -> None:
    original = f"""\
        # The LTS, kept for two releases.
        version: 1
        catalog: c
        defaults: {{disk_format: raw}}
        images:
          - name: ubuntu   # plain name
            retire:   {{keep: 2}}
            versions:
              - version: "20240601"   # first build
                source:
                  url: https://127.0.0.1/a.img
                  checksum: {SHA}

            # belongs to tags
            tags: [lts]
        """
    path = manifest(tmp_path, original)
    before = path.read_text()
    after = add_version(before, str(path), "ubuntu", NEW)
    diff = difflib.ndiff(before.splitlines(), after.splitlines())
    added = [line[2:] for line in diff if line.startswith("+ ")]
    assert not any(
        line.startswith("- ") for line in difflib.ndiff(before.splitlines(), after.splitlines())
    )
    assert added == [
        "      - version: '20240701'",
        "        source:",
        "          url: https://127.0.0.1/b.img",
        f"          checksum: {NEW.checksum}  # from https://x/SUMS",
    ]
    assert after.replace("\n".join(added) + "\n", "") == before
    assert after.index("first build") < after.index("20240701") < after.index("belongs to tags")
    path.write_text(after)
    (image,) = load_catalog([path]).images
    assert [v.version for v in image.versions] == ["20240601", "20240701"]
    assert image.tags == frozenset({"lts"})


def test_an_image_with_only_a_track_gets_its_first_versions_key(tmp_path: Path) -> None:
    path = manifest(
        tmp_path,
        """\
        version: 1
        catalog: c
        defaults: {disk_format: raw}
        images:
          - name: fedora
            track:
              checksum_url: https://127.0.0.1/SUMS
              file: "F-{version}.raw"
          - name: other
            source: {file: m.yaml}
        """,
    )
    path.write_text(add_version(path.read_text(), str(path), "fedora", NEW))
    images = load_catalog([path]).images
    assert [v.version for v in images[0].versions] == ["20240701"]
    assert images[1].name == "other"


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        (
            "  - name: u\n    versions: [{version: '1', source: {file: m.yaml}}]\n",
            "m.yaml:6: image 'u': versions is written as a flow list",
        ),
        ("  - {name: u, track: {checksum_url: 'https://h/S', file: '{version}'}}\n", "flow"),
        ("  - name: other\n    source: {file: m.yaml}\n", "no image 'u' in this manifest"),
    ],
)
def test_a_manifest_that_cannot_be_edited_safely_is_refused(
    tmp_path: Path, image: str, expected: str
) -> None:
    path = manifest(tmp_path, "version: 1\ncatalog: c\ndefaults: {disk_format: raw}\nimages:\n")
    path.write_text(path.read_text() + image)
    with pytest.raises(GlanceCatalogError) as raised:
        add_version(path.read_text(), str(path), "u", NEW)
    assert expected in str(raised.value.lines[0])
