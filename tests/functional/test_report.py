"""The CLI's output formats against the real local Glance: a replacement as one block, the
Markdown comment of plan and drift, apply's and drift's JSON log lines, colour (NO_COLOR,
--no-color, never into a pipe) and -v."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.functional.support import (
    GlanceProbe,
    make_disk,
    run_cli,
    run_on_terminal,
    sha256_of,
    write_manifest,
)

pytestmark = pytest.mark.glance

STEP_FIELDS = {"time", "target", "image", "action", "duration_s", "bytes", "result", "error"}


def manifest_for(folder: Path, catalog: str, disk: str) -> Path:
    """Image ``os`` from ``disk``; image ``empty`` (no data) needs 64 MiB with v2.raw."""
    min_ram = 64 if disk == "v2.raw" else 0
    return write_manifest(
        folder,
        f"""
        version: 1
        catalog: {catalog}
        images:
          - name: {catalog}-os
            disk_format: raw
            tags: [lts]
            source: {{file: {disk}, checksum: "{sha256_of(folder / disk)}"}}
          - {{name: {catalog}-empty, disk_format: raw, min_ram: {min_ram}}}
        """,
    )


def local(*args: str) -> list[str]:
    return [*args, "--cloud", "local"]


@pytest.fixture
def replaced(tmp_path: Path, probe: GlanceProbe, catalog_name: str) -> tuple[Path, str]:
    """The catalog applied with v1, then its manifest moved to v2: the plan replaces the image
    (old id returned)."""
    make_disk(tmp_path / "v1.raw", 40_000, 1)
    make_disk(tmp_path / "v2.raw", 41_000, 2)
    first = manifest_for(tmp_path, catalog_name, "v1.raw")
    applied = run_cli(*local("apply", str(first), "--auto-approve"))
    assert applied.code == 0, applied.output
    old_id = probe.only(f"{catalog_name}-os")["id"]
    return manifest_for(tmp_path, catalog_name, "v2.raw"), old_id


def test_a_replacement_is_one_block_with_its_steps_under_it(
    tmp_path: Path, replaced: tuple[Path, str], catalog_name: str
) -> None:
    manifest, old_id = replaced
    planned = run_cli(*local("plan", str(manifest)))
    assert planned.code == 0, planned.output
    old, new = sha256_of(tmp_path / "v1.raw"), sha256_of(tmp_path / "v2.raw")
    lines = planned.stdout.splitlines()
    head = lines.index(
        f"  -/+ {catalog_name}-os: must be replaced (source checksum {old[:15]}… -> {new[:15]}…)"
    )
    steps = [line for line in lines[head + 1 :] if line.startswith("      ") and line[6] != " "]
    assert steps[:5] == [
        "      + will be created",
        f"      ^ data will be uploaded from {tmp_path}/v2.raw ({new})",
        "      ~ will be renamed (the replacement takes over the name)",
        f"      ~ will be renamed ({old_id}) (replaced; deleted next)",
        f"      - will be deleted ({old_id})",
    ]
    assert f"{catalog_name}-os: will be" not in planned.stdout  # the image named once
    assert lines[1] == "Legend: + create/add  ~ update  - delete/remove  -/+ replace  ^ data"
    assert lines[-1] == (
        "Plan: 0 to create, 1 to update, 1 to replace, 0 to delete, 0 member changes."
    )


def test_plan_and_drift_as_a_pull_request_comment(
    replaced: tuple[Path, str], catalog_name: str
) -> None:
    manifest, _ = replaced
    first = run_cli(*local("plan", str(manifest), "--format", "markdown"))
    again = run_cli(*local("plan", str(manifest), "--format", "markdown"))
    assert first.code == 0, first.output
    assert first.stdout == again.stdout  # stable: a bot can compare and update its comment
    lines = first.stdout.splitlines()
    assert lines[0] == f"<!-- glance-catalog plan: {catalog_name} -->"
    assert lines[1] == f"### glance-catalog plan: catalog `{catalog_name}`"
    assert "| `local` | 0 | 1 | 1 | 0 | 0 | 0 |" in lines
    summary = (
        f"<details><summary><code>-/+</code> <b>{catalog_name}-os</b>: must be replaced "
        "(source checksum sha256:"
    )
    (opening,) = [line for line in lines if line.startswith(summary)]
    block = lines[lines.index(opening) :]
    assert block[2] == "```diff" and block[3].startswith(f"-/+ {catalog_name}-os: must be")
    assert block[4] == "+     will be created"
    assert "</details>" in block and "\x1b[" not in first.stdout
    assert "glance_catalog_managed" not in first.stdout
    drift = run_cli(*local("drift", str(manifest), "--format", "markdown"))
    assert drift.code == 2, drift.output
    assert drift.stdout.startswith(f"<!-- glance-catalog drift: {catalog_name} -->\n")
    assert "\nDrift: 2 image(s) differ from the manifest.\n" in drift.stdout


def test_apply_logs_one_json_object_per_step_and_a_summary(
    tmp_path: Path, replaced: tuple[Path, str], probe: GlanceProbe, catalog_name: str
) -> None:
    manifest, old_id = replaced
    refused = run_cli(*local("apply", str(manifest), "--log-format", "json"))
    assert refused.code == 1
    (error,) = [json.loads(line) for line in refused.stdout.splitlines()]
    assert error["event"] == "error" and "--auto-approve" in error["error"]
    assert "--log-format json asks nothing" in refused.stderr

    applied = run_cli(*local("apply", str(manifest), "--auto-approve", "--log-format", "json"))
    assert applied.code == 0, applied.output
    events = [json.loads(line) for line in applied.stdout.splitlines()]
    assert events[0]["event"] == "plan" and events[0]["replace"] == 1
    steps = [event for event in events if event["event"] == "step"]
    assert len(steps) == 6 and all(set(event) >= STEP_FIELDS for event in steps)
    assert all(event["result"] == "done" and event["error"] is None for event in steps)
    assert all(event["target"] == "local" and event["time"].endswith("Z") for event in steps)
    (upload,) = [event for event in steps if event["action"] == "upload"]
    assert upload["bytes"] == 41_000 and upload["image"] == f"{catalog_name}-os"
    assert isinstance(upload["duration_s"], float)
    summary = events[-1]
    assert summary["event"] == "summary" and summary["result"] == "ok"
    assert (summary["replaced"], summary["updated"], summary["steps_done"]) == (1, 1, 6)
    assert "upload started" not in applied.output and "\x1b[" not in applied.output
    assert probe.only(f"{catalog_name}-os")["id"] != old_id

    drift = run_cli(*local("drift", str(manifest), "--log-format", "json"))
    assert drift.code == 0, drift.output
    (verdict,) = [json.loads(line) for line in drift.stdout.splitlines()]
    assert verdict["event"] == "summary" and verdict["result"] == "in_sync"


def test_colour_only_on_a_terminal_and_never_with_no_color(
    tmp_path: Path, catalog_name: str, local_cloud: object
) -> None:
    make_disk(tmp_path / "v1.raw", 40_000, 1)
    manifest = manifest_for(tmp_path, catalog_name, "v1.raw")
    code, coloured = run_on_terminal(local("plan", str(manifest)))
    assert code == 0, coloured
    assert "\x1b[32m" in coloured  # green creates
    for env, extra in (({"NO_COLOR": "1"}, []), ({}, ["--no-color"])):
        code, output = run_on_terminal(local("plan", str(manifest), *extra), env=env)
        assert code == 0, output
        assert "\x1b[" not in output and f"+ {catalog_name}-os: will be created" in output
    code, output = run_on_terminal(local("plan", str(manifest)), env={"NO_COLOR": ""})
    assert "\x1b[32m" in output  # an empty NO_COLOR is no request
    piped = run_cli(*local("plan", str(manifest)))
    assert "\x1b[" not in piped.output and f"+ {catalog_name}-os: will be created" in piped.stdout


def test_verbose_shows_the_bookkeeping_the_plan_hides(
    tmp_path: Path, catalog_name: str, local_cloud: object
) -> None:
    make_disk(tmp_path / "v1.raw", 40_000, 1)
    manifest = manifest_for(tmp_path, catalog_name, "v1.raw")
    marker = f"glance-catalog:{catalog_name}"
    hidden = run_cli(*local("plan", str(manifest)))
    assert '      + tags: ["lts"]\n' in hidden.stdout
    assert "-v shows it.\nPlan: 2 to create," in hidden.stdout
    shown = run_cli(*local("plan", str(manifest), "-v"))
    assert f'      + tags: ["{marker}", "lts"]\n' in shown.stdout
    assert "-v shows it" not in shown.stdout
    markdown = run_cli(*local("plan", str(manifest), "--format", "markdown", "--verbose"))
    assert f'+     tags: ["{marker}", "lts"]' in markdown.stdout
