"""examples/ci: every ``glance-catalog`` command the CI, Kubernetes and systemd examples run is
one the CLI accepts (its subcommand, options and choice values, checked against the real click
command tree), and the examples have the shape their comments promise: plan's exit 2 passes a
CI job, the CronJobs never overlap and run as non-root, drift's exit 2 is success for systemd.

The shell steps that decide on exit codes are run for real with bash, a fake glance-catalog on
PATH and, for the merge request note, a fake GitLab API on 127.0.0.1.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from reconciler.cli import cli
from tests.examples.commands import PROGRAM, check_command_line, is_program, shell_commands

REPO = Path(__file__).resolve().parents[2]
CI = REPO / "examples" / "ci"
EXAMPLES = sorted(path for path in CI.rglob("*") if path.is_file())


# Reading the examples


def load_yaml(path: Path) -> list[Any]:
    return [document for document in yaml.safe_load_all(path.read_text()) if document is not None]


def parse_unit(path: Path) -> dict[str, list[tuple[str, str]]]:
    """A systemd unit file: each section's ``Key=value`` lines in order (keys repeat, as
    Environment= does), continuation lines joined, comments dropped."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    pending = ""
    for raw in path.read_text().splitlines():
        line = pending + raw.strip() if pending else raw.strip()
        pending = ""
        if not line or line[0] in "#;":
            continue
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
            continue
        assert current is not None, f"{path}: {line!r} is outside a section"
        key, sep, value = line.partition("=")
        assert sep, f"{path}: {line!r} is not Key=value"
        current.append((key.strip(), value.strip()))
    return sections


def unit_values(unit: dict[str, list[tuple[str, str]]], section: str, key: str) -> list[str]:
    return [value for name, value in unit.get(section, []) if name == key]


# Finding the glance-catalog command lines


@dataclass(frozen=True)
class Invocation:
    where: str
    argv: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.where}: {PROGRAM} {shlex.join(self.argv)}"


def _github_invocations(path: Path, rel: str) -> Iterator[Invocation]:
    (workflow,) = load_yaml(path)
    for job_name, job in workflow["jobs"].items():
        for index, step in enumerate(job.get("steps", [])):
            if "run" in step:
                where = f"{rel}: jobs.{job_name}.steps[{index}] ({step.get('name', '')})"
                for argv in shell_commands(step["run"]):
                    yield Invocation(where, argv)


def _gitlab_invocations(path: Path, rel: str) -> Iterator[Invocation]:
    (pipeline,) = load_yaml(path)
    for job_name, job in pipeline.items():
        if not isinstance(job, dict):
            continue
        for key in ("before_script", "script", "after_script"):
            for index, entry in enumerate(job.get(key, [])):
                for argv in shell_commands(entry):
                    yield Invocation(f"{rel}: {job_name}.{key}[{index}]", argv)


def _containers(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        for key in ("initContainers", "containers"):
            yield from node.get(key) or []
        for value in node.values():
            yield from _containers(value)
    elif isinstance(node, list):
        for value in node:
            yield from _containers(value)


def _kubernetes_invocations(path: Path, rel: str) -> Iterator[Invocation]:
    for document in load_yaml(path):
        name = document.get("metadata", {}).get("name", "?")
        for container in _containers(document.get("spec")):
            where = f"{rel}: {document['kind']} {name}, container {container['name']}"
            command = [str(word) for word in container.get("command") or []]
            args = [str(word) for word in container.get("args") or []]
            if command and is_program(command[0]):
                yield Invocation(where, (*command[1:], *args))
            elif command[:2] in (["sh", "-c"], ["bash", "-c"], ["/bin/sh", "-c"]):
                for argv in shell_commands(command[2]):
                    yield Invocation(where, argv)
            elif not command and PROGRAM in container["image"]:
                yield Invocation(where, tuple(args))  # the image's ENTRYPOINT
            else:
                assert PROGRAM not in " ".join(command + args), f"{where}: not understood"


def _systemd_invocations(path: Path, rel: str) -> Iterator[Invocation]:
    unit = parse_unit(path)
    for key in ("ExecStartPre", "ExecStart", "ExecStartPost", "ExecStop", "ExecStopPost"):
        for value in unit_values(unit, "Service", key):
            argv = shlex.split(value.lstrip("@-:+!|"))
            if is_program(argv[0]):
                yield Invocation(f"{rel}: {key}", tuple(argv[1:]))


def invocations(path: Path) -> list[Invocation]:
    rel = str(path.relative_to(REPO))
    if path.parent.name == "kubernetes":
        return list(_kubernetes_invocations(path, rel))
    if path.suffix in (".service", ".timer"):
        return list(_systemd_invocations(path, rel))
    if path.name == "github-actions.yml":
        return list(_github_invocations(path, rel))
    if path.name == "gitlab-ci.yml":
        return list(_gitlab_invocations(path, rel))
    raise AssertionError(f"{rel}: no reader for this example; add one to {Path(__file__).name}")


# The checker itself, on a small command tree and on today's real one


@pytest.fixture
def toy() -> click.Group:
    @click.group(context_settings={"help_option_names": ["-h", "--help"]})
    def group() -> None:
        pass

    @group.command()
    @click.argument("paths", nargs=-1, required=True)
    @click.option("--format", type=click.Choice(["text", "markdown"]), default="text")
    @click.option("-o", "--out")
    @click.option("--parallel", type=click.IntRange(1, 16), default=4)
    @click.option("--detailed-exitcode", is_flag=True)
    def plan(**_: object) -> None:
        pass

    @group.command()
    @click.argument("plan_file")
    def show(**_: object) -> None:
        pass

    return group


@pytest.mark.parametrize(
    "line",
    [
        "plan --format markdown -o plan.json --detailed-exitcode catalog",
        "plan --format=markdown --out=plan.json catalog more",
        'plan --format "$FORMAT" --parallel "$N" catalog',
        "plan --help",
        "plan -h catalog",
        "plan catalog -- --not-an-option",
        "show plan.json",
        "--help",
    ],
)
def test_the_checker_accepts_what_the_command_accepts(toy: click.Group, line: str) -> None:
    assert check_command_line(toy, shlex.split(line)) == []


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("export catalog", "glance-catalog has no subcommand 'export' (it has: plan, show)"),
        ("plan --log-format json catalog", "'plan' has no option --log-format (its options: "),
        ("plan --no-color catalog", "'plan' has no option --no-color"),
        ("plan --format yaml catalog", "'plan': --format 'yaml' is not one of its choices"),
        ("plan --format=json catalog", "'plan': --format 'json' is not one of its choices"),
        ("plan --parallel 99 catalog", "'plan': --parallel '99': 99 is not in the range"),
        ("plan --detailed-exitcode=yes catalog", "--detailed-exitcode is a flag"),
        ("plan catalog --format", "'plan': --format needs a value"),
        ("plan --format text", "'plan': missing argument(s) PATHS"),
        ("show", "'show': missing argument(s) PLAN_FILE"),
        ("show a.json b.json", "'show': unexpected argument(s) b.json"),
        ("--verbose plan catalog", "glance-catalog has no option --verbose"),
    ],
)
def test_the_checker_names_what_the_command_would_refuse(
    toy: click.Group, line: str, problem: str
) -> None:
    problems = check_command_line(toy, shlex.split(line))
    assert any(problem in p for p in problems), problems


@pytest.mark.parametrize(
    "line",
    [
        "validate --format json -r catalog",
        "plan --detailed-exitcode -o plan.json -r catalog",
        "plan --cloud production --prune --parallel 8 --timeout 30 --json catalog",
        "apply plan.json",
        "apply --auto-approve --max-delete 0 -q -r catalog",
        "drift --json -r catalog",
        "update-versions --detailed-exitcode catalog",
    ],
)
def test_the_real_cli_accepts_the_commands_it_has_today(line: str) -> None:
    assert check_command_line(cli, shlex.split(line)) == []


def test_the_real_cli_refuses_an_option_it_does_not_have() -> None:
    assert check_command_line(cli, ["validate", "--format", "yaml", "--no-such-option", "x"]) == [
        "'validate': --format 'yaml' is not one of its choices (text, json)",
        "'validate' has no option --no-such-option (its options: --format, --help, --recursive)",
    ]


# The extractor itself


def test_commands_are_found_where_the_shell_would_run_them() -> None:
    script = "\n".join(
        [
            'python -m pip install "glance-catalog==1.0" glance-catalog',
            "# glance-catalog apply --in-a-comment",
            'echo "glance-catalog apply in a string"',
            "set +e",
            'OS_CLOUD=prod glance-catalog plan --format markdown -o plan.json "$DIR" > p.md 2>&1',
            "if glance-catalog drift x; then echo ok; fi",
            "glance-catalog validate \\",
            "    --format json catalog | tee out.json",
            "python - <<'PY'",
            "import os; os.system('glance-catalog apply --not-shell')",
            "PY",
            "/opt/glance-catalog/bin/glance-catalog apply plan.json && echo done",
        ]
    )
    assert shell_commands(script) == [
        ("plan", "--format", "markdown", "-o", "plan.json", "$DIR"),
        ("drift", "x"),
        ("validate", "--format", "json", "catalog"),
        ("apply", "plan.json"),
    ]


def test_every_example_is_read_and_runs_the_commands_it_is_for() -> None:
    expected = {
        "github-actions.yml": {"validate", "plan", "apply"},
        "gitlab-ci.yml": {"validate", "plan", "apply"},
        "kubernetes/cronjob-drift.yaml": {"drift"},
        "kubernetes/cronjob-apply.yaml": {"apply"},
        "systemd/glance-catalog-drift.service": {"drift"},
        "systemd/glance-catalog-apply.service": {"apply"},
        "systemd/glance-catalog-drift.timer": set(),
        "systemd/glance-catalog-apply.timer": set(),
    }
    found = {
        str(path.relative_to(CI)): {inv.argv[0] for inv in invocations(path) if inv.argv}
        for path in EXAMPLES
    }
    assert found == expected


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: str(path.relative_to(CI)))
def test_every_glance_catalog_command_in_the_example_is_one_the_cli_accepts(path: Path) -> None:
    problems = [
        f"{invocation}\n    -> {problem}"
        for invocation in invocations(path)
        for problem in check_command_line(cli, invocation.argv)
    ]
    assert not problems, "commands the CLI does not accept (yet):\n" + "\n".join(problems)


# Running the steps that decide on exit codes


@pytest.fixture
def fake_bin(tmp_path: Path) -> Path:
    """A folder for PATH with a fake glance-catalog (prints $FAKE_STDOUT's file, records its
    arguments in $FAKE_ARGS, exits $FAKE_EXIT) and ``python`` (this interpreter)."""
    folder = tmp_path / "bin"
    folder.mkdir()
    fake = folder / PROGRAM
    fake.write_text(
        "#!/bin/bash\n"
        'printf "%s\\n" "$@" > "$FAKE_ARGS"\n'
        '[ -n "${FAKE_STDOUT:-}" ] && cat "$FAKE_STDOUT"\n'
        'exit "${FAKE_EXIT:-0}"\n'
    )
    fake.chmod(0o755)
    (folder / "python").symlink_to(sys.executable)
    return folder


def run_bash(
    script: str, cwd: Path, fake_bin: Path, env: dict[str, str], *, exit_code: int, stdout: str
) -> subprocess.CompletedProcess[str]:
    """``script`` as CI runners run it (bash -eo pipefail), the fake glance-catalog exiting
    ``exit_code`` after printing ``stdout``."""
    (cwd / "fake-stdout").write_text(stdout)
    full_env = {
        "PATH": f"{fake_bin}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(cwd),
        "FAKE_EXIT": str(exit_code),
        "FAKE_STDOUT": str(cwd / "fake-stdout"),
        "FAKE_ARGS": str(cwd / "fake-args"),
        **env,
    }
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
    )


PLAN_MARKDOWN = "<!-- glance-catalog plan: images -->\n## glance-catalog plan\n\n1 to create\n"
INVALID = {
    "valid": False,
    "errors": [
        {
            "file": "catalog/ubuntu.yaml",
            "line": 4,
            "column": 28,
            "image": "a",
            "path": "disk_format",
            "message": "'bogus' is not one of raw, qcow2\nsecond line 100%",
            "hint": "use qcow2",
        }
    ],
}


def github_workflow() -> dict[Any, Any]:
    (workflow,) = load_yaml(CI / "github-actions.yml")
    assert isinstance(workflow, dict)
    return workflow


def github_step(job: str, command: str) -> dict[str, Any]:
    """The step of ``job`` whose run: invokes glance-catalog ``command``."""
    for step in github_workflow()["jobs"][job]["steps"]:
        if any(argv[:1] == (command,) for argv in shell_commands(step.get("run", ""))):
            assert isinstance(step, dict)
            return step
    raise AssertionError(f"no step of job {job} runs glance-catalog {command}")


def test_the_github_workflow_plans_pull_requests_and_applies_main_from_a_saved_plan() -> None:
    workflow = github_workflow()
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare on: as true
    assert "pull_request" in triggers and triggers["push"]["branches"] == ["main"]
    jobs = workflow["jobs"]
    assert jobs["plan"]["permissions"]["pull-requests"] == "write"
    assert "pull_request" in jobs["plan"]["if"] and "push" in jobs["apply"]["if"]
    assert "refs/heads/main" in jobs["apply"]["if"]
    assert jobs["apply"]["concurrency"]["cancel-in-progress"] is False
    apply_commands = [
        argv for step in jobs["apply"]["steps"] for argv in shell_commands(step.get("run", ""))
    ]
    assert apply_commands == [
        ("plan", "-o", "plan.json", "-r", "$MANIFESTS"),
        ("apply", "plan.json"),
    ]
    uploads = [
        s for s in jobs["plan"]["steps"] if s.get("uses", "").startswith("actions/upload-artifact")
    ]
    assert [s["with"]["path"] for s in uploads] == ["plan.json"]
    plan = github_step("plan", "plan")
    assert {"--format", "markdown", "--detailed-exitcode", "-o", "plan.json"} <= set(
        shell_commands(plan["run"])[0]
    )


@pytest.mark.parametrize(("code", "passes"), [(0, True), (2, True), (1, False), (3, False)])
def test_the_github_plan_step_passes_on_exit_0_and_2_only(
    tmp_path: Path, fake_bin: Path, code: int, passes: bool
) -> None:
    step = github_step("plan", "plan")
    output = tmp_path / "github-output"
    result = run_bash(
        step["run"],
        tmp_path,
        fake_bin,
        {**github_workflow()["env"], "GITHUB_OUTPUT": str(output)},
        exit_code=code,
        stdout=PLAN_MARKDOWN,
    )
    assert (result.returncode == 0) is passes, result
    assert (tmp_path / "plan.md").read_text() == PLAN_MARKDOWN
    outputs = output.read_text().splitlines()
    assert f"exitcode={code}" in outputs
    if passes:
        assert f"changes={'true' if code == 2 else 'false'}" in outputs


def test_the_github_validate_step_turns_errors_into_annotations_and_fails(
    tmp_path: Path, fake_bin: Path
) -> None:
    step = github_step("validate", "validate")
    env = dict(github_workflow()["env"])
    result = run_bash(step["run"], tmp_path, fake_bin, env, exit_code=1, stdout=json.dumps(INVALID))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "::error file=catalog/ubuntu.yaml,line=4,col=28,title=glance-catalog validate::"
        "'bogus' is not one of raw, qcow2%0Asecond line 100%25 (hint: use qcow2)"
    ]
    valid = run_bash(step["run"], tmp_path, fake_bin, env, exit_code=0, stdout='{"valid": true}')
    assert valid.returncode == 0 and valid.stdout == ""
    crashed = run_bash(step["run"], tmp_path, fake_bin, env, exit_code=3, stdout="")
    assert crashed.returncode == 3


def test_the_github_clouds_yaml_is_a_0600_file_named_by_os_client_config_file(
    tmp_path: Path, fake_bin: Path
) -> None:
    for job in ("plan", "apply"):
        (step,) = [
            s for s in github_workflow()["jobs"][job]["steps"] if "CLOUDS_YAML" in s.get("env", {})
        ]
        assert step["env"]["CLOUDS_YAML"] == "${{ secrets.CLOUDS_YAML }}"
        github_env = tmp_path / f"github-env-{job}"
        runner_temp = tmp_path / f"runner-{job}"
        runner_temp.mkdir()
        env = {
            "CLOUDS_YAML": "clouds:\n  production: {}",
            "RUNNER_TEMP": str(runner_temp),
            "GITHUB_ENV": str(github_env),
        }
        result = run_bash(step["run"], tmp_path, fake_bin, env, exit_code=0, stdout="")
        assert result.returncode == 0, result
        clouds = runner_temp / "clouds.yaml"
        assert stat.S_IMODE(clouds.stat().st_mode) == 0o600
        assert clouds.read_text() == "clouds:\n  production: {}\n"
        assert github_env.read_text() == f"OS_CLIENT_CONFIG_FILE={clouds}\n"


def _github_script() -> str:
    (step,) = [
        s
        for s in github_workflow()["jobs"]["plan"]["steps"]
        if s.get("uses", "").startswith("actions/github-script")
    ]
    assert step["if"] == "${{ !cancelled() && hashFiles('plan.md') != '' }}"
    script = step["with"]["script"]
    assert isinstance(script, str)
    return script


# github-script runs the script as the body of an async function of these names.
_GITHUB_SCRIPT_HARNESS = """
const fs = require('fs');
const [scriptFile, scenarioFile] = process.argv.slice(2);
const scenario = JSON.parse(fs.readFileSync(scenarioFile, 'utf8'));
const calls = [];
const github = {
  paginate: async (method, args) => { calls.push(['list', args]); return scenario.comments; },
  rest: { issues: {
    listComments: () => { throw new Error('called through paginate only'); },
    updateComment: async (args) => { calls.push(['update', args]); },
    createComment: async (args) => { calls.push(['create', args]); },
  } },
};
const context = { repo: { owner: 'o', repo: 'r' }, issue: { number: 7 } };
const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
const body = fs.readFileSync(scriptFile, 'utf8');
const run = new AsyncFunction('require', 'github', 'context', 'core', body);
run(require, github, context, {}).then(() => console.log(JSON.stringify(calls)));
"""


def _run_github_script(tmp_path: Path, comments: list[dict[str, Any]], plan: str) -> list[Any]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    (tmp_path / "plan.md").write_text(plan)
    (tmp_path / "script.js").write_text(_github_script())
    (tmp_path / "harness.js").write_text(_GITHUB_SCRIPT_HARNESS)
    (tmp_path / "scenario.json").write_text(json.dumps({"comments": comments}))
    result = subprocess.run(
        [node, "harness.js", "script.js", "scenario.json"],
        cwd=tmp_path,
        env={**os.environ, "MANIFESTS": "catalog"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    calls = json.loads(result.stdout)
    assert calls[0] == ["list", {"owner": "o", "repo": "r", "issue_number": 7, "per_page": 100}]
    assert isinstance(calls, list)
    return calls[1:]


def test_the_github_comment_updates_the_bots_own_comment_found_by_its_marker(
    tmp_path: Path,
) -> None:
    comments = [
        {"id": 1, "user": {"type": "User"}, "body": PLAN_MARKDOWN},  # a person quoting it
        {"id": 2, "user": {"type": "Bot"}, "body": "<!-- glance-catalog plan: other -->\nx"},
        {"id": 3, "user": {"type": "Bot"}, "body": PLAN_MARKDOWN.replace("1 to", "2 to")},
    ]
    calls = _run_github_script(tmp_path, comments, PLAN_MARKDOWN)
    assert calls == [
        ["update", {"owner": "o", "repo": "r", "comment_id": 3, "body": PLAN_MARKDOWN}]
    ]


def test_the_github_comment_is_created_once_and_marked_when_the_plan_has_no_marker(
    tmp_path: Path,
) -> None:
    calls = _run_github_script(
        tmp_path, [{"id": 1, "user": {"type": "Bot"}, "body": "hi"}], "# P\n"
    )
    body = "<!-- glance-catalog plan: catalog -->\n# P\n"
    assert calls == [["create", {"owner": "o", "repo": "r", "issue_number": 7, "body": body}]]


def gitlab_pipeline() -> dict[str, Any]:
    (pipeline,) = load_yaml(CI / "gitlab-ci.yml")
    assert isinstance(pipeline, dict)
    return pipeline


def test_the_gitlab_pipeline_plans_merge_requests_and_applies_the_default_branch() -> None:
    pipeline = gitlab_pipeline()
    mr = '$CI_PIPELINE_SOURCE == "merge_request_event"'
    default = '$CI_PIPELINE_SOURCE == "push" && $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH'
    assert [rule["if"] for rule in pipeline["workflow"]["rules"]] == [mr, default]
    assert [rule["if"] for rule in pipeline["plan"]["rules"]] == [mr]
    assert [rule["if"] for rule in pipeline["validate"]["rules"]] == [mr]
    assert [rule["if"] for rule in pipeline["apply"]["rules"]] == [default]
    assert [
        shell_commands(line)[0] for line in pipeline["apply"]["script"] if not line.startswith("#")
    ] == [
        ("plan", "-o", "plan.json", "-r", "$MANIFESTS"),
        ("apply", "plan.json"),
    ]
    assert pipeline["apply"]["resource_group"]
    assert set(pipeline["plan"]["artifacts"]["paths"]) == {"plan.md", "plan.json"}
    assert pipeline["plan"]["artifacts"]["when"] == "always"
    assert pipeline["plan"]["extends"] == pipeline["apply"]["extends"] == ".cloud"


def test_the_gitlab_clouds_yaml_is_a_0600_file_outside_the_project_removed_after(
    tmp_path: Path, fake_bin: Path
) -> None:
    cloud = gitlab_pipeline()[".cloud"]
    assert (
        cloud["variables"]["OS_CLIENT_CONFIG_FILE"] == "/tmp/glance-catalog-$CI_JOB_ID/clouds.yaml"
    )
    source = tmp_path / "CLOUDS_YAML"  # a File variable: its value is the file's path
    source.write_text("clouds:\n  production: {}\n")
    target = tmp_path / "glance-catalog-42" / "clouds.yaml"
    env = {"CLOUDS_YAML": str(source), "OS_CLIENT_CONFIG_FILE": str(target)}
    setup = "\n".join(line for line in cloud["before_script"] if "pip install" not in line)
    assert run_bash(setup, tmp_path, fake_bin, env, exit_code=0, stdout="").returncode == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert stat.S_IMODE(target.parent.stat().st_mode) == 0o700
    assert target.read_text() == source.read_text()
    cleanup = "\n".join(cloud["after_script"])
    assert run_bash(cleanup, tmp_path, fake_bin, env, exit_code=0, stdout="").returncode == 0
    assert not target.parent.exists()


def test_the_gitlab_validate_job_writes_a_code_quality_report_and_fails(
    tmp_path: Path, fake_bin: Path
) -> None:
    script = "\n".join(gitlab_pipeline()["validate"]["script"])
    assert gitlab_pipeline()["validate"]["artifacts"]["reports"]["codequality"] == (
        "gl-code-quality-report.json"
    )
    env = dict(gitlab_pipeline()["variables"])
    result = run_bash(script, tmp_path, fake_bin, env, exit_code=1, stdout=json.dumps(INVALID))
    assert result.returncode == 1
    (entry,) = json.loads((tmp_path / "gl-code-quality-report.json").read_text())
    assert entry["location"] == {"path": "catalog/ubuntu.yaml", "lines": {"begin": 4}}
    assert entry["description"].endswith("(hint: use qcow2)")
    valid = run_bash(script, tmp_path, fake_bin, env, exit_code=0, stdout='{"valid": true}')
    assert valid.returncode == 0
    assert json.loads((tmp_path / "gl-code-quality-report.json").read_text()) == []


@pytest.mark.parametrize(("code", "passes"), [(0, True), (2, True), (1, False), (3, False)])
def test_the_gitlab_plan_job_passes_on_exit_0_and_2_only(
    tmp_path: Path, fake_bin: Path, code: int, passes: bool
) -> None:
    script = "\n".join(gitlab_pipeline()["plan"]["script"])
    env = dict(gitlab_pipeline()["variables"])  # no GITLAB_API_TOKEN: no note
    result = run_bash(script, tmp_path, fake_bin, env, exit_code=code, stdout=PLAN_MARKDOWN)
    assert (result.returncode == 0) is passes, result
    assert (tmp_path / "plan.md").read_text() == PLAN_MARKDOWN
    assert (tmp_path / "fake-args").read_text().split() == [
        "plan",
        "--format",
        "markdown",
        "--detailed-exitcode",
        "-o",
        "plan.json",
        "-r",
        "catalog",
    ]


@contextmanager
def fake_gitlab(pages: list[list[dict[str, Any]]]) -> Iterator[tuple[str, list[Any]]]:
    """A GitLab notes API on 127.0.0.1 serving ``pages`` of notes; yields its v4 URL and the
    requests it got (method, path, token, JSON body)."""
    requests: list[Any] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self, body: Any, next_page: str = "") -> None:
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("X-Next-Page", next_page)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            requests.append(("GET", self.path, self.headers["PRIVATE-TOKEN"], None))
            page = int(re.search(r"[?&]page=(\d+)", self.path).group(1))  # type: ignore[union-attr]
            self._answer(pages[page - 1], str(page + 1) if page < len(pages) else "")

        def _write(self) -> None:
            length = int(self.headers["Content-Length"])
            body = json.loads(self.rfile.read(length))
            requests.append((self.command, self.path, self.headers["PRIVATE-TOKEN"], body))
            self._answer({"id": 99, **body})

        do_PUT = do_POST = _write

        def log_message(self, *_: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/v4", requests
    finally:
        server.shutdown()
        server.server_close()


def _run_gitlab_plan(
    tmp_path: Path, fake_bin: Path, api: str, code: int
) -> subprocess.CompletedProcess[str]:
    env = {
        **gitlab_pipeline()["variables"],
        "GITLAB_API_TOKEN": "glpat-test",
        "CI_API_V4_URL": api,
        "CI_PROJECT_ID": "12",
        "CI_MERGE_REQUEST_IID": "5",
    }
    script = "\n".join(gitlab_pipeline()["plan"]["script"])
    return run_bash(script, tmp_path, fake_bin, env, exit_code=code, stdout=PLAN_MARKDOWN)


NOTES = "/api/v4/projects/12/merge_requests/5/notes"


def test_the_gitlab_note_updates_the_one_with_the_marker_on_any_page(
    tmp_path: Path, fake_bin: Path
) -> None:
    pages = [
        [{"id": 1, "body": "LGTM"}, {"id": 2, "body": "<!-- glance-catalog plan: x -->\n"}],
        [{"id": 3, "body": PLAN_MARKDOWN.replace("1 to", "2 to")}],
    ]
    with fake_gitlab(pages) as (api, requests):
        result = _run_gitlab_plan(tmp_path, fake_bin, api, code=2)
    assert result.returncode == 0, result
    assert requests == [
        ("GET", f"{NOTES}?sort=asc&per_page=100&page=1", "glpat-test", None),
        ("GET", f"{NOTES}?sort=asc&per_page=100&page=2", "glpat-test", None),
        ("PUT", f"{NOTES}/3", "glpat-test", {"body": PLAN_MARKDOWN}),
    ]


def test_the_gitlab_note_is_posted_when_there_is_none_even_for_a_failed_plan(
    tmp_path: Path, fake_bin: Path
) -> None:
    with fake_gitlab([[{"id": 1, "body": "LGTM"}]]) as (api, requests):
        result = _run_gitlab_plan(tmp_path, fake_bin, api, code=1)
    assert result.returncode == 1
    assert requests[-1] == ("POST", NOTES, "glpat-test", {"body": PLAN_MARKDOWN})


def test_a_gitlab_api_that_cannot_be_reached_fails_the_job_in_one_line(
    tmp_path: Path, fake_bin: Path
) -> None:
    result = _run_gitlab_plan(tmp_path, fake_bin, "http://127.0.0.1:9/api/v4", code=0)
    assert result.returncode == 1
    assert "cannot post the plan as a merge request note: " in result.stderr
    assert "Traceback" not in result.stderr and "glpat-test" not in result.stderr


# Kubernetes and systemd


def cronjobs() -> dict[str, dict[str, Any]]:
    jobs = {}
    for path in sorted((CI / "kubernetes").glob("*.yaml")):
        for document in load_yaml(path):
            if document["kind"] == "CronJob":
                jobs[document["metadata"]["name"]] = document
    assert set(jobs) == {"glance-catalog-drift", "glance-catalog-apply"}
    return jobs


@pytest.mark.parametrize(
    ("name", "schedule"),
    [
        ("glance-catalog-drift", r"\d+ \* \* \* \*"),  # hourly
        ("glance-catalog-apply", r"\d+ \d+ \* \* \*"),  # nightly
    ],
)
def test_the_cronjobs_never_overlap_retry_a_little_and_run_as_non_root_read_only(
    name: str, schedule: str
) -> None:
    cronjob = cronjobs()[name]
    assert cronjob["apiVersion"] == "batch/v1"
    spec = cronjob["spec"]
    assert re.fullmatch(schedule, spec["schedule"])
    assert spec["concurrencyPolicy"] == "Forbid"
    job = spec["jobTemplate"]["spec"]
    assert isinstance(job["backoffLimit"], int) and 0 < job["backoffLimit"] <= 3
    assert job["activeDeadlineSeconds"] > 0
    pod = job["template"]["spec"]
    assert pod["restartPolicy"] == "Never"  # needed by podFailurePolicy
    assert pod["automountServiceAccountToken"] is False
    security = pod["securityContext"]
    assert security["runAsNonRoot"] is True and security["runAsUser"] == 10001
    for container in pod.get("initContainers", []) + pod["containers"]:
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] is True, container["name"]
        assert context["allowPrivilegeEscalation"] is False, container["name"]
        assert context["capabilities"]["drop"] == ["ALL"], container["name"]
        assert {"cpu", "memory"} <= set(container["resources"]["requests"]), container["name"]
        assert {"cpu", "memory"} <= set(container["resources"]["limits"]), container["name"]
    (main,) = pod["containers"]
    env = {item["name"]: item["value"] for item in main["env"]}
    mounts = {mount["name"]: mount for mount in main["volumeMounts"]}
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    clouds = mounts["clouds"]
    assert clouds["readOnly"] is True
    assert env["OS_CLIENT_CONFIG_FILE"] == clouds["mountPath"] + "/clouds.yaml"
    assert volumes["clouds"]["secret"]["items"] == [{"key": "clouds.yaml", "path": "clouds.yaml"}]
    assert volumes["clouds"]["secret"]["defaultMode"] == 0o440
    assert mounts["git"]["readOnly"] is True
    assert mounts["tmp"]["mountPath"] == "/tmp"  # crash logs, gpgv's keyring folder
    assert "--log-format" in main["args"]


def test_a_drifted_catalog_fails_the_drift_job_at_once_and_errors_are_retried() -> None:
    rules = cronjobs()["glance-catalog-drift"]["spec"]["jobTemplate"]["spec"]["podFailurePolicy"]
    (rule,) = rules["rules"]
    assert rule["action"] == "FailJob"
    assert rule["onExitCodes"] == {
        "containerName": "glance-catalog",
        "operator": "In",
        "values": [2, 3],
    }
    apply_rules = cronjobs()["glance-catalog-apply"]["spec"]["jobTemplate"]["spec"][
        "podFailurePolicy"
    ]
    assert apply_rules["rules"][0]["onExitCodes"]["values"] == [3]


def units() -> dict[str, dict[str, list[tuple[str, str]]]]:
    return {path.name: parse_unit(path) for path in sorted((CI / "systemd").iterdir())}


@pytest.mark.parametrize("kind", ["drift", "apply"])
def test_the_systemd_services_are_hardened_oneshots_as_a_dedicated_user(kind: str) -> None:
    service = units()[f"glance-catalog-{kind}.service"]

    def one(key: str) -> str:
        (value,) = unit_values(service, "Service", key)
        return value

    assert one("Type") == "oneshot"
    assert one("User") == "glance-catalog" and one("Group") == "glance-catalog"
    environment = dict(v.split("=", 1) for v in unit_values(service, "Service", "Environment"))
    assert environment["OS_CLIENT_CONFIG_FILE"] == "%d/clouds.yaml"
    assert one("LoadCredential") == "clouds.yaml:/etc/glance-catalog/clouds.yaml"
    for key, value in {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "PrivateDevices": "yes",
        "RestrictSUIDSGID": "yes",
        "CapabilityBoundingSet": "",
        "UMask": "0077",
    }.items():
        assert one(key) == value, key
    assert one("TimeoutStartSec")
    success = " ".join(unit_values(service, "Service", "SuccessExitStatus")).split()
    # drift: exit 2 (drifted) is a successful check; apply never exits 2.
    assert success == (["2"] if kind == "drift" else [])


@pytest.mark.parametrize(
    ("kind", "calendar"), [("drift", "*-*-* *:17:00"), ("apply", "*-*-* 02:30:00")]
)
def test_the_systemd_timers_start_their_service(kind: str, calendar: str) -> None:
    timer = units()[f"glance-catalog-{kind}.timer"]
    assert unit_values(timer, "Timer", "OnCalendar") == [calendar]
    assert unit_values(timer, "Timer", "Unit") == [f"glance-catalog-{kind}.service"]
    assert unit_values(timer, "Install", "WantedBy") == ["timers.target"]


def test_systemd_analyze_accepts_the_units(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    for path in (CI / "systemd").iterdir():
        # verify wants the programs run to exist: a real one stands in for each.
        text = path.read_text()
        for program in ("/opt/glance-catalog/bin/glance-catalog", "/usr/bin/git"):
            text = text.replace(program, "/bin/sh")
        (tmp_path / path.name).write_text(text)
    result = subprocess.run(
        [analyze, "verify", *sorted(str(p) for p in tmp_path.iterdir())],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr
