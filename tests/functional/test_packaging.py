"""The wheel ships the schema and the console script works from an installed package."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.functional.support import REPO


def test_the_wheel_carries_the_schema_and_validates_from_outside_the_checkout(
    tmp_path: Path,
) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "-w",
            str(tmp_path),
            str(REPO),
        ],
        check=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("glance_catalog-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "catalog/schemas/catalog-v1.json" in names
    assert any(name.endswith("entry_points.txt") for name in names)
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        timeout=300,
    )
    manifest = tmp_path / "m.yaml"
    manifest.write_text("version: 1\ncatalog: c\nimages:\n  - {name: a, disk_format: raw}\n")
    probe = (
        "import catalog.schema, sys; print(catalog.schema.schema_path()); "
        "from reconciler.cli import main; main(['validate', sys.argv[1]])"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, str(manifest)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(target)},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    schema_line, ok_line = result.stdout.splitlines()
    assert schema_line == str(target / "catalog" / "schemas" / "catalog-v1.json")
    assert ok_line == "OK: catalog 'c', 1 images in 1 file(s)."
