"""Shell completion (click's, _GLANCE_CATALOG_COMPLETE): --cloud completes the cloud names of
the clouds.yaml a run would read, without a request, and nothing (never a traceback) when that
file is broken; every option with choices completes them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.shell_completion import BashComplete

from reconciler.cli import cli
from reconciler.cli.options import complete_cloud_names

CLOUDS = """\
clouds:
  production:
    auth: {auth_url: "https://keystone.example:5000/v3", password: not-a-secret}
  prod-eu: {region_name: eu}
  staging: {}
"""


def complete(
    tmp_path: Path, line: str, *, clouds: str | bytes | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """``glance-catalog`` run by bash's completion for ``line`` (the word being completed is
    its last, empty when it ends with a space), in a fresh process, the clouds.yaml found
    through OS_CLIENT_CONFIG_FILE holding ``clouds``."""
    words = line.split(" ")
    settings = {
        "HOME": str(tmp_path),
        "_GLANCE_CATALOG_COMPLETE": "bash_complete",
        "COMP_WORDS": line,
        "COMP_CWORD": str(len(words) - 1),
    }
    if clouds is not None:
        data = clouds.encode() if isinstance(clouds, str) else clouds
        (tmp_path / "clouds.yaml").write_bytes(data)
        settings["OS_CLIENT_CONFIG_FILE"] = str(tmp_path / "clouds.yaml")
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OS_", "_GLANCE_CATALOG", "COMP_"))
    }
    return subprocess.run(
        [sys.executable, "-m", "reconciler"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**environ, **settings, **env},
        timeout=60,
    )


def candidates(result: subprocess.CompletedProcess[str]) -> list[str]:
    assert result.returncode == 0 and result.stderr == "", result
    return [line.split(",", 1)[1] for line in result.stdout.splitlines() if line]


@pytest.mark.parametrize("command", ["plan", "apply", "drift"])
def test_cloud_names_complete_from_the_clouds_yaml_of_os_client_config_file(
    tmp_path: Path, command: str
) -> None:
    result = complete(tmp_path, f"glance-catalog {command} --cloud ", clouds=CLOUDS)
    assert candidates(result) == ["prod-eu", "production", "staging"]
    assert result.stdout.splitlines()[0] == "plain,prod-eu"


def test_only_the_names_that_start_with_the_word_typed_complete(tmp_path: Path) -> None:
    result = complete(tmp_path, "glance-catalog plan catalog --cloud prod", clouds=CLOUDS)
    assert candidates(result) == ["prod-eu", "production"]


def test_names_in_secure_yaml_complete_too(tmp_path: Path) -> None:
    (tmp_path / "secure.yaml").write_text("clouds:\n  vault-only: {}\n")
    result = complete(
        tmp_path,
        "glance-catalog drift --cloud ",
        clouds=CLOUDS,
        OS_CLIENT_SECURE_FILE=str(tmp_path / "secure.yaml"),
    )
    assert candidates(result) == ["prod-eu", "production", "staging", "vault-only"]


def test_the_clouds_yaml_in_the_config_folder_is_found_as_a_run_finds_it(tmp_path: Path) -> None:
    folder = tmp_path / ".config" / "openstack"
    folder.mkdir(parents=True)
    (folder / "clouds.yaml").write_text(CLOUDS)
    result = complete(tmp_path, "glance-catalog plan --cloud st")
    assert candidates(result) == ["staging"]


@pytest.mark.parametrize(
    "broken",
    [
        "clouds: [unclosed\n",  # invalid YAML
        "clouds:\n  - production\n",  # clouds is a list
        "just text\n",  # not a mapping
        b"clouds:\n  \xff\xfe: {}\n",  # not UTF-8
    ],
)
def test_a_broken_clouds_yaml_completes_nothing_and_prints_no_traceback(
    tmp_path: Path, broken: str
) -> None:
    result = complete(tmp_path, "glance-catalog plan --cloud ", clouds=broken)
    assert candidates(result) == []


def test_a_missing_os_client_config_file_completes_nothing(tmp_path: Path) -> None:
    result = complete(
        tmp_path,
        "glance-catalog plan --cloud ",
        OS_CLIENT_CONFIG_FILE=str(tmp_path / "nowhere.yaml"),
    )
    assert candidates(result) == []


def test_completing_a_cloud_name_never_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object) -> None:
        raise RuntimeError("a bug in the search")

    monkeypatch.setattr("reconciler.gateway.cloudconfig.check_config_files", broken)
    context = click.Context(cli)
    (param,) = [p for p in cli.commands["plan"].params if p.name == "clouds"]
    assert complete_cloud_names(context, param, "") == []


def test_format_choices_complete(tmp_path: Path) -> None:
    result = complete(tmp_path, "glance-catalog validate --format ")
    assert candidates(result) == ["text", "json"]


def test_every_option_with_choices_completes_them() -> None:
    completer = BashComplete(cli, {}, "glance-catalog", "_GLANCE_CATALOG_COMPLETE")
    checked = 0
    for name, command in cli.commands.items():
        for param in command.params:
            if isinstance(param, click.Option) and isinstance(param.type, click.Choice):
                for option in param.opts:
                    items = completer.get_completions([name, option], "")
                    assert [item.value for item in items] == list(param.type.choices), option
                    checked += 1
    assert checked >= 1  # validate --format today; plan's and drift's once they have one


@pytest.mark.parametrize(
    ("shell", "start"),
    [
        ("bash_source", "_glance_catalog_completion() {"),
        ("zsh_source", "#compdef glance-catalog"),
        ("fish_source", "function _glance_catalog_completion;"),
    ],
)
def test_the_completion_scripts_for_bash_zsh_and_fish(
    tmp_path: Path, shell: str, start: str
) -> None:
    result = complete(tmp_path, "glance-catalog", _GLANCE_CATALOG_COMPLETE=shell)
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.lstrip().startswith(start)
