"""reconciler.cli.manifests: validate's text and JSON answers and their exit codes.
(update-versions and export against served files and a real Glance: tests/functional/
test_track.py and tests/functional/test_export.py.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.cli import main
from reconciler.cli.manifests import validate

GOOD = "version: 1\ncatalog: c\nimages:\n  - {name: a, disk_format: raw}\n"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main([str(validate.name), *args])
    printed = capsys.readouterr()
    return int(str(exited.value.code)), printed.out, printed.err


def test_a_valid_catalog_is_one_ok_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "c.yaml").write_text(GOOD)
    assert run(capsys, str(tmp_path)) == (0, "OK: catalog 'c', 1 images in 1 file(s).\n", "")


def test_an_invalid_catalog_is_one_positioned_line_an_error_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "c.yaml").write_text(GOOD.replace("raw", "nope"))
    code, out, err = run(capsys, str(tmp_path))
    assert (code, out) == (1, "")
    assert err.startswith(f"{tmp_path / 'c.yaml'}:4:")
    assert "image 'a': disk_format" in err


def test_json_lists_the_errors_for_ci_and_says_valid_when_there_are_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "c.yaml").write_text(GOOD)
    code, out, _ = run(capsys, "--format", "json", str(tmp_path))
    assert (code, json.loads(out)) == (0, {"valid": True, "errors": []})
    (tmp_path / "c.yaml").write_text(GOOD.replace("raw", "nope"))
    code, out, _ = run(capsys, "--format", "json", str(tmp_path))
    document = json.loads(out)
    assert code == 1 and document["valid"] is False
    assert [error["line"] for error in document["errors"]] == [4]
