"""The data path against the real local Glance: source faults fail their image only, transient
faults are retried from byte 0, progress lines, --quiet, --parallel, and web-download failures."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.functional.support import (
    REPO,
    GlanceProbe,
    apply_local,
    make_disk,
    raw_catalog,
    run_cli,
    served_disk,
    sha256_of,
    step_line,
)

pytestmark = pytest.mark.glance


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    with served_disk(tmp_path, 3 * 1024 * 1024 + 5, 7) as served:
        yield served


def manifest_of(tmp_path: Path, catalog: str, images: dict[str, str], extra: str = "") -> Path:
    """One raw image per entry: name -> a source mapping in YAML flow style."""
    fields = {name: f", source: {source}{extra}" for name, source in images.items()}
    return raw_catalog(tmp_path, catalog, fields)


apply = apply_local


def test_preflight_finds_sources_that_do_not_answer_and_apply_changes_nothing(
    tmp_path: Path, probe: GlanceProbe, catalog_name: str, served: tuple[Path, str]
) -> None:
    folder, base = served
    checksum = sha256_of(folder / "disk.raw")
    manifest = manifest_of(
        tmp_path,
        catalog_name,
        {
            "good": f'{{url: "{base}/disk.raw", checksum: "{checksum}"}}',
            "missing": f'{{url: "{base}/nothing.raw", checksum: "{checksum}"}}',
            "reset": f'{{url: "{base}/reset/disk.raw", checksum: "{checksum}"}}',
        },
    )
    planned = run_cli("plan", str(manifest), "--cloud", "local")
    assert planned.code == 1, planned.output
    lines = planned.output.splitlines()
    assert any(
        line.startswith(f"  ! {manifest}:")
        and f"image '{catalog_name}-missing': {base}/nothing.raw answered HTTP 404" in line
        for line in lines
    ), planned.output
    assert f"image '{catalog_name}-reset': cannot fetch {base}/reset/disk.raw: " in planned.output
    assert "Max retries" not in planned.output and "Traceback" not in planned.output
    assert "2 conflicts (marked !): the plan cannot be applied until they are resolved:\n" in (
        planned.stdout
    )
    # Repeated on stderr, so that the reason for exit 1 is the last thing printed.
    assert lines[-1] == "the plan has 2 conflicts: it cannot be applied until they are resolved"
    code, output = apply(manifest, "--parallel", "4")
    assert code == 1, output
    assert "the plan has conflicts; nothing was changed" in output
    for name in ("good", "missing", "reset"):
        assert probe.named(f"{catalog_name}-{name}") == []


def test_a_source_failing_during_apply_fails_its_image_only_and_leaves_nothing_active(
    tmp_path: Path, probe: GlanceProbe, catalog_name: str, served: tuple[Path, str]
) -> None:
    folder, base = served
    checksum = sha256_of(folder / "disk.raw")
    manifest = manifest_of(
        tmp_path,
        catalog_name,
        {
            "good": f'{{url: "{base}/disk.raw", checksum: "{checksum}"}}',
            "vanishing": f'{{url: "{base}/vanishing/disk.raw", checksum: "{checksum}"}}',
            "short": f'{{url: "{base}/short/disk.raw", checksum: "{checksum}"}}',
        },
    )
    code, output = apply(manifest, "--parallel", "4")
    assert code == 1, output
    vanishing = step_line(output, f"{catalog_name}-vanishing", "upload")
    assert f"failed ({base}/vanishing/disk.raw answered HTTP 404" in vanishing
    short = step_line(output, f"{catalog_name}-short", "upload")
    assert f"failed (reading {base}/short/disk.raw failed after" in short
    assert "Traceback" not in output and "IncompleteRead" not in output
    failed = sorted(f"{catalog_name}-{name}" for name in ("short", "vanishing"))
    assert f"failed ({', '.join(failed)})" in output
    assert probe.only(f"{catalog_name}-good")["status"] == "active"
    for name in failed:
        assert probe.only(name)["status"] == "queued"


def test_a_stalling_source_fails_its_image_within_one_timeout(
    tmp_path: Path, probe: GlanceProbe, catalog_name: str, served: tuple[Path, str]
) -> None:
    folder, base = served
    checksum = sha256_of(folder / "disk.raw")
    manifest = manifest_of(
        tmp_path,
        catalog_name,
        {"stall": f'{{url: "{base}/hang/disk.raw", checksum: "{checksum}"}}'},
    )
    started = time.monotonic()
    code, output = apply(manifest, "--timeout", "3")
    elapsed = time.monotonic() - started
    assert code == 1, output
    assert f"{base}/hang/disk.raw sent no data for 3 s after " in output, output
    assert "not retried" in output and output.count("upload started") == 1
    assert elapsed < 15, elapsed  # one timeout, not one per try
    assert probe.only(f"{catalog_name}-stall")["status"] == "queued"


def test_a_source_that_redirects_to_a_file_is_refused_at_once(
    tmp_path: Path, probe: GlanceProbe, catalog_name: str, served: tuple[Path, str]
) -> None:
    folder, base = served
    checksum = sha256_of(folder / "disk.raw")
    manifest = manifest_of(
        tmp_path, catalog_name, {"f": f'{{url: "{base}/to-file/disk.raw", checksum: "{checksum}"}}'}
    )
    planned = run_cli("plan", str(manifest), "--cloud", "local")
    assert planned.code == 1, planned.output
    assert f"cannot fetch {base}/to-file/disk.raw: it leads to a URL that is not http(s)" in (
        planned.output
    )
    assert "Traceback" not in planned.output


def test_transient_source_faults_are_retried_from_byte_zero(
    tmp_path: Path, probe: GlanceProbe, catalog_name: str, served: tuple[Path, str]
) -> None:
    folder, base = served
    checksum = sha256_of(folder / "disk.raw")
    manifest = manifest_of(
        tmp_path,
        catalog_name,
        {
            "flaky": f'{{url: "{base}/fail-once/disk.raw", checksum: "{checksum}"}}',
            "cut": f'{{url: "{base}/short-once/disk.raw", checksum: "{checksum}"}}',
        },
    )
    code, output = apply(manifest, "--parallel", "1")
    assert code == 0, output
    assert f"{catalog_name}-cut: upload started again from byte 0 (3.0 MiB)" in output
    sha512 = hashlib.sha512((folder / "disk.raw").read_bytes()).hexdigest()
    for name in ("flaky", "cut"):
        image = probe.only(f"{catalog_name}-{name}")
        assert image["status"] == "active" and image["os_hash_value"] == sha512
    assert run_cli("plan", str(manifest), "--cloud", "local", "--detailed-exitcode").code == 0


def test_progress_is_a_log_line_per_upload_off_a_terminal_and_quiet_silences_it(
    tmp_path: Path, probe: GlanceProbe, catalog_name: str, served: tuple[Path, str]
) -> None:
    folder, base = served
    checksum = sha256_of(folder / "disk.raw")
    manifest = manifest_of(
        tmp_path, catalog_name, {"one": f'{{url: "{base}/disk.raw", checksum: "{checksum}"}}'}
    )
    code, output = apply(manifest)
    assert code == 0, output
    assert f"{catalog_name}-one: upload started (3.0 MiB)" in output
    assert f"{catalog_name}-one: upload finished 3.0 MiB in " in output and "/s)" in output

    make_disk(tmp_path / "other.raw", 10_000, 9)
    quiet = manifest_of(
        tmp_path,
        catalog_name,
        {
            "one": f'{{url: "{base}/disk.raw", checksum: "{checksum}"}}',
            "two": "{file: other.raw}",
            "bad": f'{{url: "{base}/vanishing/disk.raw", checksum: "{checksum}"}}',
        },
    )
    code, output = apply(quiet, "--quiet")
    assert code == 1
    assert "upload started" not in output and "will be created" not in output
    assert f"{catalog_name}-two: reserve" not in output
    assert f"{catalog_name}-bad: upload" in output and "answered HTTP 404" in output
    assert f"; 1 image failed ({catalog_name}-bad); steps: 3 done, 1 failed" in output
    assert probe.only(f"{catalog_name}-two")["status"] == "active"


def test_parallel_apply_converges_many_images(
    tmp_path: Path, probe: GlanceProbe, catalog_name: str
) -> None:
    images = {}
    for index in range(6):
        disk = make_disk(tmp_path / f"d{index}.raw", 200_000 + index, index)
        images[f"p{index}"] = f'{{file: {disk.name}, checksum: "{sha256_of(disk)}"}}'
    manifest = manifest_of(tmp_path, catalog_name, images, ", min_ram: 64")
    code, output = apply(manifest, "--parallel", "4")
    assert code == 0, output
    assert (
        "Apply complete: 6 created, 0 updated, 0 replaced, 0 deleted, 0 member changes; "
        "12 steps done."
    ) in output
    for index in range(6):
        image = probe.only(f"{catalog_name}-p{index}")
        assert image["status"] == "active" and image["size"] == 200_000 + index
    assert run_cli("plan", str(manifest), "--cloud", "local", "--detailed-exitcode").code == 0


def test_web_download_failures_are_errors_and_wrong_data_is_not_kept(
    tmp_path: Path, probe: GlanceProbe, catalog_name: str, served: tuple[Path, str]
) -> None:
    folder, base = served
    checksum = sha256_of(folder / "disk.raw")
    wrong = "sha256:" + "1" * 64
    manifest = manifest_of(
        tmp_path,
        catalog_name,
        {
            "gone": f'{{url: "{base}/vanishing/disk.raw", checksum: "{checksum}", '
            "method: web-download}",
            "wrong": f'{{url: "{base}/disk.raw", checksum: "{wrong}", method: web-download}}',
            "right": f'{{url: "{base}/disk.raw", checksum: "{checksum}", method: web-download}}',
        },
    )
    code, output = apply(manifest, "--parallel", "4")
    assert code == 1, output
    gone = step_line(output, f"{catalog_name}-gone", "import")
    assert f"failed (Glance could not import {base}/vanishing/disk.raw" in gone
    assert probe.only(f"{catalog_name}-gone")["status"] == "queued"
    wrong = step_line(output, f"{catalog_name}-wrong", "import")
    assert "failed (Glance imported data with sha256:" in wrong
    assert "the image was deleted so that nobody boots it" in output
    assert probe.named(f"{catalog_name}-wrong") == []
    assert probe.only(f"{catalog_name}-right")["status"] == "active"


def test_ctrl_c_lets_the_running_upload_finish_and_starts_nothing_more(
    tmp_path: Path, probe: GlanceProbe, catalog_name: str, served: tuple[Path, str]
) -> None:
    folder, base = served
    # The first upload's source holds its data until the signal has been sent, so the signal
    # lands during it however late the "upload started" line is read on a loaded machine.
    make_disk(folder / "long.raw", 4 * 1024 * 1024, 11)
    checksum = sha256_of(folder / "long.raw")
    held = f'{{url: "{base}/held/long.raw", checksum: "{checksum}"}}'
    manifest = manifest_of(tmp_path, catalog_name, {f"i{index}": held for index in range(4)})
    args = ["apply", str(manifest), "--cloud", "local", "--auto-approve", "--parallel", "1"]
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},  # each line as it is written
    )
    assert process.stdout is not None
    seen: list[str] = []
    for line in process.stdout:
        seen.append(line)
        if "upload started" in line:
            process.send_signal(signal.SIGINT)
            time.sleep(0.5)  # the signal is handled before the upload can end
            (folder / "long.raw.release").touch()
            break
    rest, _ = process.communicate(timeout=120)
    output = "".join(seen) + rest
    assert process.returncode == 1, output
    assert "interrupted: steps already running were finished" in output
    assert "Traceback" not in output
    (started,) = [line.split(":")[0] for line in seen if "upload started" in line]
    assert probe.only(started)["status"] == "active"
    others = [
        f"{catalog_name}-i{index}" for index in range(4) if f"{catalog_name}-i{index}" != started
    ]
    statuses = [image["status"] for name in others for image in probe.named(name)]
    assert "active" not in statuses, statuses
