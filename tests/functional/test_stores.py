"""Glance multi-store against a real multi-store Glance (file stores fast and archive): new
data goes to the first store named and is copied to the others, stores no longer named lose
their copy, never the last one (neither when a copy fails nor when asked directly), unknown
stores and a Glance without multi-store are errors before any change."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.errors import CloudError
from reconciler.gateway import GlanceGateway
from tests.functional.support import (
    CliResult,
    GlanceProbe,
    assert_converged,
    make_disk,
    raw_catalog,
    run_cli,
    serve_folder,
    sha256_of,
    step_line,
)
from tests.localcloud.multistore import ExtraGlance

pytestmark = pytest.mark.glance


@pytest.fixture
def sprobe(stores_glance: ExtraGlance) -> GlanceProbe:
    """The multi-store Glance as the admin project."""
    return GlanceProbe("local", stores_glance.clouds_yaml)


@pytest.fixture
def scatalog(sprobe: GlanceProbe) -> Iterator[str]:
    """A catalog name unique to one test; its images in the multi-store Glance go after."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    yield name
    sprobe.delete_tagged(f"glance-catalog:{name}")


def cli(glance: ExtraGlance, *args: str) -> CliResult:
    """glance-catalog ARGS against ``glance`` (its clouds.yaml, cloud local)."""
    env = {"OS_CLIENT_CONFIG_FILE": str(glance.clouds_yaml)}
    return run_cli(*args, "--cloud", "local", env=env)


def apply(glance: ExtraGlance, manifest: Path) -> CliResult:
    return cli(glance, "apply", str(manifest), "--auto-approve")


def stores_of(image: dict[str, Any]) -> set[str]:
    return set(filter(None, str(image.get("stores") or "").split(",")))


def on_disk(glance: ExtraGlance, image_id: str) -> set[str]:
    """The stores whose folder holds a file of the image's data."""
    return {store for store, folder in glance.store_dirs.items() if (folder / image_id).exists()}


def test_an_image_is_copied_to_its_stores_then_removed_from_those_no_longer_named(
    tmp_path: Path, stores_glance: ExtraGlance, sprobe: GlanceProbe, scatalog: str
) -> None:
    make_disk(tmp_path / "d.raw", 64 * 1024 + 3, 1)
    name = f"{scatalog}-a"
    fields = {"a": ", source: {file: d.raw}, stores: [fast, archive]"}
    manifest = raw_catalog(tmp_path, scatalog, fields)
    planned = cli(stores_glance, "plan", str(manifest))
    assert (
        f"  ^ {name}: data will be uploaded from {tmp_path}/d.raw into store fast\n"
        f"  + {name}: data will be copied to store archive\n"
        '      ~ stores: ["fast"] -> ["archive", "fast"]\n'
    ) in planned.output
    done = apply(stores_glance, manifest)
    assert done.code == 0, done.output
    image = sprobe.only(name)
    assert stores_of(image) == {"fast", "archive"}
    assert on_disk(stores_glance, image["id"]) == {"fast", "archive"}
    (copy,) = [
        task
        for task in sprobe._call("GET", f"/images/{image['id']}/tasks")["tasks"]
        if task["input"]["import_req"]["method"]["name"] == "copy-image"
    ]
    assert (copy["status"], copy["input"]["backend"]) == ("success", ["archive"])
    assert_converged(manifest, clouds_yaml=stores_glance.clouds_yaml)

    raw_catalog(tmp_path, scatalog, {"a": ", source: {file: d.raw}, stores: [archive]"})
    removed = apply(stores_glance, manifest)
    assert removed.code == 0, removed.output
    assert f"{name}: remove_from_store {image['id']}: done (removed from fast" in removed.output
    image = sprobe.only(name)
    assert stores_of(image) == {"archive"} and on_disk(stores_glance, image["id"]) == {"archive"}
    assert_converged(manifest, clouds_yaml=stores_glance.clouds_yaml)

    # A saved plan goes stale when the image's stores change.
    raw_catalog(tmp_path, scatalog, {"a": ", source: {file: d.raw}, stores: [fast]"})
    saved = cli(stores_glance, "plan", str(manifest), "-o", str(tmp_path / "plan.json"))
    assert f"  + {name}: data will be copied to store fast ({image['id']})" in saved.output
    sprobe._call(
        "POST",
        f"/images/{image['id']}/import",
        json={"method": {"name": "copy-image"}, "stores": ["fast"]},
    )
    deadline = time.monotonic() + 60
    while stores_of(sprobe.show(image["id"])) != {"archive", "fast"}:
        assert time.monotonic() < deadline, sprobe.show(image["id"])
        time.sleep(0.2)
    env = {"OS_CLIENT_CONFIG_FILE": str(stores_glance.clouds_yaml)}
    stale = run_cli("apply", str(tmp_path / "plan.json"), env=env)
    assert stale.code == 1 and "plan is stale" in stale.output, stale.output
    finished = apply(stores_glance, manifest)
    assert finished.code == 0, finished.output
    assert "copy_to_store" not in finished.output
    assert stores_of(sprobe.only(name)) == {"fast"}
    assert on_disk(stores_glance, image["id"]) == {"fast"}

    # Moving to another store copies first, then removes.
    raw_catalog(tmp_path, scatalog, {"a": ", source: {file: d.raw}, stores: [archive]"})
    moved = apply(stores_glance, manifest)
    assert moved.code == 0, moved.output
    assert moved.output.index("copy_to_store") < moved.output.index("remove_from_store")
    assert stores_of(sprobe.only(name)) == {"archive"}
    assert on_disk(stores_glance, image["id"]) == {"archive"}
    assert_converged(manifest, clouds_yaml=stores_glance.clouds_yaml)


def test_web_download_imports_into_the_first_store_named(
    tmp_path: Path, stores_glance: ExtraGlance, sprobe: GlanceProbe, scatalog: str
) -> None:
    served = tmp_path / "served"
    served.mkdir()
    make_disk(served / "w.raw", 32 * 1024, 2)
    checksum = sha256_of(served / "w.raw")
    with serve_folder(served) as base:
        source = f'{{url: "{base}/w.raw", checksum: "{checksum}", method: web-download}}'
        manifest = raw_catalog(
            tmp_path,
            scatalog,
            {"w": f", source: {source}, stores: [archive]", "v": f", source: {source}"},
        )
        done = apply(stores_glance, manifest)
    assert done.code == 0, done.output
    image = sprobe.only(f"{scatalog}-w")
    assert stores_of(image) == {"archive"} and on_disk(stores_glance, image["id"]) == {"archive"}
    # An image without stores goes where Glance puts it: its default store, fast.
    assert stores_of(sprobe.only(f"{scatalog}-v")) == {"fast"}
    assert_converged(manifest, clouds_yaml=stores_glance.clouds_yaml)


def test_a_failed_copy_keeps_the_only_copy_and_the_next_run_finishes_the_move(
    tmp_path: Path, stores_glance: ExtraGlance, sprobe: GlanceProbe, scatalog: str
) -> None:
    make_disk(tmp_path / "d.raw", 16 * 1024, 3)
    name = f"{scatalog}-a"
    manifest = raw_catalog(tmp_path, scatalog, {"a": ", source: {file: d.raw}, stores: [fast]"})
    assert apply(stores_glance, manifest).code == 0
    image_id = sprobe.only(name)["id"]
    # Stray data under the image's id in archive: Glance's file store refuses to write over
    # it (Duplicate), so every copy to archive fails.
    stray = stores_glance.store_dirs["archive"] / image_id
    stray.write_bytes(b"stray")
    try:
        raw_catalog(tmp_path, scatalog, {"a": ", source: {file: d.raw}, stores: [archive]"})
        failed = apply(stores_glance, manifest)
        assert failed.code == 1, failed.output
        copy = step_line(failed.output, name, "copy_to_store")
        assert "failed (Glance could not copy its data to archive: " in copy
        assert f"{name}: remove_from_store {image_id}: skipped" in failed.output
        last = failed.output.splitlines()[-1]
        assert last.startswith("Apply incomplete: 0 created, 0 updated, 0 replaced"), last
        assert last.endswith(f"; 1 image failed ({name}); steps: 0 done, 1 failed, 1 skipped.")
        image = sprobe.only(name)
        assert image["status"] == "active" and stores_of(image) == {"fast"}
        assert (stores_glance.store_dirs["fast"] / image_id).stat().st_size == 16 * 1024
    finally:
        stray.unlink()
    again = apply(stores_glance, manifest)
    assert again.code == 0, again.output
    assert stores_of(sprobe.only(name)) == {"archive"}
    assert_converged(manifest, clouds_yaml=stores_glance.clouds_yaml)


def test_the_gateway_refuses_to_remove_the_last_copy_as_glance_does(
    tmp_path: Path,
    stores_glance: ExtraGlance,
    sprobe: GlanceProbe,
    scatalog: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_disk(tmp_path / "d.raw", 4096, 4)
    manifest = raw_catalog(tmp_path, scatalog, {"a": ", source: {file: d.raw}, stores: [fast]"})
    assert apply(stores_glance, manifest).code == 0
    name = f"{scatalog}-a"
    image_id = sprobe.only(name)["id"]
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(stores_glance.clouds_yaml))
    gateway = GlanceGateway("local")
    try:
        with pytest.raises(CloudError) as refused:
            gateway.remove_from_store(image_id, name, "fast")
        assert refused.value.lines == (
            f"image '{name}': removing its data from store fast: refused: it is the image's "
            "only copy of its data (stores: fast)",
            "copy the data to another store first, or delete the image",
        )
        # Data not in a store is removed already: nothing to do.
        gateway.remove_from_store(image_id, name, "archive")
        gateway.copy_to_stores(image_id, name, ("archive",))
        gateway.remove_from_store(image_id, name, "fast")
    finally:
        gateway.close()
    image = sprobe.only(name)
    assert stores_of(image) == {"archive"} and on_disk(stores_glance, image_id) == {"archive"}
    # Glance refuses it too.
    response = sprobe.connection.image.request(f"/stores/archive/{image_id}", "DELETE")
    assert response.status_code == 403 and "only store" in response.text


def test_an_unknown_store_fails_the_plan_and_apply_changes_nothing(
    tmp_path: Path, stores_glance: ExtraGlance, sprobe: GlanceProbe, scatalog: str
) -> None:
    make_disk(tmp_path / "d.raw", 4096, 5)
    manifest = raw_catalog(
        tmp_path,
        scatalog,
        {
            "a": ", source: {file: d.raw}, stores: [fast, archiv]",
            "b": ", source: {file: d.raw}",
        },
    )
    planned = cli(stores_glance, "plan", str(manifest))
    assert planned.code == 1, planned.output
    assert (
        f"  ! {manifest}:5:5: image '{scatalog}-a': stores: store 'archiv' unknown to this "
        "Glance, which offers archive, fast (hint: name only stores that GET /v2/info/stores "
        "lists; nothing was changed)"
    ) in planned.output
    assert "1 conflict (marked !): the plan cannot be applied" in planned.stdout
    assert planned.stderr.splitlines()[-1] == (
        "the plan has 1 conflict: it cannot be applied until they are resolved"
    )
    applied = apply(stores_glance, manifest)
    assert applied.code == 1 and "the plan has conflicts; nothing was changed" in applied.output
    assert sprobe.tagged(f"glance-catalog:{scatalog}") == []


def test_stores_on_a_glance_without_those_stores_is_a_clear_error(
    tmp_path: Path, single_store_glance: ExtraGlance, probe: GlanceProbe, catalog_name: str
) -> None:
    make_disk(tmp_path / "d.raw", 4096, 6)
    manifest = raw_catalog(tmp_path, catalog_name, {"a": ", source: {file: d.raw}, stores: [fast]"})
    planned = cli(single_store_glance, "plan", str(manifest))
    assert planned.code == 1, planned.output
    assert (
        f"image '{catalog_name}-a': stores: this Glance has no multi-store backends, so it "
        "cannot place the image in fast (hint: remove stores: from the manifest, or enable "
        "Glance's multi-store (enabled_backends); nothing was changed)"
    ) in planned.output
    # The default local Glance has one store, fs.
    default = run_cli("apply", str(manifest), "--cloud", "local", "--auto-approve")
    assert default.code == 1, default.output
    assert "store 'fast' unknown to this Glance, which offers fs" in default.output
    assert probe.named(f"{catalog_name}-a") == []
