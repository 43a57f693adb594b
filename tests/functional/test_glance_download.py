"""Two regions behind one Keystone (the harness's RegionTwo Glance, cloud local-r2), and the
glance-download source: Glance in region two pulls an image's data from region one's Glance
itself, with the user's token; glance-catalog finds the image there, follows the import and
verifies the data."""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import lzma
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.functional.support import GlanceProbe, make_disk, run_cli, step_line, write_manifest
from tests.localcloud import LocalCloud, serve_sources
from tests.localcloud.multistore import ExtraGlance
from tests.localcloud.regions import REGION_TWO, REGION_TWO_CLOUD

pytestmark = pytest.mark.glance


def _image_endpoints(probe: GlanceProbe) -> set[tuple[str, str, str]]:
    """(region, interface, url) of every image endpoint in the token's catalog."""
    catalog: list[dict[str, Any]] = probe.connection.session.auth.get_access(
        probe.connection.session
    ).service_catalog.catalog
    return {
        (endpoint["region_id"], endpoint["interface"], endpoint["url"])
        for service in catalog
        if service["type"] == "image"
        for endpoint in service["endpoints"]
    }


def test_region_two_is_a_glance_of_its_own_in_the_same_keystone(
    local_cloud: LocalCloud, region_two: ExtraGlance
) -> None:
    one, two = GlanceProbe("local"), GlanceProbe(REGION_TWO_CLOUD)
    assert two.project_id == one.project_id
    endpoints = _image_endpoints(one)
    for interface in ("public", "internal"):
        assert ("RegionOne", interface, local_cloud.glance_url) in endpoints
        assert (REGION_TWO, interface, region_two.url) in endpoints
    created = two.create(name="r2-only", disk_format="raw", container_format="bare")
    try:
        assert [image["id"] for image in two.named("r2-only")] == [created["id"]]
        assert one.named("r2-only") == []
        assert {path.name for path in region_two.store_dirs["fs"].parent.iterdir()} >= {
            "glance.sqlite",
            "images-fs",
        }
    finally:
        two.delete(created["id"])


class _CountingHandler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder and counts every request by kind: ``full`` reads of a file and
    ``ranged`` ones (preflight's one-byte probe, answered 206)."""

    seen: dict[str, int]

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        if "Range" not in self.headers:
            self.seen["full"] = self.seen.get("full", 0) + 1
            super().do_GET()
            return
        self.seen["ranged"] = self.seen.get("ranged", 0) + 1
        data = (Path(self.directory) / self.path.lstrip("/")).read_bytes()
        self.send_response(206)
        self.send_header("Content-Range", f"bytes 0-0/{len(data)}")
        self.send_header("Content-Length", "1")
        self.end_headers()
        self.wfile.write(data[:1])


@pytest.fixture
def source_server(tmp_path: Path) -> Iterator[tuple[str, dict[str, int]]]:
    """(base URL, request counts) of an http server of ``tmp_path/www``."""
    folder = tmp_path / "www"
    folder.mkdir()
    seen: dict[str, int] = {}
    handler = type("Counting", (_CountingHandler,), {"seen": seen})
    with serve_sources(functools.partial(handler, directory=str(folder))) as base:
        yield base, seen


@pytest.fixture
def two_regions(local_cloud: LocalCloud, region_two: ExtraGlance) -> Iterator[str]:
    """A catalog name unique to one test; its images go after, in both regions."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    yield name
    for cloud in ("local", REGION_TWO_CLOUD):
        GlanceProbe(cloud).delete_tagged(f"glance-catalog:{name}")


def manifest(folder: Path, catalog: str, image: str, properties: str, source: str) -> Path:
    folder.mkdir(exist_ok=True)
    return write_manifest(
        folder,
        f"""
        version: 1
        catalog: {catalog}
        defaults: {{disk_format: raw}}
        images:
          - name: {image}
            properties: {properties}
            source: {source}
        """,
    )


def cli(cloud: str, *args: str) -> Any:
    return run_cli(*args, "--cloud", cloud)


def file_reads(log: Path, image_id: str) -> list[str]:
    """The user agents of the GETs of the image's data in a Glance access log."""
    pattern = re.compile(rf'"GET /v2/images/{image_id}/file HTTP/1.1" 200 .* "([^"]*)"$')
    return [
        match.group(1)
        for line in log.read_text().splitlines()
        if (match := pattern.search(line)) is not None
    ]


def test_region_two_pulls_the_image_from_region_one_without_the_bytes_passing_through_us(
    tmp_path: Path,
    local_cloud: LocalCloud,
    region_two: ExtraGlance,
    two_regions: str,
    source_server: tuple[str, dict[str, int]],
) -> None:
    base, seen = source_server
    data = make_disk(tmp_path / "www" / "disk.raw", 300 * 1024 + 5, 7).read_bytes()
    sha512 = "sha512:" + hashlib.sha512(data).hexdigest()
    name = f"{two_regions}-a"
    url = f"{base}/disk.raw"
    first = manifest(
        tmp_path / "one",
        two_regions,
        name,
        "{os_distro: one, hw_disk_bus: scsi}",
        f'{{url: "{url}", checksum: "{sha512}"}}',
    )
    done = cli("local", "apply", str(first), "--auto-approve")
    assert done.code == 0, done.output
    assert seen.get("full") == 1, seen  # glance-catalog streamed it into region one, once
    one = GlanceProbe("local").only(name)
    counted = dict(seen)

    # The same image in region two: the url stays (the first region's), the data comes from
    # region one's Glance; this region's properties are its own.
    second = manifest(
        tmp_path / "two",
        two_regions,
        name,
        "{os_distro: two}",
        f'{{url: "{url}", method: glance-download, region: RegionOne, checksum: "{sha512}"}}',
    )
    saved = tmp_path / "plan.json"
    planned = cli(REGION_TWO_CLOUD, "plan", str(second), "-o", str(saved))
    assert planned.code == 0, planned.output
    assert (
        f"  ^ {name}: data will be imported by Glance from region RegionOne (image {name} "
        f"there) ({sha512})\n"
    ) in planned.output
    (step,) = [a for a in json.loads(saved.read_text())["actions"] if a["action"] == "import"]
    assert (step["source"]["method"], step["source"]["region"]) == ("glance-download", "RegionOne")
    applied = run_cli("apply", str(saved))
    assert applied.code == 0, applied.output
    assert "import" in applied.output and "pulled by Glance from region RegionOne" in applied.output

    two = GlanceProbe(REGION_TWO_CLOUD).only(name)
    assert two["id"] != one["id"]
    assert (two["status"], two["os_hash_algo"], two["os_hash_value"], two["size"]) == (
        "active",
        one["os_hash_algo"],
        one["os_hash_value"],
        len(data),
    )
    assert two["glance_catalog_source_checksum"] == sha512
    assert f"glance-catalog:{two_regions}" in two["tags"]
    # Glance copied os_distro and hw_disk_bus from region one's image: put back as the
    # manifest of region two says.
    assert two["os_distro"] == "two" and "hw_disk_bus" not in two
    (task,) = GlanceProbe(REGION_TWO_CLOUD)._call("GET", f"/images/{two['id']}/tasks")["tasks"]
    assert task["status"] == "success"
    assert task["input"]["import_req"]["method"] == {
        "name": "glance-download",
        "glance_image_id": one["id"],
        "glance_region": "RegionOne",
        "glance_service_interface": "public",
    }
    # Nobody read the url again, and region one's data was read once: by Glance (urllib), not
    # by glance-catalog (openstacksdk); the verification needed no read-back in region two.
    assert seen == counted
    logs = local_cloud.run_dir / "logs"
    assert file_reads(logs / "glance-access.log", one["id"]) == ["Python-urllib/3.11"]
    assert file_reads(logs / f"{region_two.name}-access.log", two["id"]) == []

    for cloud, path in ((REGION_TWO_CLOUD, second), ("local", first)):
        replan = cli(cloud, "plan", str(path), "--detailed-exitcode")
        assert replan.code == 0, replan.output


def test_an_image_not_in_region_one_is_a_one_line_error_and_nothing_is_made(
    tmp_path: Path, region_two: ExtraGlance, two_regions: str
) -> None:
    name = f"{two_regions}-missing"
    checksum = "sha256:" + hashlib.sha256(b"never uploaded").hexdigest()
    second = manifest(
        tmp_path,
        two_regions,
        name,
        "{}",
        f'{{method: glance-download, region: RegionOne, checksum: "{checksum}"}}',
    )
    applied = cli(REGION_TWO_CLOUD, "apply", str(second), "--auto-approve")
    assert applied.code == 1, applied.output
    message = (
        f"image '{name}': not (yet) in region RegionOne with checksum {checksum}, so Glance has "
        "nothing to pull; apply the catalog in region RegionOne first"
    )
    # Found by preflight, before anything was written: the conflict, on one line, and the
    # sentence every refused plan ends with.
    assert applied.stderr.splitlines() == [
        f"{second}:5:5: {message} (hint: fix it before apply; nothing was changed)",
        "the plan has conflicts; nothing was changed",
    ]
    assert GlanceProbe(REGION_TWO_CLOUD).named(name) == []
    assert GlanceProbe(REGION_TWO_CLOUD).tagged(f"glance-catalog:{two_regions}") == []


def test_data_that_does_not_match_the_checksum_is_deleted_in_region_two(
    tmp_path: Path, region_two: ExtraGlance, two_regions: str
) -> None:
    make_disk(tmp_path / "disk.raw", 64 * 1024, 3)
    right = "sha256:" + hashlib.sha256((tmp_path / "disk.raw").read_bytes()).hexdigest()
    wrong = "sha256:" + hashlib.sha256(b"other bytes").hexdigest()
    name = f"{two_regions}-w"
    first = manifest(
        tmp_path / "one", two_regions, name, "{}", f'{{file: ../disk.raw, checksum: "{right}"}}'
    )
    done = cli("local", "apply", str(first), "--auto-approve")
    assert done.code == 0, done.output
    # Region one's record is what glance-download trusts to find the image; the data pulled is
    # checked against the manifest all the same.
    one = GlanceProbe("local")
    image = one.only(name)
    one.patch(
        image["id"], [{"op": "add", "path": "/glance_catalog_source_checksum", "value": wrong}]
    )
    second = manifest(
        tmp_path / "two",
        two_regions,
        name,
        "{}",
        f'{{method: glance-download, region: RegionOne, checksum: "{wrong}"}}',
    )
    applied = cli(REGION_TWO_CLOUD, "apply", str(second), "--auto-approve")
    assert applied.code == 1, applied.output
    assert (
        f"Glance imported data with {right}, expected {wrong}; the image was "
        "deleted so that nobody boots it"
    ) in step_line(applied.output, name, "import")
    assert GlanceProbe(REGION_TWO_CLOUD).named(name) == []


def test_a_compressed_source_is_verified_against_the_image_in_region_one(
    tmp_path: Path, region_two: ExtraGlance, two_regions: str
) -> None:
    """The checksum is of the .xz as published; both Glances hold the decompressed bytes, so
    region two's data is checked against region one's (verified there on upload)."""
    data = make_disk(tmp_path / "disk.raw", 128 * 1024, 5).read_bytes()
    (tmp_path / "disk.raw.xz").write_bytes(lzma.compress(data))
    checksum = "sha256:" + hashlib.sha256((tmp_path / "disk.raw.xz").read_bytes()).hexdigest()
    name = f"{two_regions}-xz"
    source = f'file: ../disk.raw.xz, checksum: "{checksum}"'
    first = manifest(tmp_path / "one", two_regions, name, "{}", f"{{{source}}}")
    done = cli("local", "apply", str(first), "--auto-approve")
    assert done.code == 0, done.output
    pulled = f"{{{source}, method: glance-download, region: RegionOne}}"
    second = manifest(tmp_path / "two", two_regions, name, "{}", pulled)
    applied = cli(REGION_TWO_CLOUD, "apply", str(second), "--auto-approve")
    assert applied.code == 0, applied.output
    two = GlanceProbe(REGION_TWO_CLOUD).only(name)
    assert (two["size"], two["os_hash_value"]) == (len(data), hashlib.sha512(data).hexdigest())
    replan = cli(REGION_TWO_CLOUD, "plan", str(second), "--detailed-exitcode")
    assert replan.code == 0, replan.output
