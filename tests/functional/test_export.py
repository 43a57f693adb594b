"""export against the real local Glance: images made by hand (unmanaged) are exported, the
manifest validates, its plan only adopts them, apply adopts them and the next plan is empty."""

from __future__ import annotations

import contextlib
import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.functional.support import GlanceProbe, run_cli
from tests.localcloud import LocalCloud

pytestmark = pytest.mark.glance


class Made:
    """Images a test makes by hand, deleted (whoever owns them) when it ends."""

    def __init__(self) -> None:
        self.images: list[tuple[GlanceProbe, str]] = []

    def create(self, probe: GlanceProbe, data: bytes | None = None, **body: Any) -> str:
        image_id = str(probe.create(**body)["id"])
        self.images.append((probe, image_id))
        if data is not None:
            probe.upload(image_id, data)
        return image_id

    def cleanup(self) -> None:
        for probe, image_id in reversed(self.images):
            with contextlib.suppress(AssertionError):  # already gone
                probe.delete(image_id)


@pytest.fixture
def made() -> Iterator[Made]:
    images = Made()
    try:
        yield images
    finally:
        images.cleanup()


@pytest.fixture
def prefix() -> str:
    return f"x{uuid.uuid4().hex[:8]}"


def plan_json(path: Path, cloud: str = "local") -> dict[str, Any]:
    result = run_cli("plan", str(path), "--cloud", cloud, "--json")
    assert result.code == 0, result.output
    body: dict[str, Any] = json.loads(result.stdout)
    return body


def assert_only_adoptions(plan: dict[str, Any], expected: dict[str, str], marker: str) -> None:
    """Exactly the images ``expected`` (name -> id) are updated, with the marker and
    glance-catalog's bookkeeping only: no field, data or member change."""
    assert plan["conflicts"] == []
    assert {action["image"]: action["image_id"] for action in plan["actions"]} == expected
    for action in plan["actions"]:
        assert action["action"] == "update", action
        assert action["source"] is None
        for change in action["changes"]:
            if change["path"] == "tags":
                assert change["after"] == sorted({*change["before"], marker}), action
            else:
                assert change["path"].startswith("properties.glance_catalog_"), action
                assert change["before"] is None, action


def test_an_exported_project_validates_plans_only_adoptions_and_converges(
    tmp_path: Path,
    probe: GlanceProbe,
    local_cloud: LocalCloud,
    made: Made,
    catalog_name: str,
    prefix: str,
) -> None:
    project_a = local_cloud.project_ids["project-a"]
    project_b = local_cloud.project_ids["project-b"]
    shared = made.create(
        probe,
        b"ubuntu bytes" * 100,
        name=f"{prefix}-ubuntu-24.04-20260101",
        disk_format="raw",
        container_format="bare",
        visibility="shared",
        protected=True,
        min_disk=1,
        min_ram=256,
        tags=["lts", "x y"],
        hw_disk_bus="scsi",
        os_version="24.04",
        **{"owner_specified.openstack.object": "images/ubuntu"},
    )
    probe.add_member(shared, project_b)
    probe.add_member(shared, project_a)
    GlanceProbe("local-b").set_member_status(shared, project_b, "accepted")
    hidden = made.create(
        probe,
        b"newer bytes" * 100,
        name=f"{prefix}-ubuntu-24.04-20260201",
        disk_format="raw",
        container_format="bare",
        visibility="community",
        os_hidden=True,
    )
    reserved = made.create(
        probe,
        name=f"{prefix}-reserved",
        disk_format="qcow2",
        container_format="bare",
        visibility="private",
        tags=["later"],
    )
    old = made.create(
        probe,
        b"old bytes" * 100,
        name=f"{prefix}-old",
        disk_format="raw",
        container_format="bare",
        visibility="private",
    )
    probe.action(old, "deactivate")
    no_format = made.create(probe, name=f"{prefix}-no-format")
    before = {image_id: probe.show(image_id) for image_id in (shared, hidden, reserved, old)}

    manifest = tmp_path / "catalog.yaml"
    pattern = f"{prefix}-*"
    args = ("export", "--cloud", "local", "--catalog", catalog_name, "--include", pattern)
    exported = run_cli(*args, "-o", str(manifest))
    assert exported.code == 0, exported.output
    assert exported.stdout == ""
    assert "Exported 4 images" in exported.stderr
    text = manifest.read_text()
    assert f"project {probe.project_id}." in text
    assert "# Exported at: " in text
    assert "glance-catalog 0.1.0" in text
    sha512 = before[shared]["os_hash_value"]
    assert f"checksum: sha512:{sha512}  # checksum: Glance's os_hash_value (sha512)" in text
    # Quoted only when YAML would read the id as something else (a number: 1e5...).
    assert re.search(f'- "?{project_b}"?  # status accepted', text)
    assert re.search(f'- "?{project_a}"?  # status pending', text)
    assert f"({no_format}): disk_format unset" in text
    assert "owner_specified" not in text.split("images:")[1]
    assert "# no source: no data in Glance (status queued)" in text
    assert "state: deactivated" in text

    # The same cloud exported again: byte-identical but for the date line.
    again = run_cli(*args)
    assert again.code == 0, again.output
    differ = [
        (a, b) for a, b in zip(text.splitlines(), again.stdout.splitlines(), strict=True) if a != b
    ]
    assert all(a.startswith("# Exported at: ") for a, _ in differ), differ

    validated = run_cli("validate", str(manifest))
    assert validated.code == 0, validated.output
    assert f"OK: catalog '{catalog_name}', 4 images in 1 file(s)." in validated.stdout

    names = {image_id: body["name"] for image_id, body in before.items()}
    plan = plan_json(manifest)
    assert_only_adoptions(
        plan, {name: image_id for image_id, name in names.items()}, f"glance-catalog:{catalog_name}"
    )
    assert [note["message"] for note in plan["notes"]] == [
        f"member {project_a} ({project_a}) has status pending; only that project can accept "
        "(give the member accept_with: CLOUD to accept it)"
    ]

    applied = run_cli("apply", str(manifest), "--cloud", "local", "--auto-approve")
    assert applied.code == 0, applied.output
    replan = run_cli("plan", str(manifest), "--cloud", "local", "--detailed-exitcode")
    assert replan.code == 0, replan.output
    assert "No changes." in replan.stdout

    for image_id, was in before.items():
        now = probe.show(image_id)
        assert f"glance-catalog:{catalog_name}" in now["tags"]
        for key in ("status", "os_hash_value", "visibility", "protected", "os_hidden", "min_ram"):
            assert now[key] == was[key], (key, was["name"])
        assert set(now["tags"]) == {*was["tags"], f"glance-catalog:{catalog_name}"}
    assert probe.members(shared) == {project_a: "pending", project_b: "accepted"}
    assert probe.show(no_format)["tags"] == []


def test_out_dir_writes_one_catalog_in_family_files_and_never_overwrites(
    tmp_path: Path, probe: GlanceProbe, made: Made, catalog_name: str, prefix: str
) -> None:
    ids = {
        name: made.create(
            probe, name.encode() * 50, name=name, disk_format="raw", container_format="bare"
        )
        for name in (f"{prefix}-deb-12-20260101", f"{prefix}-deb-12-20260201", f"{prefix}-cirros")
    }
    out_dir = tmp_path / "catalog"
    args = ("export", "--cloud", "local", "--catalog", catalog_name, "--include", f"{prefix}-*")
    exported = run_cli(*args, "--out-dir", str(out_dir))
    assert exported.code == 0, exported.output
    assert sorted(path.name for path in out_dir.iterdir()) == [
        f"{prefix}-cirros.yaml",
        f"{prefix}-deb.yaml",
    ]
    assert (out_dir / f"{prefix}-deb.yaml").read_text().count("  - name: ") == 2
    for path in out_dir.iterdir():
        assert path.read_text().count("\nversion: 1\ncatalog: ") == 1

    validated = run_cli("validate", str(out_dir))
    assert validated.code == 0, validated.output
    assert "3 images in 2 file(s)" in validated.stdout
    assert_only_adoptions(plan_json(out_dir), ids, f"glance-catalog:{catalog_name}")

    contents = {path.name: path.read_bytes() for path in out_dir.iterdir()}
    (out_dir / f"{prefix}-cirros.yaml").write_text("# edited by hand\n")
    refused = run_cli(*args, "--out-dir", str(out_dir))
    assert refused.code == 1
    assert refused.stderr.count("\n") == 1, refused.stderr
    assert "already exist; nothing was written (pass --force to overwrite)" in refused.stderr
    assert (out_dir / f"{prefix}-cirros.yaml").read_text() == "# edited by hand\n"
    forced = run_cli(*args, "--out-dir", str(out_dir), "--force")
    assert forced.code == 0, forced.output
    assert {path.name: path.read_bytes() for path in out_dir.iterdir()}.keys() == contents.keys()
    assert (out_dir / f"{prefix}-cirros.yaml").read_text().startswith("# Exported by ")

    single = tmp_path / "one.yaml"
    single.write_text("keep me\n")
    refused_file = run_cli(*args, "-o", str(single))
    assert refused_file.code == 1
    assert (
        refused_file.stderr
        == f"{single} already exists; nothing was written (pass --force to overwrite)\n"
    )
    assert single.read_text() == "keep me\n"


def test_include_patterns_and_only_the_projects_own_images(
    tmp_path: Path, probe: GlanceProbe, local_cloud: LocalCloud, made: Made, prefix: str
) -> None:
    project_a = local_cloud.project_ids["project-a"]
    owner_a, owner_b = GlanceProbe("local-a"), GlanceProbe("local-b")
    raw = {"disk_format": "raw", "container_format": "bare"}
    for name in ("a-one", "a-two", "a-three"):
        made.create(owner_a, name=f"{prefix}-{name}", **raw)
    theirs = made.create(owner_b, b"b" * 100, name=f"{prefix}-b-shared", visibility="shared", **raw)
    owner_b.add_member(theirs, project_a)
    owner_a.set_member_status(theirs, project_a, "accepted")
    public = made.create(
        probe, b"p" * 100, name=f"{prefix}-admin-public", visibility="public", **raw
    )
    assert {theirs, public} <= owner_a.visible_ids()  # seen by project-a, not its own

    chosen = run_cli(
        "export",
        "--cloud",
        "local-a",
        "--include",
        f"{prefix}-a-one",
        "--include",
        f"{prefix}-a-t*",
        "--include",
        f"{prefix}-b-*",
        "--include",
        f"{prefix}-admin-*",
    )
    assert chosen.code == 0, chosen.output
    assert "catalog: local-a" in chosen.stdout
    names = sorted(
        line.split(": ", 1)[1] for line in chosen.stdout.splitlines() if "- name: " in line
    )
    assert names == [f"{prefix}-a-one", f"{prefix}-a-three", f"{prefix}-a-two"]
    assert f"note: --include '{prefix}-b-*' matches no image of the project" in chosen.stderr
    assert f"note: --include '{prefix}-admin-*' matches no image of the project" in chosen.stderr

    everything = run_cli("export", "--cloud", "local-a")
    assert everything.code == 0, everything.output
    assert f"{prefix}-a-one" in everything.stdout
    assert f"{prefix}-b-shared" not in everything.stdout
    assert f"{prefix}-admin-public" not in everything.stdout
    manifest = tmp_path / "a.yaml"
    manifest.write_text(everything.stdout)
    assert run_cli("validate", str(manifest)).code == 0

    nothing = run_cli("export", "--cloud", "local-a", "--include", f"{prefix}-none*")
    assert nothing.code == 1
    assert nothing.stdout == ""
    assert nothing.stderr.count("\n") == 1
    assert "matches --include" in nothing.stderr and "nothing was written" in nothing.stderr


@pytest.mark.parametrize(
    ("where", "error"),
    [
        (("--cloud", "no-such-cloud"), "cloud 'no-such-cloud': no such entry in "),
        (
            ("--cloud", "local", "--region", "Nowhere"),
            "cloud 'local': Keystone's catalog has no public image (Glance) endpoint in "
            "region 'Nowhere'",
        ),
    ],
)
def test_an_unknown_cloud_or_region_is_one_line(
    tmp_path: Path, local_cloud: LocalCloud, where: tuple[str, ...], error: str
) -> None:
    out = tmp_path / "never.yaml"
    result = run_cli("export", *where, "-o", str(out))
    assert result.code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(error), result.stderr
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_a_region_is_read_and_named_in_the_header(
    probe: GlanceProbe, made: Made, prefix: str
) -> None:
    made.create(probe, name=f"{prefix}-here", disk_format="raw", container_format="bare")
    result = run_cli(
        "export", "--cloud", "local", "--region", "RegionOne", "--include", f"{prefix}-*"
    )
    assert result.code == 0, result.output
    assert result.stdout.splitlines()[1] == f'# region "RegionOne", project {probe.project_id}.'
    assert f"  - name: {prefix}-here\n" in result.stdout


def test_the_exported_source_is_never_read_but_refused_once_the_image_is_gone(
    tmp_path: Path, probe: GlanceProbe, made: Made, catalog_name: str, prefix: str
) -> None:
    image_id = made.create(
        probe, b"gone" * 100, name=f"{prefix}-gone", disk_format="raw", container_format="bare"
    )
    manifest = tmp_path / "catalog.yaml"
    args = ("--cloud", "local", "--catalog", catalog_name, "--include", f"{prefix}-*")
    assert run_cli("export", *args, "-o", str(manifest)).code == 0
    assert f"url: {probe.connection.image.get_endpoint().rstrip('/')}" in manifest.read_text()
    probe.delete(image_id)
    replan = run_cli("plan", str(manifest), "--cloud", "local")
    assert replan.code == 1
    assert f"/v2/images/{image_id}/file answered HTTP 401" in replan.stdout
    assert "1 conflict (marked !)" in replan.stdout
    assert probe.named(f"{prefix}-gone") == []


def test_several_clouds_export_into_a_folder_each_and_a_failing_one_does_not_stop_them(
    tmp_path: Path, made: Made, prefix: str
) -> None:
    raw = {"disk_format": "raw", "container_format": "bare"}
    made.create(GlanceProbe("local-a"), name=f"{prefix}-in-a", **raw)
    made.create(GlanceProbe("local-b"), name=f"{prefix}-in-b", **raw)
    out = tmp_path / "fleet"
    both = ("--cloud", "local-a", "--cloud", "local-b", "--include", f"{prefix}-*")
    done = run_cli("export", *both, "--out-dir", str(out))
    assert done.code == 0, done.output
    for cloud, name in (("local-a", "in-a"), ("local-b", "in-b")):
        files = list((out / cloud).glob("*.yaml"))
        assert len(files) == 1 and f"name: {prefix}-{name}" in files[0].read_text()
        assert run_cli("validate", str(out / cloud)).code == 0
    assert "several clouds writes a folder per cloud" in run_cli("export", *both).stderr

    again = run_cli("export", *both, "--cloud", "no-such-cloud", "--out-dir", str(tmp_path / "x"))
    assert again.code == 1
    assert "cloud 'no-such-cloud': no such entry" in again.stderr
    assert len(list((tmp_path / "x" / "local-b").glob("*.yaml"))) == 1
