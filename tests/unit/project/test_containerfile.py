"""The Containerfile: a build stage that makes the wheel, a python:3.11-slim runtime that
installs only the wheels (and gpgv) and runs glance-catalog as uid 10001, nothing secret in
it or in its build context. No container engine is needed: the file is read here, and
tests/functional/test_packaging.py builds and installs the wheel from what it copies."""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
CONTAINERFILE = REPO / "Containerfile"


@dataclass
class Stage:
    image: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [rest for word, rest in self.instructions if word == keyword]


def parse_containerfile(path: Path = CONTAINERFILE) -> list[Stage]:
    """The stages of a Containerfile, each with its instructions (keyword upper-cased, the
    rest with continuation lines joined); comments and parser directives dropped."""
    stages: list[Stage] = []
    pending = ""
    for raw in path.read_text().splitlines():
        stripped = raw.strip()
        if stripped.startswith("#") or not stripped:
            continue
        line = pending + stripped
        if line.endswith("\\"):
            pending = line[:-1].rstrip() + " "
            continue
        pending = ""
        keyword, _, rest = line.partition(" ")
        keyword, rest = keyword.upper(), rest.strip()
        if keyword == "FROM":
            words = rest.split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(words[0], name))
        else:
            assert stages, f"{keyword} before the first FROM"
            stages[-1].instructions.append((keyword, rest))
    return stages


def copied_sources(stage: Stage) -> list[tuple[str, str]]:
    """(source in the build context, destination) of each plain COPY of the stage."""
    pairs = []
    for rest in stage.all("COPY"):
        words = shlex.split(rest)
        assert not any(w.startswith("--from") for w in words), "COPY --from is not expected"
        *sources, destination = words
        pairs.extend((source, destination) for source in sources)
    return pairs


def ignored(path: str, patterns: list[str]) -> bool:
    """Whether a build context path is left out by .containerignore patterns, as Docker and
    Buildah read them: patterns are anchored at the context's root, ``**/`` matches any
    number of folders, a pattern matching a parent folder leaves out what is in it, and the
    last matching pattern decides (``!`` takes back in)."""
    parts = path.strip("/").split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    verdict = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        glob = pattern.lstrip("!").strip("/")
        if glob.startswith("**/"):
            tails = {"/".join(p.split("/")[i:]) for p in prefixes for i in range(len(p.split("/")))}
            matched = any(fnmatch.fnmatchcase(tail, glob[3:]) for tail in tails)
        else:
            matched = any(fnmatch.fnmatchcase(prefix, glob) for prefix in prefixes)
        if matched:
            verdict = not negated
    return verdict


def ignore_patterns(name: str = ".containerignore") -> list[str]:
    lines = (REPO / name).read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def test_two_stages_on_python_3_11_slim_the_first_building_the_wheel() -> None:
    build, runtime = parse_containerfile()
    assert (build.image, build.name) == ("python:3.11-slim", "build")
    assert (runtime.image, runtime.name) == ("python:3.11-slim", None)
    (run,) = build.all("RUN")
    assert "pip wheel --no-deps --wheel-dir /wheels ." in run
    assert "--constraint constraints.txt /wheels/glance_catalog-*.whl" in run
    assert ("tests/constraints.txt", "./constraints.txt") in copied_sources(build)


def test_the_runtime_installs_only_the_wheels_and_gpgv() -> None:
    _, runtime = parse_containerfile()
    assert runtime.all("COPY") == [] and runtime.all("ADD") == []  # no source tree
    runs = runtime.all("RUN")
    (install,) = [run for run in runs if "pip install" in run]
    assert install.startswith("--mount=type=bind,from=build,source=/wheels,target=/wheels ")
    assert "pip install --no-index --find-links /wheels glance-catalog" in install
    (apt,) = [run for run in runs if "apt-get install" in run]
    assert re.search(r"apt-get install --yes --no-install-recommends gpgv\b", apt)
    assert "rm -rf /var/lib/apt/lists/*" in apt
    # The binary signature checks look for.
    assert 'shutil.which("gpgv")' in (REPO / "reconciler" / "sources" / "signatures.py").read_text()


def test_the_runtime_runs_glance_catalog_as_uid_10001_in_a_workdir() -> None:
    _, runtime = parse_containerfile()
    keywords = [keyword for keyword, _ in runtime.instructions]
    assert runtime.all("USER") == ["10001:10001"]
    assert keywords.index("USER") > max(i for i, k in enumerate(keywords) if k == "RUN")
    (useradd,) = [run for run in runtime.all("RUN") if "useradd" in run]
    assert "--uid 10001" in useradd and "--gid 10001" in useradd
    assert runtime.all("WORKDIR") == ["/catalog"]
    assert [json.loads(e) for e in runtime.all("ENTRYPOINT")] == [["glance-catalog"]]
    assert [json.loads(c) for c in runtime.all("CMD")] == [["--help"]]


def test_no_credentials_are_baked_in() -> None:
    text = CONTAINERFILE.read_text()
    for stage in parse_containerfile():
        for keyword in ("ENV", "ARG"):
            for rest in stage.all(keyword):
                assert not re.search(r"PASSWORD|TOKEN|SECRET|CREDENTIAL|OS_", rest, re.I), rest
        for source, _ in copied_sources(stage):
            assert "clouds" not in source and "secure" not in source
    assert "clouds.yaml" not in " ".join(
        rest for s in parse_containerfile() for _, rest in s.instructions
    )
    assert "OS_CLIENT_CONFIG_FILE" in text  # only in the comment telling how to mount one


def test_the_build_context_keeps_out_the_checkouts_clutter_and_any_clouds_yaml() -> None:
    patterns = ignore_patterns()
    assert (REPO / ".dockerignore").read_text() == (REPO / ".containerignore").read_text()
    for path in (
        ".venv",
        ".venv/bin/python",
        ".venv-3.13/bin/python",
        ".venv-oldest",
        ".local",
        ".git",
        ".git/config",
        "tests/unit",
        "examples/images/cirros-0.6.2.qcow2",
        "reconciler/__pycache__/cli.cpython-311.pyc",
        "clouds.yaml",
        "catalog/secure.yaml",
        ".mypy_cache",
    ):
        assert ignored(path, patterns), path
    (build, _) = parse_containerfile()
    for source, _ in copied_sources(build):
        assert (REPO / source).exists(), source
        assert not ignored(source, patterns), source
