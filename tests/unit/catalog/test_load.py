"""catalog.load: manifests -> Catalog, or every diagnostic at its file:line:column."""

from __future__ import annotations

import textwrap
import threading
import warnings
from pathlib import Path

import pytest

from catalog import load as load_module
from catalog.diagnostics import ManifestInvalid
from catalog.load import check_catalog, load_catalog
from catalog.model import (
    Checksum,
    Compression,
    HashAlgorithm,
    ImageState,
    MemberSpec,
    TransferMethod,
    Visibility,
)

SHA = "sha256:" + "ab" * 32


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def errors(*paths: Path) -> list[str]:
    result = check_catalog(paths)
    assert result.catalog is None
    return [d.as_text() for d in result.diagnostics]


def test_a_valid_manifest_builds_frozen_images_with_defaults_merged(tmp_path: Path) -> None:
    (tmp_path / "disk.raw").write_bytes(b"x")
    manifest = write(
        tmp_path,
        "m.yaml",
        f"""
        version: 1
        catalog: prod
        defaults:
          disk_format: qcow2
          tags: [base]
          properties: {{hw_disk_bus: virtio, os_distro: generic}}
        images:
          - name: ubuntu
            source: {{url: "https://127.0.0.1/u.img", checksum: "{SHA}"}}
            tags: [lts]
            properties: {{os_distro: ubuntu}}
          - name: local
            source: {{file: disk.raw, method: upload}}
            disk_format: raw
            state: deactivated
    """,
    )
    catalog = load_catalog([manifest])
    ubuntu, local = catalog.images
    assert catalog.name == "prod"
    assert ubuntu.disk_format == "qcow2"
    assert ubuntu.container_format == "bare"
    assert ubuntu.visibility is Visibility.PRIVATE
    assert ubuntu.tags == frozenset({"base", "lts"})
    assert dict(ubuntu.properties) == {"hw_disk_bus": "virtio", "os_distro": "ubuntu"}
    assert ubuntu.source is not None
    assert ubuntu.source.checksum == Checksum(HashAlgorithm.SHA256, "ab" * 32)
    assert ubuntu.source.method is TransferMethod.UPLOAD
    assert local.source is not None and local.source.file == (tmp_path / "disk.raw").resolve()
    assert local.state is ImageState.DEACTIVATED
    assert (ubuntu.position.line, ubuntu.position.column) == (8, 5)
    assert len(catalog.digest) == 64


def test_the_digest_changes_with_any_byte_of_any_manifest(tmp_path: Path) -> None:
    text = "version: 1\ncatalog: c\nimages:\n  - {name: a, disk_format: raw}\n"
    manifest = write(tmp_path, "m.yaml", text)
    first = load_catalog([manifest]).digest
    manifest.write_text(text + "# comment\n")
    assert load_catalog([manifest]).digest != first


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "  - name: a\n    visibility: publc\n",
            "m.yaml:6:17: image 'a': visibility: 'publc' is not one of public, private, shared, "
            "community",
        ),
        (
            "  - name: a\n    protect: true\n",
            "m.yaml:6:5: image 'a': protect: unknown key 'protect' "
            "(hint: did you mean 'protected'?)",
        ),
        (
            "  - name: a\n    properties: {os_version: 24.04}\n",
            "m.yaml:6:30: image 'a': properties.os_version: must be a string, not 24.04 "
            '(hint: quote it: "24.04")',
        ),
        (
            "  - name: a\n    properties: {os_hidden: 'true'}\n",
            "m.yaml:6:18: image 'a': properties.os_hidden: 'os_hidden' is not a custom property "
            "(hint: use the image field 'hidden')",
        ),
        (
            "  - name: a\n    source: {url: 'ftp://x/y'}\n",
            "m.yaml:6:19: image 'a': source.url: 'ftp://x/y': the URL scheme must be http or https",
        ),
        (
            "  - name: a\n    source: {url: 'http://x/y'}\n",
            "m.yaml:6:13: image 'a': source: a url source needs a checksum",
        ),
        (
            "  - name: a\n    source: {file: missing.raw}\n",
            "m.yaml:6:20: image 'a': source.file: no such file",
        ),
        ("  - name: a\n    min_ram: -1\n", "m.yaml:6:14: image 'a': min_ram: must be at least 0"),
        (
            "  - name: a\n  - name: a\n",
            "m.yaml:6:11: image 'a': name: duplicate image name (first at",
        ),
        ("  - name: a\n    tags: [x, x]\n", "m.yaml:6:15: image 'a': tags[1]: duplicate tag 'x'"),
        (
            "  - name: a\n    state: deactivated\n",
            "m.yaml:6:12: image 'a': state: an image without a source cannot be deactivated",
        ),
        (
            "  - name: a\n    members: [p]\n",
            "m.yaml:6:5: image 'a': members: members need visibility: shared",
        ),
        (
            "  - name: a\n    visibility: public\n    visibility: private\n",
            "m.yaml:7:5: image 'a': visibility: duplicate key 'visibility' (first at line 6)",
        ),
        ("  - name: a\n\tdisk_format: raw\n", "m.yaml:6:1: invalid YAML: found character '\\t'"),
    ],
)
def test_each_rule_reports_its_line_column_and_message(
    tmp_path: Path, body: str, expected: str
) -> None:
    manifest = write(
        tmp_path, "m.yaml", "version: 1\ncatalog: c\ndefaults: {disk_format: raw}\nimages:\n" + body
    )
    found = errors(manifest)
    assert any(line.removeprefix(str(tmp_path) + "/").startswith(expected) for line in found), found


def test_every_error_of_every_file_is_reported_in_one_pass_sorted(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "version: 1\ncatalog: c\nimages:\n  - {name: x, visibility: no}\n")
    write(tmp_path, "b.yaml", "version: 2\ncatalog: d\nimages:\n  - {name: y, protect: true}\n")
    found = errors(tmp_path)
    relative = [line.removeprefix(str(tmp_path) + "/") for line in found]
    assert relative[0].startswith("a.yaml:4:")
    assert any(line.startswith("b.yaml:1:10: version: must be 1") for line in relative)
    assert any(
        line.startswith("b.yaml:2:10: catalog: catalog 'd' differs from 'c'") for line in relative
    )
    assert any(line.startswith("b.yaml:4:15: image 'y': protect: unknown key") for line in relative)

    def key(line: str) -> tuple[str, int, int]:
        file, line_number, column = line.split(":")[:3]
        return file, int(line_number), int(column)

    assert relative == sorted(relative, key=key)
    assert any("visibility: no (YAML reads it as false) is not one of" in line for line in relative)


def test_defaults_in_two_files_name_both(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "version: 1\ncatalog: c\ndefaults: {disk_format: raw}\n")
    write(tmp_path, "b.yaml", "version: 1\ncatalog: c\ndefaults: {disk_format: raw}\n")
    (line,) = [e for e in errors(tmp_path) if "defaults" in e]
    assert line.startswith(f"{tmp_path}/b.yaml:3:1: defaults: defaults are already given in ")
    assert line.endswith("(hint: keep defaults in one file of the catalog)")
    assert f"{tmp_path}/a.yaml" in line


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "m.yaml:1:1: the file is empty"),
        ("# only a comment\n", "m.yaml:1:1: the file is empty"),
        ("version: 1\n---\ncatalog: c\n", "m.yaml:2:1: more than one YAML document in the file"),
        ("[1, 2", "m.yaml:1:6: invalid YAML"),
        ("- a\n- b\n", "m.yaml:1:1: must be a mapping"),
    ],
)
def test_broken_files_are_positioned_errors(tmp_path: Path, text: str, expected: str) -> None:
    manifest = tmp_path / "m.yaml"
    manifest.write_text(text)
    found = [line.removeprefix(str(tmp_path) + "/") for line in errors(manifest)]
    assert any(line.startswith(expected) for line in found), found


def test_an_alias_bomb_is_refused_not_expanded(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 8)]
    manifest = tmp_path / "m.yaml"
    manifest.write_text("\n".join(lines) + "\n")
    (line,) = errors(manifest)
    assert "expands to more than" in line and "aliases" in line


def test_a_missing_path_and_an_empty_folder_are_errors(tmp_path: Path) -> None:
    assert errors(tmp_path / "nope.yaml") == [f"{tmp_path}/nope.yaml:1:1: no such file or folder"]
    assert errors(tmp_path) == [f"{tmp_path}:1:1: no *.yaml or *.yml manifest in this folder"]


def test_manifest_invalid_carries_sorted_diagnostics_and_a_summary(tmp_path: Path) -> None:
    manifest = write(tmp_path, "m.yaml", "version: 1\ncatalog: C\n")
    with pytest.raises(ManifestInvalid) as raised:
        load_catalog([manifest])
    assert raised.value.lines[-1] == "1 error in the manifest; nothing was changed"
    assert raised.value.diagnostics[0].line == 2


def test_the_shipped_examples_validate() -> None:
    examples = Path(__file__).resolve().parents[3] / "examples" / "catalog"
    catalog = load_catalog([examples])
    assert catalog.name == "demo"
    assert len(catalog.images) >= 4


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{url: 'http://h/x', checksum: 'abc'}", "source.checksum: 'abc' has no algorithm"),
        (
            "{url: 'http://h/x', checksum: 'md5:" + "a" * 32 + "'}",
            "source.checksum: algorithm 'md5' is not accepted",
        ),
        (
            "{url: 'http://h/x', checksum: 'sha256:" + "a" * 40 + "'}",
            "source.checksum: sha256 needs 64 hex digits, not 40 (hint: 40 digits look like a sha1",
        ),
        (
            "{url: 'http://h/x', checksum: 'sha256:" + "a" * 128 + "'}",
            "sha256 needs 64 hex digits, not 128 (hint: 128 digits look like a sha512 digest)",
        ),
        (
            "{url: 'http://h/x', checksum: 'sha512:" + "g" * 128 + "'}",
            "source.checksum: the digest has a non-hex character 'g'",
        ),
        (
            "{url: 'http://h/x', file: f.raw, checksum: '" + SHA + "'}",
            "source: give exactly one of url and file",
        ),
        ("{checksum: '" + SHA + "'}", "source: give one of url and file"),
        ("{file: f.raw, method: web-download}", "source.method: web-download needs a url source"),
        (
            "{url: 'http://h/x', checksum: '" + SHA + "', methd: upload}",
            "source.methd: unknown key 'methd' (hint: did you mean 'method'?)",
        ),
    ],
)
def test_source_rules(tmp_path: Path, source: str, expected: str) -> None:
    (tmp_path / "f.raw").write_bytes(b"x")
    manifest = write(
        tmp_path,
        "m.yaml",
        f"version: 1\ncatalog: c\nimages:\n  - {{name: a, disk_format: raw, source: {source}}}\n",
    )
    found = errors(manifest)
    assert any(expected in line for line in found), found


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ("properties: {checksum: x}", "'checksum' is not a custom property (hint: Glance computes"),
        ("properties: {os_glance_import_task: x}", "(hint: Glance manages it)"),
        ("properties: {glance_catalog_x: y}", "(hint: glance-catalog keeps its own bookkeeping"),
        ("properties: {visibility: public}", "(hint: use the image field 'visibility')"),
        (
            "properties: {hw_qemu_guest_agent: yes}",
            'must be a string, not yes (hint: quote it: "yes")',
        ),
        ("tags: ['glance-catalog:other']", "is glance-catalog's ownership marker"),
        ("tags: ['" + "t" * 256 + "']", "tags[0]: is longer than 255 characters"),
        ("tags: [" + ", ".join(f"t{i}" for i in range(128)) + "]", "tags: has more than 127"),
        ("properties: {" + "k" * 256 + ": v}", "key is longer than 255 characters"),
        ("properties: {k: '" + "v" * 256 + "'}", "properties.k: is longer than 255 characters"),
        (
            "properties: {" + ", ".join(f"p{i}: v" for i in range(123)) + "}",
            "properties: has more than 122 entries",
        ),
        ("min_disk: 1.5", "min_disk: must be a whole number, not 1.5"),
        ("protected: 'yes'", "protected: must be true or false"),
        ("state: gone", "state: 'gone' is not one of active, deactivated, absent"),
        ("disk_format: qcow3", "disk_format: 'qcow3' is not one of"),
        ("members: [p]", "members need visibility: shared (this image is private)"),
        ("visibility: shared\n    members: [p, p]", "members[1]: 'p' is listed twice"),
        (
            "visibility: shared\n    members: [{project: p, accept: c}]",
            "members[0]: must be a project name or id, or {project, accept_with}",
        ),
        ("id: 12345", "id: must be a string"),
        ("id: not-a-uuid", "id: 'not-a-uuid'"),
        ("adopt: 'yes'", "adopt: must be true or false"),
        ("stores: []", "stores: must list at least 1 entry"),
        ("stores: [fast, archive, fast]", "stores[2]: 'fast' is listed twice"),
        ("stores: ['']", "stores[0]: must not be empty"),
        ("stores: fast", "stores: must be a list, not fast"),
        ("stores: [1]", 'stores[0]: must be a string, not 1 (hint: quote it: "1")'),
    ],
)
def test_image_field_rules(tmp_path: Path, fields: str, expected: str) -> None:
    manifest = write(
        tmp_path,
        "m.yaml",
        "version: 1\ncatalog: c\ndefaults: {disk_format: raw}\n"
        f"images:\n  - name: a\n    {fields}\n",
    )
    found = errors(manifest)
    assert any(expected in line for line in found), found


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ("version: 2\ncatalog: c\n", "m.yaml:1:10: version: must be 1, not 2"),
        ("version: '1'\ncatalog: c\n", "m.yaml:1:10: version: must be 1, not '1'"),
        ("version: 1\ncatalog: Prod_Images\n", "m.yaml:2:10: catalog: 'Prod_Images': must be 1 to"),
        ("catalog: c\n", "m.yaml:1:1: missing required key 'version'"),
        (
            "version: 1\ncatalog: c\nimages:\n  - disk_format: raw\n",
            "m.yaml:4:5: image '#1': missing required key 'name'",
        ),
        (
            "version: 1\ncatalog: c\nimages:\n  - name: a\n",
            "m.yaml:4:5: image 'a': missing disk_format",
        ),
        (
            "version: 1\ncatalog: c\ndefaults: {protect: true}\n",
            "m.yaml:3:12: defaults.protect: unknown key 'protect' "
            "(hint: did you mean 'protected'?)",
        ),
        ("version: 1\ncatalog: c\nimagez: []\n", "m.yaml:3:1: imagez: unknown key 'imagez'"),
        (
            "version: 1\ncatalog: c\nimages: [{name: '', disk_format: raw}]\n",
            "m.yaml:3:17: image '#1': name: must not be empty",
        ),
    ],
)
def test_document_rules(tmp_path: Path, document: str, expected: str) -> None:
    manifest = tmp_path / "m.yaml"
    manifest.write_text(document)
    found = [line.removeprefix(f"{tmp_path}/") for line in errors(manifest)]
    assert any(line.startswith(expected) for line in found), found


def test_non_utf8_bytes_are_a_positioned_error(tmp_path: Path) -> None:
    manifest = tmp_path / "m.yaml"
    manifest.write_bytes(b"version: 1\ncatalog: \xff\n")
    assert errors(manifest) == [f"{manifest}:1:1: not UTF-8 text (byte 20)"]


def test_folders_are_read_flat_unless_recursive(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "version: 1\ncatalog: c\nimages: [{name: a, disk_format: raw}]\n")
    (tmp_path / "more").mkdir()
    write(
        tmp_path / "more",
        "b.yml",
        "version: 1\ncatalog: c\nimages: [{name: b, disk_format: raw}]\n",
    )
    (tmp_path / "notes.txt").write_text("not a manifest")
    assert [i.name for i in load_catalog([tmp_path]).images] == ["a"]
    assert [i.name for i in load_catalog([tmp_path], recursive=True).images] == ["a", "b"]


def big_catalog(folder: Path, broken: bool) -> None:
    """Two files over the size that makes the loader use worker processes."""
    for part in ("a", "b"):
        images = "".join(
            f"  - name: {part}-{index}\n    disk_format: raw\n"
            f"    properties: {{os_distro: linux, note: '{'x' * 200}'}}\n"
            for index in range(1200)
        )
        write(folder, f"{part}.yaml", f"version: 1\ncatalog: big\nimages:\n{images}")
    if broken:
        text = (folder / "b.yaml").read_text()
        text = text.replace("name: b-7\n", "name: a-3\n").replace(
            "name: b-9\n    disk_format: raw", "name: b-9\n    disk_format: rav"
        )
        (folder / "b.yaml").write_text(text)


@pytest.mark.parametrize("broken", [False, True])
def test_worker_processes_give_the_same_result_as_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, broken: bool
) -> None:
    big_catalog(tmp_path, broken)
    assert sum(p.stat().st_size for p in tmp_path.iterdir()) > load_module.PARALLEL_BYTES
    parallel = check_catalog([tmp_path])
    monkeypatch.setattr(load_module, "PARALLEL_BYTES", 1 << 40)
    sequential = check_catalog([tmp_path])
    assert parallel == sequential
    if broken:
        lines = [d.as_text().removeprefix(f"{tmp_path}/") for d in parallel.diagnostics]
        assert lines[0].startswith(
            "b.yaml:25:11: image 'a-3': name: duplicate image name "
            f"(first at {tmp_path}/a.yaml:13:11)"
        )
        assert lines[1].startswith("b.yaml:32:18: image 'b-9': disk_format: 'rav' is not one of")
    else:
        assert parallel.catalog is not None and len(parallel.catalog.images) == 2400
        assert parallel.catalog.images[2].position.line == 10


def test_no_worker_is_forked_while_other_threads_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fork copies the locks other threads hold (Python 3.12+ warns of the deadlock it may
    bring): with a second thread alive the files are checked in this process, with the same
    result as workers give and no warning."""
    big_catalog(tmp_path, broken=True)
    forked = check_catalog([tmp_path])

    def no_pool(*args: object, **kwargs: object) -> None:
        raise AssertionError("worker processes started while another thread runs")

    monkeypatch.setattr(load_module, "ProcessPoolExecutor", no_pool)
    release = threading.Event()
    other = threading.Thread(target=release.wait, daemon=True)
    other.start()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            threaded = check_catalog([tmp_path])
    finally:
        release.set()
        other.join()
    assert not [w for w in caught if "fork" in str(w.message)], [str(w.message) for w in caught]
    assert threaded == forked


def test_members_ids_adopt_keep_previous_and_prune_reach_the_model(tmp_path: Path) -> None:
    write(
        tmp_path,
        "m.yaml",
        "version: 1\ncatalog: c\nprune: true\nimages:\n"
        "  - name: a\n    id: 6F1C2B1E-0D7A-4C57-9A55-3F0E6B1D2C3A\n    disk_format: raw\n"
        "    adopt: true\n    keep_previous: true\n    visibility: shared\n"
        "    members: [project-a, {project: project-b, accept_with: local-b}]\n",
    )
    loaded = check_catalog([tmp_path])
    assert loaded.catalog is not None, loaded.diagnostics
    (image,) = loaded.catalog.images
    assert image.members == (MemberSpec("project-a"), MemberSpec("project-b", "local-b"))
    assert image.image_id == "6f1c2b1e-0d7a-4c57-9a55-3f0e6b1d2c3a"
    assert image.adopt and image.keep_previous and loaded.catalog.prune
    # Each member at its entry, for a conflict about it.
    assert [str(member.position) for member in image.members] == [
        f"{tmp_path}/m.yaml:11:15",
        f"{tmp_path}/m.yaml:11:26",
    ]


def test_inherited_members_stand_at_their_entry_in_the_defaults(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.yaml",
        "version: 1\ncatalog: c\ndefaults:\n  visibility: shared\n"
        "  members:\n    - project-a\nimages:\n  - {name: a, disk_format: raw}\n",
    )
    write(
        tmp_path,
        "b.yaml",
        "version: 1\ncatalog: c\nimages:\n  - {name: b, disk_format: raw}\n",
    )
    loaded = check_catalog([tmp_path])
    assert loaded.catalog is not None, loaded.diagnostics
    positions = {image.name: str(image.members[0].position) for image in loaded.catalog.images}
    assert positions == {"a": f"{tmp_path}/a.yaml:6:7", "b": f"{tmp_path}/a.yaml:6:7"}


def test_prune_must_agree_and_ids_must_be_unique_across_files(tmp_path: Path) -> None:
    uid = "6f1c2b1e-0d7a-4c57-9a55-3f0e6b1d2c3a"
    write(
        tmp_path,
        "a.yaml",
        f"version: 1\ncatalog: c\nprune: true\nimages:\n"
        f"  - {{name: a, id: {uid}, disk_format: raw}}\n",
    )
    write(
        tmp_path,
        "b.yaml",
        f"version: 1\ncatalog: c\nprune: false\nimages:\n"
        f"  - {{name: b, id: {uid.upper()}, disk_format: raw}}\n",
    )
    found = [line.removeprefix(f"{tmp_path}/") for line in errors(tmp_path)]
    assert any(
        line.startswith("b.yaml:3:8: prune: prune is false here but true in") for line in found
    ), found
    assert any(
        line.startswith("b.yaml:5:19: image 'b': id: duplicate image id (first at")
        for line in found
    ), found


@pytest.mark.parametrize(
    ("source", "container_format", "expected"),
    [
        ("{url: 'https://h/u.qcow2.xz', checksum: '%s'}", "bare", Compression.XZ),
        ("{url: 'https://h/u.img.GZ', checksum: '%s'}", "bare", Compression.GZ),
        # The query is no part of the name.
        ("{url: 'https://h/u.img?sig=x.bz2', checksum: '%s'}", "bare", Compression.NONE),
        ("{url: 'https://h/u.img.zst?sig=abc', checksum: '%s'}", "bare", Compression.ZST),
        ("{file: d.raw.bz2}", "bare", Compression.BZ2),
        ("{file: d.raw.bz2, decompress: none}", "bare", Compression.NONE),
        ("{file: d.raw, decompress: zst}", "bare", Compression.ZST),
        ("{file: d.raw.bz2, decompress: auto}", "bare", Compression.BZ2),
        # Glance's compressed container holds compressed bytes on purpose.
        ("{file: d.raw.bz2}", "compressed", Compression.NONE),
        ("{file: d.raw.bz2, decompress: gz}", "compressed", Compression.GZ),
        ("{url: 'https://h/u.xz', checksum: '%s', method: web-download}", "bare", Compression.NONE),
    ],
)
def test_decompress_is_resolved_at_load_from_the_suffix_unless_given(
    tmp_path: Path, source: str, container_format: str, expected: Compression
) -> None:
    for name in ("d.raw", "d.raw.bz2"):
        (tmp_path / name).write_bytes(b"x")
    source = source.replace("%s", SHA)
    if "web-download" in source:
        source = source.replace("}", ", decompress: none}")
    manifest = write(
        tmp_path,
        "m.yaml",
        f"version: 1\ncatalog: c\ndefaults: {{container_format: {container_format}}}\n"
        f"images:\n  - {{name: a, disk_format: raw, source: {source}}}\n",
    )
    (image,) = load_catalog([manifest]).images
    assert image.source is not None and image.source.compression is expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            "url: https://h/u.qcow2.xz\nmethod: web-download",
            "m.yaml:9:15: image 'a': source.method: web-download of a compressed source (xz): "
            "Glance would store the compressed bytes (hint: use method: upload, which "
            "decompresses while uploading (or decompress: none to store the compressed bytes))",
        ),
        (
            "url: https://h/u.img\ndecompress: zst\nmethod: web-download",
            "m.yaml:10:15: image 'a': source.method: web-download of a compressed source (zst): ",
        ),
        (
            "url: https://h/u.img\ndecompress: rar",
            "m.yaml:9:19: image 'a': source.decompress: 'rar' is not one of auto, none, xz, gz, "
            "bz2, zst",
        ),
    ],
)
def test_a_compressed_web_download_or_an_unknown_decompress_is_refused_at_its_position(
    tmp_path: Path, source: str, expected: str
) -> None:
    fields = "".join(f"      {line}\n" for line in [f"checksum: '{SHA}'", *source.split("\n")])
    manifest = write(
        tmp_path,
        "m.yaml",
        "version: 1\ncatalog: c\nimages:\n  - name: a\n    disk_format: raw\n    source:\n"
        + fields,
    )
    found = [line.removeprefix(f"{tmp_path}/") for line in errors(manifest)]
    assert len(found) == 1 and found[0].startswith(expected), found


def test_a_compressed_container_may_be_web_downloaded_as_published(tmp_path: Path) -> None:
    manifest = write(
        tmp_path,
        "m.yaml",
        f"""
        version: 1
        catalog: c
        defaults: {{container_format: compressed}}
        images:
          - name: a
            disk_format: raw
            source: {{url: "https://h/u.tar.gz", checksum: "{SHA}", method: web-download}}
        """,
    )
    (image,) = load_catalog([manifest]).images
    assert image.source is not None and image.source.compression is Compression.NONE


def test_stores_reach_the_model_and_an_image_list_replaces_the_defaults(tmp_path: Path) -> None:
    write(
        tmp_path,
        "m.yaml",
        "version: 1\ncatalog: c\ndefaults: {disk_format: raw, stores: [fast, archive]}\n"
        "images:\n  - name: a\n  - name: b\n    stores: [archive]\n"
        "  - name: c\n    stores: [archive, fast]\n",
    )
    loaded = check_catalog([tmp_path])
    assert loaded.catalog is not None, loaded.diagnostics
    assert [image.stores for image in loaded.catalog.images] == [
        ("fast", "archive"),
        ("archive",),
        ("archive", "fast"),
    ]
    write(tmp_path, "m.yaml", "version: 1\ncatalog: c\nimages:\n  - {name: a, disk_format: raw}\n")
    loaded = check_catalog([tmp_path])
    assert loaded.catalog is not None and loaded.catalog.images[0].stores == ()
