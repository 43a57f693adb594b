"""The glance-download source: schema and checks (positioned errors with hints), the model, the
plan (its data step, text and JSON), preflight and apply's dispatch, and the gateway's pure
parts (which image in the other region is pulled from, what the import changed)."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from catalog.load import check_catalog, load_catalog
from catalog.model import Compression, ImageSource, TransferMethod
from catalog.schema import is_valid, validator
from reconciler.core.actions import ActionKind, FieldChange
from reconciler.core.observed import SOURCE_PROPERTY, VERSION_OF_PROPERTY
from reconciler.core.plan import Plan
from reconciler.core.planner import make_plan
from reconciler.core.results import Outcome
from reconciler.errors import CloudError
from reconciler.executor import apply_plan
from reconciler.gateway import pull
from reconciler.preflight import preflight
from reconciler.report.text import render_plan
from tests.unit.builders import MARKER, SHA, catalog, desired, observed_like, snapshot
from tests.unit.reconciler.test_executor import RecordingWriter

PULLED = ImageSource(
    url=None, file=None, checksum=SHA, method=TransferMethod.GLANCE_DOWNLOAD, region="RegionOne"
)


def manifest(folder: Path, source: str) -> Path:
    path = folder / "m.yaml"
    text = f"""
        version: 1
        catalog: c
        images:
          - name: a
            disk_format: raw
            source: {source}
        """
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def test_a_glance_download_needs_neither_url_nor_file_and_keeps_them_when_given(
    tmp_path: Path,
) -> None:
    alone = load_catalog(
        [manifest(tmp_path, f"{{method: glance-download, region: RegionOne, checksum: '{SHA}'}}")]
    )
    assert alone.images[0].source == PULLED
    assert alone.images[0].source.location == "region RegionOne"
    kept = load_catalog(
        [
            manifest(
                tmp_path,
                f"{{url: 'https://h/a.img', method: glance-download, region: R1, "
                f"checksum: '{SHA}'}}",
            )
        ]
    )
    source = kept.images[0].source
    assert source is not None
    assert (source.url, source.region, source.method) == (
        "https://h/a.img",
        "R1",
        TransferMethod.GLANCE_DOWNLOAD,
    )


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            f"{{method: glance-download, checksum: '{SHA}'}}",
            "m.yaml:6:22: image 'a': source.method: glance-download needs region (hint: add "
            "region: the region whose Glance already holds this image",
        ),
        (
            f"{{url: 'https://h/a', region: RegionOne, checksum: '{SHA}'}}",
            "m.yaml:6:34: image 'a': source.region: region needs method: glance-download (hint: "
            "region names the region Glance pulls the image from; add method: glance-download, "
            "or remove region)",
        ),
        (
            f"{{url: 'https://h/a', method: web-download, region: R, checksum: '{SHA}'}}",
            "m.yaml:6:56: image 'a': source.region: region needs method: glance-download",
        ),
        (
            "{method: glance-download, region: RegionOne}",
            "m.yaml:6:22: image 'a': source.method: glance-download needs a checksum (hint: add "
            "checksum: sha256:<hex>",
        ),
        (
            "{method: glance-download, region: R, checksum_url: 'https://h/SUMS'}",
            "m.yaml:6:50: image 'a': source.checksum_url: nothing names the entry to look up",
        ),
        (
            f"{{method: glance-download, region: '', checksum: '{SHA}'}}",
            "m.yaml:6:47: image 'a': source.region: must not be empty",
        ),
        (f"{{checksum: '{SHA}'}}", "m.yaml:6:13: image 'a': source: give one of url and file"),
        (
            "{method: glance-dl, region: R}",
            "source.method: 'glance-dl' is not one of upload, web-download, glance-download",
        ),
    ],
)
def test_glance_download_rules_are_positioned_errors_with_hints(
    tmp_path: Path, source: str, expected: str
) -> None:
    result = check_catalog([manifest(tmp_path, source)])
    found = [diagnostic.as_text().removeprefix(f"{tmp_path}/") for diagnostic in result.diagnostics]
    assert result.catalog is None
    assert any(line.startswith(expected) or expected in line for line in found), found
    # Each rule is said once: the schema's if/then rules leave the words to catalog.checks.
    assert len(found) == 1 or "glance-dl" in source, found


def test_both_validators_agree_on_glance_download_sources() -> None:
    def document(source: dict[str, Any]) -> dict[str, Any]:
        return {"version": 1, "catalog": "c", "images": [{"name": "a", "source": source}]}

    valid = document({"method": "glance-download", "region": "R", "checksum": str(SHA)})
    assert is_valid(valid) and not list(validator().iter_errors(valid))
    for invalid in (
        document({"method": "glance-download", "checksum": str(SHA)}),
        document({"region": "R", "url": "https://h/a", "checksum": str(SHA)}),
        document({"region": "R", "method": "upload", "file": "f", "checksum": str(SHA)}),
    ):
        assert not is_valid(invalid) and list(validator().iter_errors(invalid))


def test_the_model_ties_region_to_glance_download() -> None:
    with pytest.raises(ValueError, match="names its region"):
        replace(PULLED, region=None)
    with pytest.raises(ValueError, match="names its region"):
        ImageSource(url="https://h/a", file=None, checksum=SHA, region="R")
    assert TransferMethod.GLANCE_DOWNLOAD.imports and TransferMethod.WEB_DOWNLOAD.imports
    assert not TransferMethod.UPLOAD.imports


def test_the_data_step_is_an_import_from_the_region_in_text_and_json() -> None:
    image = desired(source=PULLED)
    plan = make_plan(catalog(image), snapshot())
    kinds = [action.kind for action in plan.actions]
    assert kinds == [ActionKind.RESERVE, ActionKind.IMPORT]
    assert plan.actions[1].source == PULLED
    assert (
        f"  ^ ubuntu: data will be imported by Glance from region RegionOne (image ubuntu there) "
        f"({SHA})\n"
    ) in render_plan(plan)
    document = json.loads(plan.to_json())
    assert document["format_version"] == 5
    assert document["actions"][1]["source"] == {
        "url": None,
        "file": None,
        "checksum": str(SHA),
        "method": "glance-download",
        "decompress": "none",
        "region": "RegionOne",
    }
    assert Plan.from_json(plan.to_json()) == plan
    # Other sources are written as they always were: no "region" key.
    other = json.loads(make_plan(catalog(desired()), snapshot()).to_json())
    assert "region" not in other["actions"][1]["source"]


def test_a_glance_download_under_way_is_followed_and_a_pulled_image_converges() -> None:
    image = desired(source=PULLED)
    importing = observed_like(image, status="importing")
    (step,) = make_plan(catalog(image), snapshot(importing)).actions
    assert (step.kind, step.image_id, step.reason) == (
        ActionKind.IMPORT,
        "id-1",
        "the image has no data yet",
    )
    pulled = observed_like(image, hash_algo="sha256", hash_value=SHA.hexdigest)
    assert make_plan(catalog(image), snapshot(pulled)).actions == ()


class OriginChecks:
    """Preflight's questions; the image in the other region is there unless ``missing``."""

    def __init__(self, missing: str | None = None) -> None:
        self.missing = missing
        self.asked: list[tuple[str, str, tuple[str, str]]] = []

    def source_problem(self, source: object, image: str) -> str | None:
        raise AssertionError("a glance-download reads no url")

    def origin_problem(
        self, source: ImageSource, image: str, marker: str, formats: tuple[str, str]
    ) -> str | None:
        self.asked.append((image, marker, formats))
        return self.missing

    def accept_cloud_problem(self, cloud: str, member: str) -> str | None:
        return None

    def copy_problem(self) -> str | None:
        return None


def test_preflight_asks_for_the_image_in_the_other_region_and_makes_its_absence_a_conflict() -> (
    None
):
    image = desired(source=replace(PULLED, url="https://h/u.img"))
    plan = make_plan(catalog(image), snapshot())
    there = OriginChecks()
    assert preflight(plan, catalog(image), there) == plan
    assert there.asked == [("ubuntu", MARKER, ("qcow2", "bare"))]
    gone = OriginChecks("image 'ubuntu': not (yet) in region RegionOne with checksum ...")
    (conflict,) = preflight(plan, catalog(image), gone).conflicts
    assert conflict.as_text() == (
        "m.yaml:1:1: image 'ubuntu': not (yet) in region RegionOne with checksum ... (hint: fix "
        "it before apply; nothing was changed)"
    )


class PullingWriter(RecordingWriter):
    def glance_download(
        self, image_id: str, image: str, source: ImageSource, marker: str, store: str | None = None
    ) -> None:
        self.calls.append(("glance_download", f"{image_id}<{source.region}|{marker}"))


def test_apply_hands_a_glance_download_the_catalog_marker() -> None:
    image = desired(source=PULLED)
    writer = PullingWriter()
    report = apply_plan(make_plan(catalog(image), snapshot()), writer)
    assert [result.outcome for result in report.results] == [Outcome.DONE, Outcome.DONE]
    assert writer.calls == [
        ("reserve", "ubuntu"),
        ("glance_download", f"id-ubuntu<RegionOne|{MARKER}"),
    ]
    assert report.results[1].detail == "pulled by Glance from region RegionOne"


def origin(**fields: Any) -> dict[str, Any]:
    body = {
        "id": "o-1",
        "name": "ubuntu",
        "owner": "p",
        "status": "active",
        "tags": [MARKER, "lts"],
        SOURCE_PROPERTY: str(SHA),
        "disk_format": "qcow2",
        "container_format": "bare",
    }
    return {**body, **fields}


@pytest.mark.parametrize(
    ("fields", "is_it"),
    [
        ({}, True),
        ({"name": "ubuntu 24.04", VERSION_OF_PROPERTY: "ubuntu"}, True),
        ({"name": "other"}, False),
        ({"owner": "q"}, False),
        ({"tags": ["lts"]}, False),
        ({"status": "queued"}, False),
        ({SOURCE_PROPERTY: "sha256:" + "00" * 32}, False),
    ],
)
def test_the_origin_is_this_catalogs_verified_active_image_of_that_name(
    fields: dict[str, Any], is_it: bool
) -> None:
    assert pull.is_origin(origin(**fields), "p", "ubuntu", str(SHA), MARKER) is is_it


def test_find_origin_asks_for_hidden_images_too_and_names_what_is_missing() -> None:
    asked: list[dict[str, Any]] = []

    def listing(params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        asked.append(params)
        if params["os_hidden"] == "true":
            yield origin(id="o-2")
            yield origin(id="o-0", name="other")

    assert pull.find_origin(listing, "p", "ubuntu", PULLED, MARKER)["id"] == "o-2"
    assert [params["os_hidden"] for params in asked] == ["false", "true"]
    assert asked[0][SOURCE_PROPERTY] == str(SHA) and asked[0]["tag"] == MARKER
    with pytest.raises(CloudError) as raised:
        pull.find_origin(lambda params: iter(()), "p", "ubuntu", PULLED, MARKER)
    assert raised.value.lines == (
        f"image 'ubuntu': not (yet) in region RegionOne with checksum {SHA}, so Glance has "
        "nothing to pull; apply the catalog in region RegionOne first",
    )


def test_a_glance_download_from_its_own_region_or_without_a_checksum_is_refused() -> None:
    assert pull.pulled_region(PULLED, "a", "RegionTwo") == "RegionOne"
    with pytest.raises(CloudError, match="which is this cloud's own region"):
        pull.pulled_region(PULLED, "a", "regionone")
    with pytest.raises(CloudError, match="without a checksum cannot be verified"):
        pull.pulled_region(replace(PULLED, checksum=None), "a", None)


def test_the_origin_must_have_the_formats_the_pulled_image_is_to_keep() -> None:
    assert pull.formats_problem(("qcow2", "bare"), origin(), "R1") is None
    assert pull.formats_problem(("raw", "bare"), origin(), "R1") == (
        "the image in region R1 (o-1) is qcow2/bare, not raw/bare as here: Glance would give "
        "this image its formats"
    )


def test_what_the_import_copied_from_the_origin_is_put_back() -> None:
    before = {"id": "i", "status": "queued", "os_distro": "two", "kept": "x"}
    after = {
        **before,
        "status": "active",
        "os_distro": "one",
        "hw_disk_bus": "scsi",
        "os_glance_failed_import": "",
        SOURCE_PROPERTY: str(SHA),
        "os_hash_value": "ff",
    }
    assert pull.undone_properties(before, after) == (
        FieldChange("properties.hw_disk_bus", "scsi", None),
        FieldChange("properties.os_distro", "one", "two"),
    )
    assert pull.undone_properties(before, before) == ()


def test_a_compressed_glance_download_source_loads_with_its_compression(tmp_path: Path) -> None:
    loaded = load_catalog(
        [
            manifest(
                tmp_path,
                f"{{url: 'https://h/a.raw.xz', method: glance-download, region: R, "
                f"checksum: '{SHA}'}}",
            )
        ]
    )
    source = loaded.images[0].source
    assert source is not None and source.compression is Compression.XZ
    # Nothing is decompressed on the way: the plan does not say so.
    assert "decompressed" not in render_plan(make_plan(loaded, snapshot()))
