"""reconciler.cli.reconcile: plan, apply and drift refuse bad input in one clear line, exit 1,
before they reach any cloud. (Their runs against the real Glance: tests/functional.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.cli import main
from reconciler.cli.reconcile import apply, drift, plan

GOOD = "version: 1\ncatalog: c\nimages:\n  - {name: a, disk_format: raw}\n"


@pytest.fixture
def manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("OS_CLOUD", raising=False)
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(tmp_path / "no-clouds.yaml"))
    path = tmp_path / "c.yaml"
    path.write_text(GOOD)
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    printed = capsys.readouterr()
    assert printed.out == ""
    return int(str(exited.value.code)), printed.err


@pytest.mark.parametrize("command", [plan.name, apply.name, drift.name])
def test_without_a_cloud_or_targets_the_run_says_how_to_choose_one(
    manifest: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    assert run(capsys, str(command), str(manifest)) == (
        1,
        "no cloud selected: pass --cloud NAME or set OS_CLOUD (a clouds.yaml entry)\n",
    )


def test_an_invalid_manifest_is_its_errors_and_nothing_changed(
    manifest: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest.write_text(GOOD.replace("raw", "nope"))
    code, err = run(capsys, "plan", str(manifest), "--cloud", "local")
    assert code == 1
    first, last = err.splitlines()
    assert first.startswith(f"{manifest}:4:28: image 'a': disk_format: 'nope' is not one of")
    assert last == "1 error in the manifest; nothing was changed"


def test_a_target_the_catalog_does_not_declare_is_refused(
    manifest: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "drift", str(manifest), "--target", "x") == (
        1,
        "--target x: catalog 'c' declares no targets; choose clouds with --cloud, or add "
        "targets: to the manifest\n",
    )
