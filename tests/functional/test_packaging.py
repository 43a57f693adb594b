"""The wheel ships the schema and the console script works from an installed package; the
wheel builds from what the Containerfile copies and installs into a fresh venv as its runtime
stage installs it (there is no container engine to build the image itself)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

from tests.functional.support import REPO
from tests.unit.project.test_containerfile import (
    copied_sources,
    ignore_patterns,
    ignored,
    parse_containerfile,
)


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


def _containerfile_context(target: Path) -> None:
    """The build stage's working folder: what its COPY instructions copy from the build
    context (.containerignore applied), where they copy it."""
    patterns = ignore_patterns()
    (build, _) = parse_containerfile()
    for source, destination in copied_sources(build):
        origin = REPO / source
        if origin.is_dir():
            shutil.copytree(
                origin,
                target / destination,
                ignore=lambda folder, names: [
                    name
                    for name in names
                    if ignored(str((Path(folder) / name).relative_to(REPO)), patterns)
                ],
            )
        else:
            into = target / destination
            if destination.endswith("/"):
                into = into / origin.name
            into.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, into)


def test_the_wheel_built_as_the_containerfile_does_installs_into_a_fresh_venv_and_runs(
    tmp_path: Path,
) -> None:
    context = tmp_path / "src"
    context.mkdir()
    _containerfile_context(context)
    wheels = tmp_path / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--wheel-dir",
            str(wheels),
            ".",
        ],
        cwd=context,
        check=True,
        timeout=300,
    )
    (wheel,) = wheels.glob("glance_catalog-*.whl")
    fresh = tmp_path / "venv"
    venv.create(fresh, with_pip=True)
    python = fresh / "bin" / "python"
    # Its dependencies from the index, at the versions the tests use (the build stage's
    # second pip wheel).
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--constraint",
            str(context / "constraints.txt"),
            str(wheel),
        ],
        check=True,
        timeout=900,
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")
    }
    command = str(fresh / "bin" / "glance-catalog")

    def run(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [command, *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env={**env, **extra},
            timeout=120,
        )

    helped = run("--help")
    assert helped.returncode == 0, helped.stderr
    for name in ("validate", "plan", "apply", "drift"):
        assert f"  {name} " in helped.stdout
    assert run("--version").stdout == "glance-catalog, version 0.1.0\n"
    where = subprocess.run(
        [str(python), "-c", "import reconciler, catalog.schema; print(reconciler.__file__)"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
        check=True,
    )
    assert where.stdout.startswith(str(fresh))
    manifest = tmp_path / "m.yaml"
    manifest.write_text("version: 1\ncatalog: c\nimages:\n  - {name: a, disk_format: raw}\n")
    validated = run("validate", str(manifest))
    assert (validated.returncode, validated.stdout) == (
        0,
        "OK: catalog 'c', 1 images in 1 file(s).\n",
    )
    completion = run(_GLANCE_CATALOG_COMPLETE="bash_source")
    assert completion.returncode == 0 and "_glance_catalog_completion()" in completion.stdout
