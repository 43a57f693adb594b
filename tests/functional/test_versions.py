"""Versioned images against the real local Glance: four releases rotated with keep 2 (hidden,
deactivated, deleted), rollbacks by pin and by removal, a protected version hidden instead of
deleted, a Glance refusal turned into a hide, and an apply killed between a new version's
upload and its taking the name, finished by the next run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.core.observed import (
    CURRENT_SINCE_PROPERTY,
    RETIRE_REFUSED_PROPERTY,
    VERSION_OF_PROPERTY,
    VERSION_PROPERTY,
)
from reconciler.gateway import GlanceGateway
from tests.functional.support import (
    GlanceProbe,
    apply_local,
    assert_converged,
    kill_apply_when,
    make_disk,
    run_cli,
    serve_folder,
    sha256_of,
    write_manifest,
)

pytestmark = pytest.mark.glance
ONE = ("--parallel", "1")
LABELS = ("20260101", "20260201", "20260301", "20260401")


@pytest.fixture
def releases(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """Four small builds served on 127.0.0.1, one per release label."""
    folder = tmp_path / "served"
    folder.mkdir()
    for seed, label in enumerate(LABELS):
        make_disk(folder / f"{label}.raw", 256 * 1024 + seed, seed)
    with serve_folder(folder) as base_url:
        yield folder, base_url


def manifest(
    folder: Path,
    served: tuple[Path, str],
    name: str,
    labels: tuple[str, ...],
    *,
    retire: str,
    extra: str = "",
) -> Path:
    files, base = served
    versions = "".join(
        f"\n      - version: '{label}'\n        source: {{url: '{base}/{label}.raw', "
        f"checksum: '{sha256_of(files / f'{label}.raw')}'}}"
        for label in labels
    )
    return write_manifest(
        folder,
        f"""\
version: 1
catalog: {name}
defaults: {{disk_format: raw}}
images:
  - name: {name}-ubuntu
    retire: {retire}{extra}
    versions:{versions}
""",
    )


def family(probe: GlanceProbe, catalog: str) -> dict[str, dict[str, object]]:
    """The catalog's images by version label."""
    return {
        str(image[VERSION_PROPERTY]): image
        for image in probe.tagged(f"glance-catalog:{catalog}")
        if image.get(VERSION_OF_PROPERTY) == f"{catalog}-ubuntu"
    }


def test_four_releases_rotate_with_keep_two_and_roll_back(
    tmp_path: Path, probe: GlanceProbe, catalog_name: str, releases: tuple[Path, str]
) -> None:
    plain = f"{catalog_name}-ubuntu"
    hide_then_deactivate = "{keep: 2, superseded: hide, beyond_keep: deactivate}"
    path = manifest(tmp_path, releases, catalog_name, LABELS[:2], retire=hide_then_deactivate)
    code, output = apply_local(path)
    assert code == 0, output
    assert_converged(path)
    images = family(probe, catalog_name)
    assert images[LABELS[1]]["name"] == plain and images[LABELS[1]]["os_hidden"] is False
    assert images[LABELS[1]][CURRENT_SINCE_PROPERTY]
    assert images[LABELS[0]]["name"] == f"{plain} {LABELS[0]}"
    assert images[LABELS[0]]["os_hidden"] is True

    # The third release: it takes the name, the second is hidden, the first deactivated.
    path = manifest(tmp_path, releases, catalog_name, LABELS[:3], retire=hide_then_deactivate)
    plan = run_cli("plan", str(path), "--cloud", "local")
    assert f"{plain} [{LABELS[2]}]: will be renamed" in plan.stdout, plan.output
    code, output = apply_local(path)
    assert code == 0, output
    assert_converged(path)
    images = family(probe, catalog_name)
    assert [image["name"] for image in probe.named(plain)] == [plain]
    assert probe.only(plain)["id"] == images[LABELS[2]]["id"]
    assert images[LABELS[1]]["os_hidden"] is True
    assert images[LABELS[0]]["status"] == "deactivated"

    # The fourth, with deletes past keep: the first two go, counted by --max-delete.
    delete_past_keep = "{keep: 2, superseded: hide, beyond_keep: delete}"
    path = manifest(tmp_path, releases, catalog_name, LABELS, retire=delete_past_keep)
    code, output = apply_local(path, "--max-delete", "1")
    assert code == 1 and "more than --max-delete 1" in output, output
    code, output = apply_local(path)
    assert code == 0, output
    assert_converged(path)
    images = family(probe, catalog_name)
    assert sorted(images) == list(LABELS[2:])
    assert probe.only(plain)["id"] == images[LABELS[3]]["id"]
    assert images[LABELS[2]]["name"] == f"{plain} {LABELS[2]}"

    # Rollback by pin: the name moves back in one apply, nothing is deleted.
    pinned = manifest(
        tmp_path,
        releases,
        catalog_name,
        LABELS,
        retire=delete_past_keep,
        extra=f"\n    current: '{LABELS[2]}'",
    )
    code, output = apply_local(pinned)
    assert code == 0, output
    assert "will be deleted" not in output and ": done (deleted" not in output
    assert ", 0 deleted, " in output.splitlines()[-1]
    assert_converged(pinned)
    images = family(probe, catalog_name)
    assert probe.only(plain)["id"] == images[LABELS[2]]["id"]
    assert images[LABELS[2]]["os_hidden"] is False
    assert images[LABELS[3]]["name"] == f"{plain} {LABELS[3]}"
    assert images[LABELS[3]]["os_hidden"] is True

    # Rollback by removing the newest: it is retired (deleted), the third keeps the name.
    path = manifest(tmp_path, releases, catalog_name, LABELS[:3], retire=delete_past_keep)
    code, output = apply_local(path)
    assert code == 0, output
    assert_converged(path)
    images = family(probe, catalog_name)
    assert sorted(images) == list(LABELS[1:3]) or sorted(images) == [LABELS[2]]
    assert LABELS[3] not in images
    assert probe.only(plain)["id"] == images[LABELS[2]]["id"]


def test_a_protected_version_past_keep_is_hidden_and_reported(
    tmp_path: Path, probe: GlanceProbe, catalog_name: str, releases: tuple[Path, str]
) -> None:
    retire = "{keep: 1, beyond_keep: delete}"
    extra = "\n    protected: true"
    path = manifest(tmp_path, releases, catalog_name, LABELS[:1], retire=retire, extra=extra)
    code, output = apply_local(path)
    assert code == 0, output
    path = manifest(tmp_path, releases, catalog_name, LABELS[:2], retire=retire, extra=extra)
    code, output = apply_local(path)
    assert code == 0, output
    images = family(probe, catalog_name)
    assert images[LABELS[0]]["os_hidden"] is True
    assert images[LABELS[0]]["protected"] is True
    replan = run_cli("plan", str(path), "--cloud", "local", "--detailed-exitcode")
    assert replan.code == 0, replan.output
    assert "it is protected; unprotect it to let rotation delete it" in replan.stdout


def test_a_delete_glance_refuses_hides_the_version_and_records_why(
    probe: GlanceProbe, catalog_name: str, local_cloud: object
) -> None:
    image = probe.create(name=f"{catalog_name}-refused", tags=[f"glance-catalog:{catalog_name}"])
    probe.patch(str(image["id"]), [{"op": "replace", "path": "/protected", "value": True}])
    try:
        refused = GlanceGateway("local").retire(str(image["id"]))
        assert refused is not None and refused.startswith("HTTP 403"), refused
        after = probe.show(str(image["id"]))
        assert after["os_hidden"] is True
        assert after[RETIRE_REFUSED_PROPERTY] == refused
    finally:
        probe.patch(str(image["id"]), [{"op": "replace", "path": "/protected", "value": False}])
    assert GlanceGateway("local").retire(str(image["id"])) is None
    assert probe.named(f"{catalog_name}-refused") == []


def test_an_apply_killed_before_the_name_moves_is_finished_by_the_next_one(
    tmp_path: Path, probe: GlanceProbe, catalog_name: str, releases: tuple[Path, str]
) -> None:
    plain = f"{catalog_name}-ubuntu"
    retire = "{superseded: hide}"
    path = manifest(tmp_path, releases, catalog_name, LABELS[:1], retire=retire)
    code, output = apply_local(path)
    assert code == 0, output
    path = manifest(tmp_path, releases, catalog_name, LABELS[:2], retire=retire)
    kill_apply_when(path, lambda line: ": upload " in line and ": done" in line, *ONE)
    # Whatever the kill interrupted, the name is held by an image with data.
    holders = probe.named(plain)
    assert holders and all(image["status"] == "active" for image in holders)
    code, output = apply_local(path)
    assert code == 0, output
    assert_converged(path)
    images = family(probe, catalog_name)
    assert probe.only(plain)["id"] == images[LABELS[1]]["id"]
    assert images[LABELS[0]]["name"] == f"{plain} {LABELS[0]}"
    assert images[LABELS[0]]["os_hidden"] is True
