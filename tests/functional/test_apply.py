"""The CLI against the real local Glance: every action kind, convergence, and ownership."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.functional.support import (
    GlanceProbe,
    assert_converged,
    make_disk,
    run_cli,
    run_on_terminal,
    serve_folder,
    sha256_of,
    write_manifest,
)
from tests.localcloud import releases

pytestmark = pytest.mark.glance


@pytest.fixture
def names(probe: GlanceProbe) -> Iterator[dict[str, str]]:
    """Image and catalog names unique to one test; the images are deleted afterwards."""
    suffix = uuid.uuid4().hex[:8]
    chosen = {key: f"{key}-{suffix}" for key in ("file", "url", "reserved", "retired", "extra")}
    chosen["catalog"] = f"t-{suffix}"
    yield chosen
    probe.delete_named(*(value for key, value in chosen.items() if key != "catalog"))


@pytest.fixture
def sources(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    folder = tmp_path / "sources"
    folder.mkdir()
    make_disk(folder / "a.raw", 300_000, 1)
    make_disk(folder / "b.raw", 2 * 1024 * 1024 + 17, 2)
    with serve_folder(folder) as base_url:
        yield folder, base_url


def full_manifest(names: dict[str, str], folder: Path, base_url: str, **changes: str) -> str:
    return f"""
        version: 1
        catalog: {names["catalog"]}
        defaults:
          disk_format: raw
          tags: [test]
          properties: {{hw_disk_bus: virtio}}
        images:
          - name: {names["file"]}
            source: {{file: {folder / "a.raw"}, checksum: "{sha256_of(folder / "a.raw")}"}}
            visibility: {changes.get("visibility", "public")}
            protected: {changes.get("protected", "true")}
            min_disk: {changes.get("min_disk", "1")}
            min_ram: {changes.get("min_ram", "128")}
            tags: [{changes.get("tags", "lts")}]
            properties:
              os_distro: ubuntu
              os_version: "{changes.get("os_version", "24.04")}"
              {changes.get("extra_property", "hw_rng_model: virtio")}
          - name: {names["url"]}
            source:
              url: {base_url}/b.raw
              checksum: "{sha256_of(folder / "b.raw")}"
            hidden: {changes.get("hidden", "false")}
            state: {changes.get("url_state", "active")}
          - name: {names["reserved"]}
            min_ram: 64
            state: {changes.get("reserved_state", "active")}
    """


def test_apply_creates_every_kind_of_image_and_a_second_plan_is_empty(
    tmp_path: Path, probe: GlanceProbe, names: dict[str, str], sources: tuple[Path, str]
) -> None:
    folder, base_url = sources
    manifest = write_manifest(tmp_path, full_manifest(names, folder, base_url))

    planned = run_cli("plan", str(manifest), "--cloud", "local", "--json")
    assert planned.code == 0, planned.output
    kinds = [(a["action"], a["image"]) for a in json.loads(planned.stdout)["actions"]]
    assert kinds == sorted(
        [
            ("reserve", names["file"]),
            ("reserve", names["url"]),
            ("reserve", names["reserved"]),
            ("upload", names["file"]),
            ("upload", names["url"]),
        ],
        key=lambda pair: (["reserve", "upload"].index(pair[0]), pair[1]),
    )
    assert probe.named(names["file"]) == []

    applied = run_cli("apply", str(manifest), "--cloud", "local", "--auto-approve")
    assert applied.code == 0, applied.output
    assert (
        "Apply complete: 3 created, 0 updated, 0 replaced, 0 deleted, 0 member changes; "
        "5 steps done."
    ) in applied.stdout

    file_image = probe.only(names["file"])
    assert file_image["status"] == "active"
    assert file_image["visibility"] == "public"
    assert file_image["protected"] is True
    assert (file_image["min_disk"], file_image["min_ram"]) == (1, 128)
    assert set(file_image["tags"]) == {"lts", "test", f"glance-catalog:{names['catalog']}"}
    assert file_image["os_distro"] == "ubuntu" and file_image["os_version"] == "24.04"
    assert file_image["hw_disk_bus"] == "virtio" and file_image["hw_rng_model"] == "virtio"
    assert (
        file_image["os_hash_value"] == hashlib.sha512((folder / "a.raw").read_bytes()).hexdigest()
    )
    url_image = probe.only(names["url"])
    assert url_image["status"] == "active" and url_image["size"] == 2 * 1024 * 1024 + 17
    assert url_image["visibility"] == "private"
    assert probe.only(names["reserved"])["status"] == "queued"

    again = run_cli("plan", str(manifest), "--cloud", "local", "--detailed-exitcode")
    assert again.code == 0, again.output
    assert "No changes." in again.stdout


def test_every_field_change_and_state_change_converges(
    tmp_path: Path, probe: GlanceProbe, names: dict[str, str], sources: tuple[Path, str]
) -> None:
    folder, base_url = sources
    manifest = write_manifest(tmp_path, full_manifest(names, folder, base_url))
    assert run_cli("apply", str(manifest), "--cloud", "local", "--auto-approve").code == 0
    image_id = probe.only(names["file"])["id"]
    probe.patch(image_id, [{"op": "add", "path": "/note_by_hand", "value": "keep me"}])

    write_manifest(
        tmp_path,
        full_manifest(
            names,
            folder,
            base_url,
            visibility="community",
            protected="false",
            min_disk="4",
            min_ram="2048",
            tags="stable",
            os_version="24.04.1",
            extra_property="architecture: x86_64",
            hidden="true",
            url_state="deactivated",
        ),
    )
    planned = run_cli("plan", str(manifest), "--cloud", "local", "--json", "--detailed-exitcode")
    assert planned.code == 2, planned.output
    actions = json.loads(planned.stdout)["actions"]
    update = next(a for a in actions if a["action"] == "update" and a["image"] == names["file"])
    changes = {c["path"]: (c["before"], c["after"]) for c in update["changes"]}
    assert changes["visibility"] == ("public", "community")
    assert changes["protected"] == (True, False)
    assert changes["min_disk"] == (1, 4)
    assert changes["min_ram"] == (128, 2048)
    assert changes["properties.os_version"] == ("24.04", "24.04.1")
    assert changes["properties.architecture"] == (None, "x86_64")
    assert changes["properties.hw_rng_model"] == ("virtio", None)
    assert "properties.note_by_hand" not in changes
    marker = f"glance-catalog:{names['catalog']}"
    assert changes["tags"] == (sorted(["lts", "test", marker]), sorted(["stable", "test", marker]))
    assert ("deactivate", names["url"]) in [(a["action"], a["image"]) for a in actions]

    human = run_cli("plan", str(manifest), "--cloud", "local")
    assert f"~ {names['file']}: will be updated in place ({image_id})" in human.stdout
    assert "~ min_ram: 128 -> 2048" in human.stdout
    assert '- properties.hw_rng_model: "virtio"' in human.stdout
    assert (
        "Plan: 0 to create, 2 to update, 0 to replace, 0 to delete, 0 member changes."
    ) in human.stdout

    applied = run_cli("apply", str(manifest), "--cloud", "local", "--auto-approve")
    assert applied.code == 0, applied.output
    image = probe.show(image_id)
    assert image["visibility"] == "community" and image["protected"] is False
    assert (image["min_disk"], image["min_ram"]) == (4, 2048)
    assert image["os_version"] == "24.04.1" and image["architecture"] == "x86_64"
    assert "hw_rng_model" not in image
    assert image["note_by_hand"] == "keep me"
    url_image = probe.only(names["url"])
    assert url_image["status"] == "deactivated" and url_image["os_hidden"] is True
    assert run_cli("plan", str(manifest), "--cloud", "local", "--detailed-exitcode").code == 0

    write_manifest(tmp_path, full_manifest(names, folder, base_url, hidden="true"))
    reactivated = run_cli("apply", str(manifest), "--cloud", "local", "--auto-approve")
    assert reactivated.code == 0, reactivated.output
    assert probe.only(names["url"])["status"] == "active"
    assert run_cli("plan", str(manifest), "--cloud", "local", "--detailed-exitcode").code == 0


def test_drift_made_by_hand_is_reported_and_reverted(
    tmp_path: Path, probe: GlanceProbe, names: dict[str, str], sources: tuple[Path, str]
) -> None:
    folder, base_url = sources
    manifest = write_manifest(tmp_path, full_manifest(names, folder, base_url))
    assert run_cli("apply", str(manifest), "--cloud", "local", "--auto-approve").code == 0
    image_id = probe.only(names["file"])["id"]
    probe.patch(
        image_id,
        [
            {"op": "replace", "path": "/os_distro", "value": "debian"},
            {"op": "replace", "path": "/min_ram", "value": 1},
            {
                "op": "replace",
                "path": "/tags",
                "value": ["lts", "intruder", f"glance-catalog:{names['catalog']}"],
            },
        ],
    )
    probe.action(probe.only(names["url"])["id"], "deactivate")

    drift = run_cli("plan", str(manifest), "--cloud", "local", "--detailed-exitcode")
    assert drift.code == 2, drift.output
    assert '~ properties.os_distro: "debian" -> "ubuntu"' in drift.stdout
    assert "~ min_ram: 1 -> 128" in drift.stdout
    assert f"~ {names['url']}: will be reactivated" in drift.stdout
    marker = f"glance-catalog:{names['catalog']}"
    # The marker tag is glance-catalog's bookkeeping: hidden unless -v.
    assert '~ tags: ["intruder", "lts"] -> ["lts", "test"]' in drift.stdout
    assert marker not in drift.stdout.replace(f"tag {marker});", "")
    verbose = run_cli("plan", str(manifest), "--cloud", "local", "-v")
    assert f'~ tags: ["{marker}", "intruder", "lts"] -> ["{marker}", "lts", "test"]' in (
        verbose.stdout
    )
    assert "-v shows it" not in verbose.stdout

    assert run_cli("apply", str(manifest), "--cloud", "local", "--auto-approve").code == 0
    image = probe.show(image_id)
    assert image["os_distro"] == "ubuntu" and image["min_ram"] == 128
    assert set(image["tags"]) == {"lts", "test", f"glance-catalog:{names['catalog']}"}
    assert probe.only(names["url"])["status"] == "active"
    assert run_cli("plan", str(manifest), "--cloud", "local", "--detailed-exitcode").code == 0


def test_absent_deletes_a_protected_managed_image(
    tmp_path: Path, probe: GlanceProbe, names: dict[str, str], sources: tuple[Path, str]
) -> None:
    folder, base_url = sources
    manifest = write_manifest(tmp_path, full_manifest(names, folder, base_url))
    assert run_cli("apply", str(manifest), "--cloud", "local", "--auto-approve").code == 0
    text = manifest.read_text().replace(
        "visibility: public\n", "visibility: public\n    state: absent\n"
    )
    manifest.write_text(text)
    planned = run_cli("plan", str(manifest), "--cloud", "local")
    assert f"- {names['file']}: will be deleted" in planned.stdout
    assert "~ protected: true -> false" in planned.stdout
    assert (
        "Plan: 0 to create, 0 to update, 0 to replace, 1 to delete, 0 member changes."
    ) in planned.stdout
    applied = run_cli("apply", str(manifest), "--cloud", "local", "--auto-approve")
    assert applied.code == 0, applied.output
    assert probe.named(names["file"]) == []
    assert run_cli("plan", str(manifest), "--cloud", "local", "--detailed-exitcode").code == 0


def test_an_unmanaged_image_is_never_touched(
    tmp_path: Path, probe: GlanceProbe, names: dict[str, str]
) -> None:
    by_hand = probe.create(
        name=names["file"],
        disk_format="raw",
        container_format="bare",
        visibility="private",
        min_ram=7,
    )
    other = probe.create(name=names["extra"], disk_format="raw", container_format="bare")
    manifest = write_manifest(
        tmp_path,
        f"""
        version: 1
        catalog: {names["catalog"]}
        images:
          - {{name: {names["file"]}, disk_format: raw, min_ram: 64}}
          - {{name: {names["extra"]}, state: absent}}
    """,
    )
    planned = run_cli("plan", str(manifest), "--cloud", "local")
    assert planned.code == 1
    assert f"not managed by this catalog: {by_hand['id']}" in planned.stdout
    applied = run_cli("apply", str(manifest), "--cloud", "local", "--auto-approve")
    assert applied.code == 1
    assert "the plan has conflicts; nothing was changed" in applied.stderr
    assert probe.show(by_hand["id"]) == by_hand
    assert probe.show(other["id"]) == other


def test_a_checksum_mismatch_never_leaves_an_active_image(
    tmp_path: Path, probe: GlanceProbe, names: dict[str, str], sources: tuple[Path, str]
) -> None:
    folder, base_url = sources
    wrong = "sha256:" + "0" * 64
    manifest = write_manifest(
        tmp_path,
        f"""
        version: 1
        catalog: {names["catalog"]}
        images:
          - name: {names["url"]}
            disk_format: raw
            source: {{url: "{base_url}/b.raw", checksum: "{wrong}"}}
          - name: {names["file"]}
            disk_format: raw
            source: {{file: {folder / "a.raw"}}}
          - name: {names["extra"]}
            disk_format: raw
            source: {{url: "{base_url}/vanishing/b.raw", checksum: "{wrong}"}}
    """,
    )
    applied = run_cli("apply", str(manifest), "--cloud", "local", "--auto-approve")
    assert applied.code == 1, applied.output
    # Each step line names its image once, at its start.
    assert (
        f"{names['url']}: upload {probe.only(names['url'])['id']}: failed (checksum mismatch "
        f"for {base_url}/b.raw: expected {wrong}, got {sha256_of(folder / 'b.raw')}"
    ) in applied.stdout
    assert f": failed ({base_url}/vanishing/b.raw answered HTTP 404" in applied.stdout
    assert f"image '{names['url']}'" not in applied.stdout
    assert "Apply incomplete:" in applied.stdout
    assert probe.only(names["url"])["status"] == "queued"
    assert probe.only(names["extra"])["status"] == "queued"
    assert probe.only(names["file"])["status"] == "active"
    retry = run_cli("plan", str(manifest), "--cloud", "local", "--json")
    assert [(a["action"], a["image"]) for a in json.loads(retry.stdout)["actions"]] == sorted(
        [("upload", names["extra"]), ("upload", names["url"])], key=lambda pair: pair[1]
    )


def test_web_download_lets_glance_pull_and_verifies(
    tmp_path: Path, probe: GlanceProbe, names: dict[str, str], sources: tuple[Path, str]
) -> None:
    folder, base_url = sources
    manifest = write_manifest(
        tmp_path,
        f"""
        version: 1
        catalog: {names["catalog"]}
        images:
          - name: {names["url"]}
            disk_format: raw
            source:
              url: {base_url}/b.raw
              checksum: "{sha256_of(folder / "b.raw")}"
              method: web-download
    """,
    )
    applied = run_cli("apply", str(manifest), "--cloud", "local", "--auto-approve")
    assert applied.code == 0, applied.output
    image = probe.only(names["url"])
    assert image["status"] == "active"
    assert image["os_hash_value"] == hashlib.sha512((folder / "b.raw").read_bytes()).hexdigest()
    assert run_cli("plan", str(manifest), "--cloud", "local", "--detailed-exitcode").code == 0


def test_apply_without_a_terminal_refuses_unless_auto_approved(
    tmp_path: Path, probe: GlanceProbe, names: dict[str, str]
) -> None:
    manifest = write_manifest(
        tmp_path,
        f"""
        version: 1
        catalog: {names["catalog"]}
        images: [{{name: {names["reserved"]}, disk_format: raw}}]
    """,
    )
    refused = run_cli("apply", str(manifest), "--cloud", "local")
    assert refused.code == 1
    assert (
        "refusing to apply: standard input is not a terminal; pass --auto-approve" in refused.stderr
    )
    assert probe.named(names["reserved"]) == []
    with_env = run_cli("apply", str(manifest), "--auto-approve", env={"OS_CLOUD": "local"})
    assert with_env.code == 0, with_env.output
    assert probe.only(names["reserved"])["status"] == "queued"


def test_data_glance_refuses_is_reported_and_the_image_stays_queued(
    tmp_path: Path, probe: GlanceProbe, names: dict[str, str]
) -> None:
    # A boot-sector signature over random partition entries fails Glance's raw safety check.
    disk = bytearray(make_disk(tmp_path / "bad.raw", 64 * 1024, 3).read_bytes())
    disk[510:512] = b"\x55\xaa"
    (tmp_path / "bad.raw").write_bytes(bytes(disk))
    manifest = write_manifest(
        tmp_path,
        f"""
        version: 1
        catalog: {names["catalog"]}
        images:
          - {{name: {names["file"]}, disk_format: raw, source: {{file: bad.raw}}}}
          - {{name: {names["reserved"]}, disk_format: raw}}
    """,
    )
    applied = run_cli("apply", str(manifest), "--cloud", "local", "--auto-approve")
    assert f"{names['file']}: upload " in applied.stdout
    assert probe.only(names["reserved"])["status"] == "queued"
    if not releases.selected().refuses_unsafe_data:
        # Glance 28 stores it: the upload is verified against the manifest's data, and done.
        assert applied.code == 0, applied.output
        assert probe.only(names["file"])["status"] == "active"
        assert_converged(manifest)
        return
    assert applied.code == 1, applied.output
    assert ": failed (upload answered HTTP 415: " in applied.stdout
    assert "Image failed safety checks" in applied.stdout
    assert "<html>" not in applied.stdout
    assert probe.only(names["file"])["status"] == "queued"


def test_apply_on_a_terminal_asks_and_only_yes_applies(
    tmp_path: Path, probe: GlanceProbe, names: dict[str, str]
) -> None:
    manifest = write_manifest(
        tmp_path,
        f"""
        version: 1
        catalog: {names["catalog"]}
        images: [{{name: {names["reserved"]}, disk_format: raw}}]
    """,
    )
    args = ["apply", str(manifest), "--cloud", "local"]
    code, output = run_on_terminal(args, "no")
    assert code == 1, output
    assert "apply cancelled; nothing was changed" in output
    assert probe.named(names["reserved"]) == []
    code, output = run_on_terminal(args, "yes")
    assert code == 0, output
    assert "Apply complete: 1 created, 0 updated, 0 replaced, 0 deleted, 0 member" in output
    assert "; 1 step done." in output
    assert probe.only(names["reserved"])["status"] == "queued"


def test_a_terminal_gets_a_progress_bar_per_upload_and_colour(
    tmp_path: Path, probe: GlanceProbe, names: dict[str, str]
) -> None:
    folder = tmp_path / "served"
    folder.mkdir()
    disk = make_disk(folder / "disk.raw", 4 * 1024 * 1024, 5)
    with serve_folder(folder) as base_url:
        manifest = write_manifest(
            tmp_path,
            f"""
            version: 1
            catalog: {names["catalog"]}
            defaults: {{disk_format: raw}}
            images:
              - name: {names["url"]}
                source: {{url: "{base_url}/slow/disk.raw", checksum: "{sha256_of(disk)}"}}
            """,
        )
        args = ["apply", str(manifest), "--cloud", "local", "--auto-approve"]
        code, output = run_on_terminal(args, "")
    assert code == 0, output
    assert "/4.0 MiB" in output and "MB/s" in output  # rich's DownloadColumn and speed
    assert "upload started" not in output  # the log lines are for non-terminals
    assert "\x1b[32m" in output  # green: colour only on a terminal
    assert probe.only(names["url"])["status"] == "active"
