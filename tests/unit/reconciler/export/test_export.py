"""The pure exporter: observed images -> a manifest that validates and whose plan only adopts."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from catalog.load import check_catalog
from catalog.model import Catalog
from reconciler.core.actions import ActionKind
from reconciler.core.observed import ObservedImage, Snapshot
from reconciler.core.planner import make_plan
from reconciler.export.manifest_text import family_files, file_name, manifest_text, quoted, scalar
from reconciler.export.select import (
    ChecksumOrigin,
    Export,
    ExportContext,
    default_catalog_name,
    family,
    select_images,
)

PROJECT = "4226a7bebe124f738a6152530589e48a"
MEMBER = "95a92e6a6236440b8ef1a3831e325ac7"
SHA512 = "ab" * 64
CONTEXT = ExportContext(
    catalog="prod",
    exported_at="2026-12-03T10:00:00Z",
    tool_version="0.1.0",
    glance_endpoint="https://glance.example:9292/v2",
)


def glance(name: str, number: int = 1, **body: Any) -> ObservedImage:
    """An image as Glance's JSON gives it (active raw data, owned by PROJECT), with ``body``."""
    members = body.pop("members", None)
    image = {
        "id": f"00000000-0000-4000-8000-{number:012d}",
        "name": name,
        "status": "active",
        "visibility": "private",
        "protected": False,
        "os_hidden": False,
        "min_disk": 0,
        "min_ram": 0,
        "disk_format": "raw",
        "container_format": "bare",
        "tags": [],
        "owner": PROJECT,
        "os_hash_algo": "sha512",
        "os_hash_value": SHA512,
        "checksum": "0" * 32,
        "size": 3,
        "stores": "fs",
        "owner_specified.openstack.md5": "",
        "os_glance_importing_to_stores": "",
        **body,
    }
    return ObservedImage.from_glance(image, members)


def snapshot(*images: ObservedImage) -> Snapshot:
    return Snapshot("local", PROJECT, images, projects={MEMBER: MEMBER})


def round_trip(tmp_path: Path, files: dict[str, str]) -> Catalog:
    """The catalog the files load as together (asserting they do)."""
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    result = check_catalog([tmp_path], environ={})
    assert result.diagnostics == ()
    assert result.catalog is not None
    return result.catalog


def adoption_only(catalog: Catalog, observed: Snapshot) -> None:
    """The plan adds the marker and glance-catalog's bookkeeping, nothing else."""
    plan = make_plan(catalog, observed)
    assert plan.conflicts == ()
    assert plan.actions
    for action in plan.actions:
        assert action.kind is ActionKind.UPDATE, action
        held = observed.by_id(action.image_id or "")
        assert held is not None and held.name == action.image
        for change in action.changes:
            if change.path == "tags":
                assert change.after == sorted({*change.before, catalog.marker})
            else:
                assert change.path.startswith("properties.glance_catalog_"), change


def realistic() -> Snapshot:
    return snapshot(
        glance(
            "ubuntu-24.04-20260101",
            1,
            visibility="shared",
            protected=True,
            min_disk=3,
            min_ram=512,
            tags=["lts", "24.04", "glance-catalog:prod"],
            hw_disk_bus="scsi",
            os_version="24.04",
            glance_catalog_managed_properties="hw_disk_bus",
            members={MEMBER: "accepted"},
        ),
        glance("ubuntu-24.04-20260201", 2, os_hidden=True, disk_format="qcow2"),
        glance(
            "reserved",
            3,
            status="queued",
            os_hash_algo=None,
            os_hash_value=None,
            size=None,
            visibility="community",
        ),
        glance("old", 4, status="deactivated", note="yes"),
        glance("legacy-md5", 5, os_hash_algo="md5", os_hash_value="0" * 32),
        glance("shared-pending", 6, visibility="shared", members={MEMBER: "pending"}),
    )


def test_the_manifest_validates_and_its_plan_only_adopts(tmp_path: Path) -> None:
    observed = realistic()
    export = select_images(observed, CONTEXT)
    assert [image.name for image in export.images] == sorted(i.name for i in observed.images)
    catalog = round_trip(tmp_path, {"all.yaml": manifest_text(export)})
    assert catalog.name == "prod"
    assert all(image.adopt for image in catalog.images)
    adoption_only(catalog, observed)


def test_family_files_load_as_one_catalog_whose_plan_only_adopts(tmp_path: Path) -> None:
    observed = realistic()
    files = family_files(select_images(observed, CONTEXT))
    assert sorted(files) == [
        "legacy-md5.yaml",
        "old.yaml",
        "reserved.yaml",
        "shared-pending.yaml",
        "ubuntu.yaml",
    ]
    assert files["ubuntu.yaml"].count("  - name: ") == 2
    adoption_only(round_trip(tmp_path, files), observed)


def test_fields_tags_properties_and_members_are_glances(tmp_path: Path) -> None:
    catalog = round_trip(tmp_path, {"m.yaml": manifest_text(select_images(realistic(), CONTEXT))})
    ubuntu = catalog.image("ubuntu-24.04-20260101")
    assert ubuntu is not None
    assert (ubuntu.protected, ubuntu.min_disk, ubuntu.min_ram) == (True, 3, 512)
    assert ubuntu.visibility.value == "shared"
    assert ubuntu.tags == {"lts", "24.04"}  # the marker is glance-catalog's own
    assert dict(ubuntu.properties) == {"hw_disk_bus": "scsi", "os_version": "24.04"}
    assert [member.project for member in ubuntu.members] == [MEMBER]
    assert ubuntu.source is not None and str(ubuntu.source.checksum) == f"sha512:{SHA512}"
    assert ubuntu.source.url == (
        "https://glance.example:9292/v2/images/00000000-0000-4000-8000-000000000001/file"
    )
    hidden = catalog.image("ubuntu-24.04-20260201")
    assert hidden is not None and hidden.hidden and hidden.disk_format == "qcow2"
    old = catalog.image("old")
    assert old is not None and old.state.value == "deactivated" and old.source is not None
    assert dict(old.properties) == {"note": "yes"}


def test_comments_say_where_values_came_from() -> None:
    text = manifest_text(select_images(realistic(), CONTEXT))
    assert text.startswith(
        '# Exported by glance-catalog 0.1.0 (glance-catalog export) from cloud "local",\n'
        f"# project {PROJECT}.\n# Exported at: 2026-12-03T10:00:00Z\n"
    )
    assert f"checksum: sha512:{SHA512}  # checksum: Glance's os_hash_value (sha512)" in text
    assert f'- "{MEMBER}"  # status accepted' in text
    assert f'- "{MEMBER}"  # status pending' in text
    assert "properties:  # from Glance; left out: glance_catalog_managed_properties" in text
    assert "# no source: no data in Glance (status queued)" in text
    assert "# no source: Glance has no sha256 or sha512 digest of its data (os_hash_algo md5)" in (
        text
    )
    for left_out in ("os_glance", "owner_specified", "stores", "- glance-catalog:prod"):
        assert left_out not in text.split("images:", 1)[1]


def test_glance_catalogs_recorded_checksum_comes_first() -> None:
    recorded = "sha256:" + "cd" * 32
    export = select_images(snapshot(glance("a", glance_catalog_source_checksum=recorded)), CONTEXT)
    (image,) = export.images
    assert (image.checksum, image.checksum_origin) == (recorded, ChecksumOrigin.RECORDED)
    assert "recorded when glance-catalog verified the data" in manifest_text(export)


@pytest.mark.parametrize(
    ("image", "reason"),
    [
        (glance("", 1), "no name"),
        (glance("busy", 1, status="saving"), "status saving"),
        (glance("busy", 1, status="importing"), "status importing"),
        (glance("dead", 1, status="killed"), "status killed"),
        (glance("other", 1, tags=["glance-catalog:other"]), "catalog 'other' manages it"),
        (glance("bare", 1, status="queued", disk_format=None), "disk_format unset"),
        (glance("bare", 1, status="queued", container_format=None), "container_format unset"),
        (glance("odd", 1, disk_format="luks"), "disk_format luks"),
        (
            glance("off", 1, status="deactivated", os_hash_algo="md5"),
            "deactivated, and Glance has no sha256 or sha512 digest",
        ),
        (glance("many", 1, tags=[f"t{n}" for n in range(128)]), "more than 127 tags"),
        (
            glance("many", 1, **{f"p{n}": "v" for n in range(123)}),
            "more than 122 custom properties",
        ),
    ],
)
def test_images_a_manifest_cannot_adopt_are_listed_not_exported(
    tmp_path: Path, image: ObservedImage, reason: str
) -> None:
    export = select_images(snapshot(image, glance("fine", 2)), CONTEXT)
    assert [exported.name for exported in export.images] == ["fine"]
    (skipped,) = export.skipped
    assert (skipped.id, skipped.name) == (image.id, image.name)
    assert reason in skipped.reason
    text = manifest_text(export)
    assert f"# Not exported (1):\n#   {quoted(image.name)} ({image.id}): " in text
    round_trip(tmp_path, {"m.yaml": text})


def test_namesakes_are_both_listed(tmp_path: Path) -> None:
    export = select_images(snapshot(glance("twin", 1), glance("twin", 2)), CONTEXT)
    assert export.images == ()
    assert [s.id for s in export.skipped] == [
        "00000000-0000-4000-8000-000000000001",
        "00000000-0000-4000-8000-000000000002",
    ]
    assert all("2 images of the project have this name" in s.reason for s in export.skipped)
    assert manifest_text(export).endswith("catalog: prod\nimages: []\n")
    round_trip(tmp_path, family_files(export))


def test_this_catalogs_marker_is_dropped_and_its_images_exported() -> None:
    export = select_images(snapshot(glance("mine", tags=["glance-catalog:prod", "x"])), CONTEXT)
    assert [image.tags for image in export.images] == [("x",)]


def test_include_patterns_and_owners() -> None:
    observed = snapshot(
        glance("ubuntu-22.04", 1),
        glance("ubuntu-24.04", 2),
        glance("debian-12", 3),
        glance("Ubuntu-big", 4),
        glance("theirs", 5, owner="someone-else"),
    )
    every = select_images(observed, CONTEXT)
    assert [image.name for image in every.images] == [
        "Ubuntu-big",
        "debian-12",
        "ubuntu-22.04",
        "ubuntu-24.04",
    ]
    chosen = select_images(observed, CONTEXT, ("ubuntu-*", "debian-1?", "centos*", "theirs"))
    assert [image.name for image in chosen.images] == ["debian-12", "ubuntu-22.04", "ubuntu-24.04"]
    assert chosen.unmatched == ("centos*", "theirs")


def test_two_exports_differ_only_in_the_date_line() -> None:
    images = realistic().images
    first = manifest_text(select_images(snapshot(*images), CONTEXT))
    later = dataclasses.replace(CONTEXT, exported_at="2027-01-01T00:00:00Z")
    second = manifest_text(select_images(snapshot(*reversed(images)), later))
    assert first != second
    differ = [
        (a, b) for a, b in zip(first.splitlines(), second.splitlines(), strict=True) if a != b
    ]
    assert differ == [
        ("# Exported at: 2026-12-03T10:00:00Z", "# Exported at: 2027-01-01T00:00:00Z")
    ]


def test_region_is_named_in_the_header() -> None:
    context = dataclasses.replace(CONTEXT, region="RegionTwo")
    text = manifest_text(select_images(snapshot(glance("a")), context))
    assert text.splitlines()[1] == f'# region "RegionTwo", project {PROJECT}.'


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ubuntu-24.04-20260101", "ubuntu"),
        ("ubuntu-24.04", "ubuntu"),
        ("ubuntu-24.04 20260201", "ubuntu"),
        ("debian-12-genericcloud-amd64-20260101", "debian-12-genericcloud-amd64"),
        ("Fedora-Cloud-Base-40-1.14.x86_64", "Fedora-Cloud-Base-40-1.14.x86_64"),
        ("cirros-0.6.2-x86_64-disk", "cirros-0.6.2-x86_64-disk"),
        ("tool-v2.1", "tool"),
        ("centos7.9", "centos7.9"),
        ("win2022", "win2022"),
        ("2024", "2024"),
    ],
)
def test_family_drops_the_trailing_version(name: str, expected: str) -> None:
    assert family(name) == expected


def test_file_names_are_safe() -> None:
    assert file_name("Ubuntu Pro/24.04") == "ubuntu-pro-24.04.yaml"
    assert file_name("Ubuntu Pro 24.04") == "ubuntu-pro.yaml"
    assert file_name("../../etc") == "etc.yaml"
    assert file_name("ünïcode-1") == "n-code.yaml"
    assert file_name("...") == "images.yaml"


def test_default_catalog_names() -> None:
    assert default_catalog_name("local") == "local"
    assert default_catalog_name("Prod_EU.1") == "prod-eu-1"
    assert default_catalog_name("___") is None


def test_awkward_names_and_values_validate(tmp_path: Path) -> None:
    awkward = ["yes", "24.04", "a: b", "#x", "line\nbreak", "tab\there", "😀 ok", "\x85", " pad "]
    images = [
        glance(name, number, tags=[name], **{"key " + str(number): name})
        for number, name in enumerate(awkward, start=1)
    ]
    export = select_images(snapshot(*images), CONTEXT)
    catalog = round_trip(tmp_path, {"m.yaml": manifest_text(export)})
    for number, name in enumerate(awkward, start=1):
        image = catalog.image(name)
        assert image is not None, name
        assert image.tags == {name}
        assert dict(image.properties) == {f"key {number}": name}


LOADERS = [yaml.SafeLoader, *([yaml.CSafeLoader] if hasattr(yaml, "CSafeLoader") else [])]


@given(st.text(max_size=40))
def test_scalars_read_back_as_written(text: str) -> None:
    for loader in LOADERS:
        assert yaml.load(f"k: {scalar(text)}", Loader=loader) == {"k": text}
        assert yaml.load(f"{scalar(text, key=True)}: v", Loader=loader) == {text: "v"}
        assert yaml.load(f"k: {quoted(text)}", Loader=loader) == {"k": text}


def test_an_empty_export_is_a_valid_manifest(tmp_path: Path) -> None:
    export = Export("local", PROJECT, CONTEXT, (), ())
    assert family_files(export) == {}
    catalog = round_trip(tmp_path, {"m.yaml": manifest_text(export)})
    assert catalog.images == ()
