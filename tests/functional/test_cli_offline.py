"""The CLI without a cloud: validation, user errors, and no network on a bad manifest."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.functional.support import REPO, run_cli, write_manifest

BAD = """
    version: 1
    catalog: c
    images:
      - name: a
        disk_format: raw
        visibility: publc
"""
GOOD = """
    version: 1
    catalog: c
    images:
      - name: a
        disk_format: raw
"""


def test_validate_accepts_the_examples() -> None:
    result = run_cli("validate", str(REPO / "examples" / "catalog"))
    assert result.code == 0, result.output
    assert result.stdout.startswith("OK: catalog 'demo', ")


def test_validate_reports_each_error_on_one_line_and_exits_1(tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path, BAD)
    result = run_cli("validate", str(manifest))
    assert result.code == 1
    assert result.stderr.splitlines() == [
        f"{manifest}:6:17: image 'a': visibility: 'publc' is not one of public, private, "
        "shared, community",
        "1 error in the manifest; nothing was changed",
    ]
    assert "Traceback" not in result.output


def test_validate_json_gives_objects_for_ci_annotations(tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path, BAD)
    result = run_cli("validate", "--format", "json", str(manifest))
    assert result.code == 1
    (error,) = json.loads(result.stdout)["errors"]
    assert error == {
        "file": str(manifest),
        "line": 6,
        "column": 17,
        "image": "a",
        "path": "visibility",
        "message": "'publc' is not one of public, private, shared, community",
        "hint": None,
    }
    good = run_cli("validate", "--format", "json", str(write_manifest(tmp_path, GOOD, "g.yaml")))
    assert (good.code, json.loads(good.stdout)) == (0, {"valid": True, "errors": []})


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["plan"], "Missing argument 'PATHS...'"),
        (["plan", "{manifest}"], "no cloud selected: pass --cloud NAME or set OS_CLOUD"),
        (["plan", "{manifest}", "--cloud", "no-such-cloud"], "cloud 'no-such-cloud':"),
        (["nonsense"], "No such command 'nonsense'"),
        (["apply", "{folder}/missing.json"], "missing.json: cannot read the plan"),
        (["apply", "{folder}/not-a-plan.json"], "not-a-plan.json: not a glance-catalog plan"),
        (["apply", "{folder}/not-a-plan.json", "--prune"], "a saved plan is applied as it is"),
        (["drift", "{manifest}"], "no cloud selected"),
        (["apply", "{manifest}", "--max-delete", "-1"], "Invalid value for '--max-delete'"),
    ],
)
def test_user_errors_are_one_clear_line_and_exit_1(
    tmp_path: Path, args: list[str], message: str
) -> None:
    manifest = write_manifest(tmp_path, GOOD)
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text("clouds: {}\n")
    (tmp_path / "not-a-plan.json").write_text('{"hello": 1}')
    result = run_cli(
        *(a.format(manifest=manifest, folder=tmp_path) for a in args),
        env={"OS_CLIENT_CONFIG_FILE": str(clouds)},
    )
    assert result.code == 1, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output


@pytest.fixture
def listener() -> Iterator[tuple[int, list[object]]]:
    """A TCP port on 127.0.0.1 that records every connection made to it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    accepted: list[object] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            accepted.append(connection.getpeername())
            connection.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], accepted
    stop.set()
    thread.join()
    server.close()


def test_a_bad_manifest_makes_no_api_call(
    tmp_path: Path, listener: tuple[int, list[object]]
) -> None:
    port, accepted = listener
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text(
        "clouds:\n  trap:\n    auth_type: password\n    auth:\n"
        f"      auth_url: http://127.0.0.1:{port}/v3\n      username: u\n      password: p\n"
        "      project_name: p\n      user_domain_name: Default\n"
        "      project_domain_name: Default\n"
    )
    env = {"OS_CLIENT_CONFIG_FILE": str(clouds), "OS_CLOUD": "trap"}
    bad = write_manifest(tmp_path, BAD)
    for command in ("plan", "apply"):
        result = run_cli(
            command, str(bad), "--auto-approve" if command == "apply" else "--json", env=env
        )
        assert result.code == 1 and "visibility" in result.stderr
    assert accepted == []
    # The same trap does see a connection for a valid manifest: the check above can fail.
    good = run_cli("plan", str(write_manifest(tmp_path, GOOD, "good.yaml")), env=env)
    assert good.code == 1
    assert "cannot reach Keystone at" in good.stderr
    assert "Traceback" not in good.output
    assert accepted != []


TWO_TARGETS = """
    version: 1
    catalog: c
    defaults: {disk_format: raw}
    targets:
      - {name: east, cloud: prod}
      - {name: west, cloud: other}
    images:
      - name: base
"""


@pytest.mark.parametrize(
    ("command", "summary"),
    [
        (["plan"], "0 targets: 0 to create, 0 to update, 0 to replace, 0 to delete, 0 member"),
        (["drift"], "0 targets: 0 in sync, 0 drifted, 0 failed."),
        (["apply", "--auto-approve"], "0 targets: 0 to create, 0 to update, 0 to replace"),
    ],
)
def test_targets_and_clouds_that_select_nothing_are_a_run_over_no_target(
    tmp_path: Path, command: list[str], summary: str
) -> None:
    # east is on cloud prod, so --target east --cloud other selects no target: no cloud is
    # opened (clouds.yaml does not exist) and the run is an empty one, not a crash.
    manifest = write_manifest(tmp_path, TWO_TARGETS)
    result = run_cli(
        *command,
        str(manifest),
        "--target",
        "east",
        "--cloud",
        "other",
        env={"OS_CLIENT_CONFIG_FILE": str(tmp_path / "no-clouds.yaml")},
    )
    assert result.code == 0, result.output
    assert result.stdout.startswith(summary)
    assert "unexpected error" not in result.output
