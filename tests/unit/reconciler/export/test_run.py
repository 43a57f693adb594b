"""reconciler.export.run: the catalog name an export gets, its manifests checked to load as
one catalog before any is written, and files written whole or not at all. (Reading a real
Glance: tests/functional/test_export.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog.errors import GlanceCatalogError
from catalog.secrets import register_secret
from reconciler.export.run import catalog_for, checked, write_file, write_files

MANIFEST = "version: 1\ncatalog: c\nimages:\n  - {name: a, disk_format: raw}\n"


def test_the_catalog_is_named_as_given_else_after_the_cloud() -> None:
    assert catalog_for("prod", "images") == "images"
    assert catalog_for("prod", None) == "prod"
    with pytest.raises(GlanceCatalogError, match="a catalog name is 1 to 40 of a-z"):
        catalog_for("prod", "Not A Name")


def test_manifests_that_load_together_are_returned_redacted() -> None:
    register_secret("export-secret-81a9")
    files = {
        "c.yaml": MANIFEST.replace("name: a", "name: a, properties: {k: 'export-secret-81a9'}")
    }
    assert checked(files) == {"c.yaml": files["c.yaml"].replace("export-secret-81a9", "***")}


def test_a_manifest_that_does_not_validate_is_a_bug_and_nothing_is_returned() -> None:
    with pytest.raises(GlanceCatalogError, match="does not validate \\(a bug\\)"):
        checked({"c.yaml": MANIFEST.replace("disk_format: raw", "disk_format: nope")})


def test_existing_files_are_refused_before_any_is_written_unless_forced(tmp_path: Path) -> None:
    (tmp_path / "b.yaml").write_text("old\n")
    with pytest.raises(GlanceCatalogError, match=r"b\.yaml already exist; nothing was written"):
        write_files(tmp_path, {"a.yaml": "new a\n", "b.yaml": "new b\n"}, force=False)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["b.yaml"]
    written = write_files(tmp_path, {"a.yaml": "new a\n", "b.yaml": "new b\n"}, force=True)
    assert [path.read_text() for path in written] == ["new a\n", "new b\n"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a.yaml", "b.yaml"]


def test_one_file_is_refused_when_it_exists_unless_forced(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    write_file(path, "one\n", force=False)
    with pytest.raises(GlanceCatalogError, match="already exists; nothing was written"):
        write_file(path, "two\n", force=False)
    write_file(path, "two\n", force=True)
    assert path.read_text() == "two\n"
