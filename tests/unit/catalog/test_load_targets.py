"""catalog.load on targets: each target's images with its overrides, and every misuse at
file:line:column."""

from __future__ import annotations

from pathlib import Path

from catalog.load import check_catalog, load_catalog
from catalog.model import Visibility

SHA = "sha256:" + "ab" * 32
IMAGES = f"""images:
  - name: base
    source: {{url: 'https://127.0.0.1/a.img', checksum: '{SHA}'}}
    tags: [os]
    properties: {{distro: debian, site: home}}
  - name: tools
    visibility: shared
    members: [project-a]
"""


def manifest(folder: Path, targets: str, images: str = IMAGES, name: str = "m.yaml") -> Path:
    path = folder / name
    path.write_text(f"version: 1\ncatalog: c\ndefaults: {{disk_format: raw}}\n{targets}{images}")
    return path


def errors(*paths: Path) -> list[str]:
    result = check_catalog(list(paths))
    assert result.catalog is None
    return [d.as_text() for d in result.diagnostics]


TWO = """targets:
  - {name: east, cloud: prod, region: RegionOne}
  - name: west
    cloud: prod
    region: RegionTwo
    overrides:
      min_ram: 512
      tags: [west]
      properties: {site: west}
      source: {method: web-download}
    images:
      tools: {members: [project-b], hidden: true}
"""


def test_each_target_gets_every_image_with_its_overrides_laid_over(tmp_path: Path) -> None:
    catalog = load_catalog([manifest(tmp_path, TWO)])
    east, west = catalog.targets
    assert (east.name, east.cloud, east.region) == ("east", "prod", "RegionOne")
    assert east.images == catalog.images
    base, tools = west.images
    assert base.min_ram == 512 and base.tags == {"os", "west"}
    assert base.properties == {"distro": "debian", "site": "west"}
    assert base.source is not None and base.source.method.value == "web-download"
    assert base.source.url == "https://127.0.0.1/a.img"
    assert [m.project for m in tools.members] == ["project-b"] and tools.hidden
    assert tools.visibility is Visibility.SHARED and tools.min_ram == 512
    assert catalog.for_target(west).images == west.images
    assert catalog.for_target(west).targets == ()
    assert east.position is not None and east.position.line == 5


def test_a_catalog_without_targets_has_none(tmp_path: Path) -> None:
    assert load_catalog([manifest(tmp_path, "")]).targets == ()


def test_target_names_and_places_are_unique(tmp_path: Path) -> None:
    path = manifest(
        tmp_path,
        "targets:\n  - {name: a, cloud: prod}\n  - {name: a, cloud: prod}\n",
    )
    found = errors(path)
    assert any("m.yaml:6:12" in e and "target 'a' is named twice (first at" in e for e in found)
    assert any("goes to cloud prod as target 'a' does" in e for e in found)


def test_an_override_of_an_image_the_catalog_lacks_names_the_images(tmp_path: Path) -> None:
    path = manifest(tmp_path, "targets:\n  - name: a\n    cloud: prod\n    images: {tool: {}}\n")
    found = errors(path)
    assert any(
        "m.yaml:7:14" in e
        and "overrides image 'tool', which the catalog does not declare" in e
        and "name one of its images: base, tools" in e
        for e in found
    ), found


def test_an_image_as_a_target_gets_it_is_checked(tmp_path: Path) -> None:
    path = manifest(
        tmp_path,
        "targets:\n  - name: a\n    cloud: prod\n    overrides: {visibility: private}\n",
    )
    (problem,) = errors(path)
    assert "image 'tools'" in problem
    assert "in target 'a': members need visibility: shared (this image is private)" in problem


def test_glance_download_needs_a_region_and_a_region_needs_it(tmp_path: Path) -> None:
    path = manifest(
        tmp_path,
        "targets:\n"
        "  - name: a\n    cloud: prod\n    overrides: {source: {method: glance-download}}\n"
        "  - name: b\n    cloud: other\n    images: {base: {source: {region: R1}}}\n",
    )
    found = errors(path)
    assert any("glance-download needs the region" in e for e in found), found
    assert any("a source region is where glance-download takes the data from" in e for e in found)


def test_targets_are_given_in_one_file(tmp_path: Path) -> None:
    first = manifest(tmp_path, "targets:\n  - {name: a, cloud: prod}\n", name="a.yaml")
    second = manifest(
        tmp_path, "targets:\n  - {name: b, cloud: x}\n", "images: []\n", name="b.yaml"
    )
    found = errors(first, second)
    assert any("b.yaml:4:1" in e and "targets are already given in" in e for e in found), found


def test_an_unknown_override_field_is_a_schema_error_at_its_place(tmp_path: Path) -> None:
    path = manifest(tmp_path, "targets:\n  - {name: a, cloud: p, overrides: {name: x}}\n")
    (problem,) = errors(path)
    assert problem.startswith(f"{path}:5:") and "name" in problem
