"""Secrets stay secret: a canary password in clouds.yaml and canary credentials in source URLs
(written in the manifest, and expanded from ${VAR}) appear in no stdout, stderr, saved plan,
JSON report or log file of any command, successful or failing."""

from __future__ import annotations

import glob
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.functional.support import (
    CliResult,
    GlanceProbe,
    run_cli,
    served_disk,
    sha256_of,
    write_manifest,
)
from tests.localcloud import ADMIN_PASSWORD, LocalCloud

pytestmark = pytest.mark.glance

# The last one is the real admin password of the local cloud's clouds.yaml.
CANARIES = (
    "CanaryUser42",
    "CanarySrcPw42",
    "CanaryQuery42",
    "CanaryEnvToken42",
    "CanaryOsPw42",
    ADMIN_PASSWORD,
)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    with served_disk(tmp_path, 70_000, 21) as served:
        yield served


def crash_logs() -> set[str]:
    return set(glob.glob(str(Path(tempfile.gettempdir()) / "glance-catalog-crash-*")))


def assert_clean(*texts: str) -> None:
    for text in texts:
        for canary in CANARIES:
            assert canary not in text, f"{canary} leaked in:\n{text}"


def test_no_command_ever_prints_or_saves_a_credential(
    tmp_path: Path,
    probe: GlanceProbe,
    catalog_name: str,
    local_cloud: LocalCloud,
    served: tuple[Path, str],
) -> None:
    folder, base = served
    host = base.removeprefix("http://")
    checksum = sha256_of(folder / "disk.raw")
    clouds = yaml.safe_load(local_cloud.clouds_yaml.read_text())["clouds"]
    # A wrong password: Keystone refuses it, and the error must not show it.
    clouds["wrong"] = {
        **clouds["local"],
        "auth": {**clouds["local"]["auth"], "password": "CanaryOsPw42"},
    }
    clouds_yaml = tmp_path / "clouds.yaml"
    clouds_yaml.write_text(yaml.safe_dump({"clouds": clouds}))
    env = {"OS_CLIENT_CONFIG_FILE": str(clouds_yaml), "MIRROR_TOKEN": "CanaryEnvToken42"}
    written = f"http://CanaryUser42:CanarySrcPw42@{host}/disk.raw?sig=CanaryQuery42"
    expanded = f"http://mirror:${{MIRROR_TOKEN}}@{host}/disk.raw"
    typo = "htps://CanaryUser42:CanarySrcPw42@x/y?CanaryQuery42"
    gone = f"http://CanaryUser42:CanarySrcPw42@{host}/nothing.raw?CanaryQuery42"
    manifest = write_manifest(
        tmp_path,
        f"""
        version: 1
        catalog: {catalog_name}
        defaults: {{disk_format: raw}}
        images:
          - {{name: {catalog_name}-a, source: {{url: "{written}", checksum: "{checksum}"}}}}
          - {{name: {catalog_name}-b, source: {{url: "{expanded}", checksum: "{checksum}"}}}}
        """,
    )
    broken = write_manifest(
        tmp_path,
        f"""
        version: 1
        catalog: {catalog_name}
        images:
          - name: {catalog_name}-a
            disk_format: raw
            visibility: publc
            source: {{url: "{typo}", checksum: "{checksum}"}}
        """,
        "broken.yaml",
    )
    missing = write_manifest(
        tmp_path,
        f"""
        version: 1
        catalog: {catalog_name}
        images:
          - name: {catalog_name}-m
            disk_format: raw
            source: {{url: "{gone}", checksum: "{checksum}"}}
        """,
        "missing.yaml",
    )
    saved = tmp_path / "plan.json"
    before = crash_logs()
    results: list[CliResult] = [
        run_cli("validate", str(broken), env=env),
        run_cli("validate", str(broken), "--format", "json", env=env),
        run_cli("plan", str(missing), "--cloud", "local", env=env),
        run_cli("plan", str(missing), "--cloud", "local", "--json", env=env),
        run_cli("plan", str(manifest), "--cloud", "wrong", env=env),
        run_cli("plan", str(manifest), "--cloud", "local", env=env),
        run_cli("plan", str(manifest), "--cloud", "local", "--json", env=env),
        run_cli("plan", str(manifest), "--cloud", "local", "-o", str(saved), env=env),
        run_cli("drift", str(manifest), "--cloud", "local", "--json", env=env),
        run_cli("apply", str(saved), env=env),
        run_cli("drift", str(manifest), "--cloud", "local", env=env),
    ]
    codes = [result.code for result in results]
    assert codes == [1, 1, 1, 1, 1, 0, 0, 0, 2, 0, 0], "\n".join(r.output for r in results)
    # The uploads really used the credentials they did not print.
    for name in ("a", "b"):
        assert probe.only(f"{catalog_name}-{name}")["status"] == "active"
    assert f"http://***@{host}/disk.raw?***" in results[5].stdout
    assert f"http://***@{host}/disk.raw (" in results[5].stdout
    logs = [Path(path).read_text() for path in crash_logs() - before]
    assert_clean(*(r.output for r in results), saved.read_text(), *logs)
    properties = " ".join(str(probe.only(f"{catalog_name}-{n}")) for n in ("a", "b"))
    assert_clean(properties)
